/**
 * The pod's own IPC and UTS namespaces: created fresh when the pod starts and bind-mounted on
 * files under <runroot>/pods/<id>/ns/ (as `ip netns add` does for networks), so the infra and
 * every container join the same ones by path, whatever happens to the infra process. The UTS
 * namespace gets the pod's hostname. The network namespace is the infra's (src/network).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { podRunDir } from './store.js';
import type { PodRecord, ShareKind } from './types.js';
import { runProc } from '../runtime/proc.js';

export type PodNsKind = 'ipc' | 'uts';
const OWN_KINDS: PodNsKind[] = ['ipc', 'uts'];

export function podNsPath(paths: StoragePaths, podId: string, kind: PodNsKind): string {
  return path.join(podRunDir(paths, podId), 'ns', kind);
}

export function ownNsKinds(share: ShareKind[]): PodNsKind[] {
  return OWN_KINDS.filter((k) => share.includes(k));
}

function isMountPoint(file: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  const escaped = file.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === escaped);
}

/** True when every namespace the pod shares is present (bind-mounted). */
export function podNamespacesReady(paths: StoragePaths, pod: PodRecord): boolean {
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return ownNsKinds(pod.share).every((k) => isMountPoint(podNsPath(paths, pod.id, k), mountinfo));
}

/** Creates the pod's namespaces (those it shares and that are missing). Undoes itself on failure. */
export async function createPodNamespaces(paths: StoragePaths, pod: PodRecord): Promise<void> {
  const kinds = ownNsKinds(pod.share);
  if (kinds.length === 0 || podNamespacesReady(paths, pod)) return;
  await removePodNamespaces(paths, pod.id);
  const dir = path.join(podRunDir(paths, pod.id), 'ns');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const k of kinds) fs.writeFileSync(podNsPath(paths, pod.id, k), '', { mode: 0o444 });
  const flags = kinds.map((k) => `--${k}=${podNsPath(paths, pod.id, k)}`);
  // Setting the hostname needs a command run inside the new UTS namespace; `true` otherwise.
  const command = kinds.includes('uts') ? ['hostname', pod.hostname] : ['true'];
  const result = await runProc('unshare', [...flags, ...command]);
  if (result.exitCode !== 0) {
    await removePodNamespaces(paths, pod.id).catch(() => undefined);
    throw new PodError('pod-namespaces', `cannot create the namespaces of pod ${pod.name}: ${String(result.stderr).trim() || `unshare exited with ${result.exitCode}`}`, { context: { pod: pod.name } });
  }
}

/** Unmounts and deletes the namespace files; idempotent. */
export async function removePodNamespaces(paths: StoragePaths, podId: string): Promise<void> {
  for (const k of OWN_KINDS) {
    const file = podNsPath(paths, podId, k);
    if (isMountPoint(file)) {
      const r = await runProc('umount', [file]);
      if (r.exitCode !== 0 && isMountPoint(file)) await runProc('umount', ['-l', file]);
    }
    fs.rmSync(file, { force: true });
  }
}
