/**
 * Where pods live on disk:
 *   <root>/pods/<id>/pod.json         the persistent record
 *   <root>/pods/infra-rootfs/<hash>/  the minimal infra root file system (infra.ts)
 *   <runroot>/pods/<id>/ns/{ipc,uts}  the pod's own namespaces (bind-mounted ns files, ns.ts)
 *   <runroot>/pods/.locks/            cross-process locks ("names" for create/rm, "pod-<id>" per pod)
 * Writes are atomic (temp + rename).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { PodError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { withFileLock, writeJsonAtomic } from '../network/index.js';
import type { PodRecord } from './types.js';

export const podsDir = (paths: StoragePaths): string => path.join(paths.root, 'pods');
export const podDir = (paths: StoragePaths, id: string): string => path.join(paths.root, 'pods', id);
export const podRunDir = (paths: StoragePaths, id: string): string => path.join(paths.runroot, 'pods', id);
const locksDir = (paths: StoragePaths): string => path.join(paths.runroot, 'pods', '.locks');

export function newPodId(): string { return crypto.randomBytes(32).toString('hex'); }

export function readPod(paths: StoragePaths, id: string): PodRecord | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(podDir(paths, id), 'pod.json'), 'utf8')) as PodRecord; } catch { return undefined; }
}

export async function writePod(paths: StoragePaths, pod: PodRecord): Promise<void> {
  await writeJsonAtomic(path.join(podDir(paths, pod.id), 'pod.json'), pod);
}

export function removePodDirs(paths: StoragePaths, id: string): void {
  fs.rmSync(podRunDir(paths, id), { recursive: true, force: true });
  fs.rmSync(podDir(paths, id), { recursive: true, force: true });
}

export function listPods(paths: StoragePaths): PodRecord[] {
  let ids: string[];
  try { ids = fs.readdirSync(podsDir(paths)); } catch { return []; }
  return ids.filter((id) => /^[0-9a-f]{64}$/.test(id)).flatMap((id) => {
    const pod = readPod(paths, id);
    return pod ? [pod] : [];
  }).sort((a, b) => a.created.localeCompare(b.created));
}

/** Podman's lookup order: full id, exact name, then a unique id prefix. */
export function findPod(paths: StoragePaths, nameOrId: string): PodRecord | undefined {
  if (/^[0-9a-f]{64}$/.test(nameOrId)) { const p = readPod(paths, nameOrId); if (p) return p; }
  const all = listPods(paths);
  const byName = all.find((p) => p.name === nameOrId);
  if (byName) return byName;
  if (/^[0-9a-f]{3,63}$/.test(nameOrId)) {
    const matches = all.filter((p) => p.id.startsWith(nameOrId));
    if (matches.length > 1) throw new PodError('ambiguous-pod', `more than one pod matches ${nameOrId}`, { context: { pod: nameOrId } });
    return matches[0];
  }
  return undefined;
}

export function requirePod(paths: StoragePaths, nameOrId: string): PodRecord {
  const pod = findPod(paths, nameOrId);
  if (!pod) throw new PodError('no-such-pod', `no pod with name or ID "${nameOrId}" found: no such pod`, { context: { pod: nameOrId }, exitCode: 1 });
  return pod;
}

/** Serialises pod creation and removal (the name check and the record write are one step). */
export function withPodNamesLock<T>(paths: StoragePaths, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(locksDir(paths), 'names.lock'), fn);
}

/** Serialises start/stop/rm of one pod. */
export function withPodLock<T>(paths: StoragePaths, id: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(locksDir(paths), `pod-${id}.lock`), fn, { timeoutMs: 120_000 });
}
