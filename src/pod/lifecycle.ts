/**
 * Pod lifecycle: create (record + infra container, nothing started), start (the pod's namespaces,
 * the infra, then its containers), stop (containers, then the infra, then the namespaces),
 * remove, and the exit policy. Creation and removal hold the pod names lock; start/stop/rm of
 * one pod hold that pod's lock. The pod never stores a status: containers' states are the truth.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PodError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { netnsPathFor, parseNetworkOption } from '../network/index.js';
import {
  containerState, createContainer, listRecords, lookupContainer, removeContainer, startContainer, stopContainer,
  type ContainerRecord, type RuntimeImage,
} from '../runtime/index.js';
import { defaultInfraName, infraOptions, INFRA_IMAGE_NAME, minimalInfraImage } from './infra.js';
import { createPodNamespaces, removePodNamespaces } from './ns.js';
import { validatePodOptions } from './options.js';
import { listPods, newPodId, readPod, removePodDirs, withPodLock, withPodNamesLock, writePod } from './store.js';
import type { PodNetwork } from './join.js';
import type { PodOptions, PodRecord } from './types.js';

export interface CreatePodRequest {
  options: PodOptions;
  replace: boolean;
  infraImage?: { image: RuntimeImage; name: string };   // --infra-image, resolved by the caller
  env?: NodeJS.ProcessEnv;
}

/** Write a file atomically (pid files, id files: systemd may read them at any moment). */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

const underSystemd = (env: NodeJS.ProcessEnv): boolean => Boolean(env.INVOCATION_ID || env.PODMAN_SYSTEMD_UNIT);

/**
 * Creates the pod record and its (not started) infra container. A name clash (with a pod or a
 * container) fails before anything is made; any later failure removes what was made.
 */
export async function createPod(paths: StoragePaths, req: CreatePodRequest): Promise<PodRecord> {
  const o = req.options;
  const env = req.env ?? process.env;
  validatePodOptions(o);
  const image = o.infra ? req.infraImage?.image ?? minimalInfraImage(paths) : undefined;
  return withPodNamesLock(paths, async () => {
    if (o.name !== undefined) {
      const existing = listPods(paths).find((p) => p.name === o.name);
      if (existing && !req.replace) {
        throw new PodError('pod-exists', `pod name "${o.name}" is already in use by pod ${existing.id.slice(0, 12)}: remove that pod (berth pod rm ${o.name}) or use --replace`, { context: { pod: o.name } });
      }
      const container = listRecords(paths).find((r) => r.name === o.name);
      if (container) {
        throw new PodError('name-in-use', `the name "${o.name}" is already in use by container ${container.id.slice(0, 12)}: pods and containers cannot share a name`, { context: { pod: o.name, container: container.name } });
      }
      if (existing) await removePodLocked(paths, existing, { force: true });
    }
    const id = newPodId();
    const name = o.name ?? `pod-${id.slice(0, 12)}`;
    const pod: PodRecord = {
      id, name, created: new Date().toISOString(), hostname: o.hostname ?? name, labels: o.labels,
      share: o.infra ? o.share : [], exitPolicy: o.exitPolicy, publish: o.publish, network: o.network, volumes: o.volumes,
      infraConmonPidfile: o.infraConmonPidfile, podIdFile: o.podIdFile,
    };
    let infra: ContainerRecord | undefined;
    try {
      if (image) {
        const spec = {
          name: o.infraName ?? defaultInfraName(id), imageName: req.infraImage?.name ?? INFRA_IMAGE_NAME, withImage: Boolean(req.infraImage),
          command: o.infraCommand, underSystemd: underSystemd(env), systemdUnit: env.PODMAN_SYSTEMD_UNIT || undefined,
          dns: { dns: o.dns, dnsSearch: o.dnsSearch, dnsOptions: o.dnsOptions, addHosts: o.addHosts },
        };
        infra = await createContainer(paths, { options: infraOptions(paths, pod, spec), image, imageName: spec.imageName, replace: false });
        pod.infraId = infra.id;
      }
      await writePod(paths, pod);
      if (o.podIdFile) writeFileAtomic(o.podIdFile, `${id}\n`);
      return pod;
    } catch (error) {
      if (infra) await removeContainer(paths, infra, { force: true, timeout: 0 }).catch(() => undefined);
      removePodDirs(paths, id);
      throw error;
    }
  });
}

/** The pod's containers, the infra excluded, oldest first. */
export function podContainers(paths: StoragePaths, pod: PodRecord): ContainerRecord[] {
  return listRecords(paths).filter((r) => r.options.pod === pod.id && r.id !== pod.infraId);
}

export function infraRecord(paths: StoragePaths, pod: PodRecord): ContainerRecord | undefined {
  return pod.infraId ? lookupContainer(paths, pod.infraId) : undefined;
}

const isRunning = (paths: StoragePaths, r: ContainerRecord): boolean => containerState(paths, r).status === 'running';

/** Where containers of the pod find its network: the infra's namespace (by path), or the host's. */
export function podNetwork(paths: StoragePaths, pod: PodRecord): PodNetwork {
  if (!pod.infraId || !pod.share.includes('net')) return undefined;
  const mode = pod.network.length ? parseNetworkOption(pod.network) : undefined;
  if (mode?.kind === 'host') return { kind: 'host' };
  if (mode?.kind === 'ns') return { kind: 'ns', path: mode.path };
  return { kind: 'ns', path: netnsPathFor(paths, pod.infraId) };
}

/** Namespaces, then the infra (if not running); the infra's PID goes to --infra-conmon-pidfile. */
async function startInfraLocked(paths: StoragePaths, pod: PodRecord, env: NodeJS.ProcessEnv): Promise<void> {
  if (!pod.infraId) return;
  const infra = infraRecord(paths, pod);
  if (!infra) throw new PodError('infra-missing', `the infra container of pod ${pod.name} (${pod.infraId.slice(0, 12)}) is gone: remove the pod and create it again`, { context: { pod: pod.name } });
  const state = containerState(paths, infra);
  let pid = state.status === 'running' ? state.pid : undefined;
  if (!pid) {
    await createPodNamespaces(paths, pod);
    try {
      const rest = { ...env };
      delete rest.NOTIFY_SOCKET;
      pid = (await startContainer(paths, infra, 'detached', rest)).pid;
    } catch (error) {
      await removePodNamespaces(paths, pod.id).catch(() => undefined);
      throw error;
    }
  }
  if (pod.infraConmonPidfile) writeFileAtomic(pod.infraConmonPidfile, `${pid}\n`);
}

/** For `run --pod`: the infra must run before a container can join its namespaces. */
export async function ensurePodInfra(paths: StoragePaths, pod: PodRecord, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await withPodLock(paths, pod.id, () => startInfraLocked(paths, pod, env));
}

export interface PodActionResult { pod: PodRecord; errors: { container: string; error: unknown }[] }

/** Starts the infra, then every container of the pod that is not running (Podman's order). */
export async function startPod(paths: StoragePaths, pod: PodRecord, env: NodeJS.ProcessEnv = process.env): Promise<PodActionResult> {
  return withPodLock(paths, pod.id, async () => {
    await startInfraLocked(paths, pod, env);
    const errors: PodActionResult['errors'] = [];
    for (const r of podContainers(paths, pod)) {
      if (isRunning(paths, r)) continue;
      try { await startContainer(paths, r, 'detached', env); } catch (error) { errors.push({ container: r.name, error }); }
    }
    return { pod, errors };
  });
}

async function stopPodLocked(paths: StoragePaths, pod: PodRecord, timeout?: number): Promise<PodActionResult['errors']> {
  const errors: PodActionResult['errors'] = [];
  await Promise.all(podContainers(paths, pod).map(async (r) => {
    try { await stopContainer(paths, r, timeout); } catch (error) { errors.push({ container: r.name, error }); }
  }));
  const infra = infraRecord(paths, pod);
  if (infra) {
    try { await stopContainer(paths, infra, timeout); } catch (error) { errors.push({ container: infra.name, error }); }
  }
  if (errors.length === 0) await removePodNamespaces(paths, pod.id);
  return errors;
}

/** Stops the containers (in parallel), then the infra, then drops the pod's namespaces. */
export async function stopPod(paths: StoragePaths, pod: PodRecord, timeout?: number): Promise<PodActionResult> {
  return withPodLock(paths, pod.id, async () => ({ pod, errors: await stopPodLocked(paths, pod, timeout) }));
}

export async function restartPod(paths: StoragePaths, pod: PodRecord, env: NodeJS.ProcessEnv = process.env): Promise<PodActionResult> {
  const stopped = await stopPod(paths, pod);
  if (stopped.errors.length) return stopped;
  return startPod(paths, pod, env);
}

export interface RemovePodOptions { force?: boolean; timeout?: number }

async function removePodLocked(paths: StoragePaths, pod: PodRecord, opts: RemovePodOptions): Promise<void> {
  await withPodLock(paths, pod.id, async () => {
    const containers = podContainers(paths, pod);
    const running = containers.filter((r) => isRunning(paths, r));
    if (running.length && !opts.force) {
      throw new PodError('pod-running', `pod ${pod.name} has running containers (${running.map((r) => r.name).join(', ')}): stop the pod first or use --force`, { context: { pod: pod.name }, exitCode: 2 });
    }
    for (const r of containers) await removeContainer(paths, r, { force: true, timeout: opts.timeout });
    const infra = infraRecord(paths, pod);
    if (infra) await removeContainer(paths, infra, { force: true, timeout: opts.timeout });
    await removePodNamespaces(paths, pod.id);
    removePodDirs(paths, pod.id);
  });
}

/** Removes the pod's containers, its infra, its namespaces and its record. */
export async function removePod(paths: StoragePaths, pod: PodRecord, opts: RemovePodOptions = {}): Promise<void> {
  await withPodNamesLock(paths, () => removePodLocked(paths, pod, opts));
}

/**
 * --exit-policy=stop: once the last container of the pod is gone (exited or removed), the pod
 * stops (its infra exits: under systemd the pod unit's main process ends, so the unit stops).
 * Call after a container of a pod stopped or was removed; a no-op otherwise.
 */
export async function applyExitPolicy(paths: StoragePaths, container: { id: string; options: { pod?: string } }): Promise<boolean> {
  const podId = container.options.pod;
  if (!podId) return false;
  const pod = readPod(paths, podId);
  if (!pod || pod.exitPolicy !== 'stop' || !pod.infraId || container.id === pod.infraId) return false;
  const othersRunning = (): boolean => podContainers(paths, pod).some((r) => r.id !== container.id && isRunning(paths, r));
  if (othersRunning()) return false;
  const infra = infraRecord(paths, pod);
  if (!infra || !isRunning(paths, infra)) return false;
  return withPodLock(paths, pod.id, async () => {
    if (othersRunning()) return false;
    await stopContainer(paths, infra);
    await removePodNamespaces(paths, pod.id);
    return true;
  });
}
