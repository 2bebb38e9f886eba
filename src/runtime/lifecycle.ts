/**
 * Container lifecycle: create, start (three ways, see launch.ts), stop, kill, remove, wait, and
 * the cleanup that runs after a container's process is gone. Every operation on one container
 * holds that container's lock; create holds the names lock. Remove is idempotent and works from
 * whatever a crash left: each undo step checks the world, not just the recorded state.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { networkStateExists, teardownContainerNetwork } from '../network/index.js';
import type { ContainerOptions, ContainerRecord, RunState, RuntimeImage } from './types.js';
import {
  bootId, containerDir, containerRunDir, containersDir, listRecords, newContainerId, processAlive, readExitCode,
  readState, removeContainerDirsSoon, withLock, writeRecord, writeState, findRecord,
} from './state.js';
import { isMounted, rootfsDirs, unmountRootfs } from './rootfs.js';
import { crunDelete, crunKill, type CrunContext } from './crun.js';
import { parseSignal } from './signals.js';
import { generateName, NAME_PATTERN } from './names.js';
import { cgroupViewInUserNamespace, ownCgroup, removeCgroup, containerCgroupPath, rootlessCgroupMode } from './cgroups.js';
import { assignAnonymousVolumes, removeAnonymousVolumes } from './volumes.js';
import { warnOnce } from './host.js';
import { removeInUserNamespace, signalFromHost } from './userns.js';
import { disarmHealthChecks } from './health-timer.js';

export const DEFAULT_STOP_TIMEOUT = 10;

export function crunContext(paths: StoragePaths, record?: ContainerRecord): CrunContext {
  return { paths, cgroupManager: record?.options.cgroups === 'disabled' ? 'disabled' : 'cgroupfs' };
}

const locksDir = (paths: StoragePaths): string => path.join(paths.runroot, 'locks');
export function withContainerLock<T>(paths: StoragePaths, id: string, fn: () => Promise<T>): Promise<T> {
  return withLock(locksDir(paths), `container-${id}`, fn);
}

export interface CreateRequest { options: ContainerOptions; image: RuntimeImage; imageName: string; replace: boolean }

export async function createContainer(paths: StoragePaths, req: CreateRequest): Promise<ContainerRecord> {
  // Rootless: cgroups only where delegated (cgroups.ts); otherwise disabled, said once.
  const hostLayout = paths.userns ? await cgroupViewInUserNamespace() : undefined;
  const rootlessCgroups = paths.rootless ? rootlessCgroupMode(req.options.cgroups, hostLayout) : undefined;
  if (rootlessCgroups?.warning) warnOnce(rootlessCgroups.warning);
  const o = rootlessCgroups ? { ...req.options, cgroups: rootlessCgroups.mode as ContainerOptions['cgroups'] } : req.options;
  if (o.name !== undefined && !NAME_PATTERN.test(o.name)) {
    throw new RuntimeError('invalid-name', `container name "${o.name}" is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`, { context: { container: o.name } });
  }
  const imageCfg = req.image.config.config ?? {};
  const stopSignal = parseSignal(o.stopSignal ?? imageCfg.StopSignal ?? 'SIGTERM').name;
  const cgroupParent = o.cgroups === 'split' ? ownCgroup() : undefined;
  return withLock(path.join(containersDir(paths), '.locks'), 'names', async () => {
    if (o.name !== undefined) {
      const existing = listRecords(paths).find((r) => r.name === o.name);
      if (existing) {
        if (!req.replace) {
          throw new RuntimeError('name-in-use', `the container name "${o.name}" is already in use by ${existing.id}. You have to remove that container to be able to reuse that name: that name is already in use`, { context: { container: o.name } });
        }
        await removeContainer(paths, existing, { force: true });
      }
    }
    const name = o.name ?? generateName(new Set(listRecords(paths).map((r) => r.name)));
    const anonymous = await assignAnonymousVolumes(paths, o.mounts, imageCfg.Volumes);
    const record: ContainerRecord = {
      id: newContainerId(),
      name,
      created: new Date().toISOString(),
      image: { id: req.image.id, digest: req.image.digest, name: req.imageName, layerDirs: req.image.layerDirs, config: req.image.config },
      options: { ...o, name, mounts: anonymous.mounts },
      stopSignal,
      stopTimeout: o.stopTimeout ?? DEFAULT_STOP_TIMEOUT,
      cgroupParent,
    };
    try {
      writeRecord(paths, record);
      writeState(paths, record.id, { status: 'created', bootId: bootId() });
    } catch (error) {
      await anonymous.undo();
      throw error;
    }
    return record;
  });
}

export function containerState(paths: StoragePaths, record: ContainerRecord): RunState {
  return readState(paths, record.id);
}

/**
 * Undo everything a start did, from the world as it is (works after a crash): crun's state, the
 * rootfs mount, the network, the container's cgroup. Keeps the record and marks it exited.
 */
export async function cleanupRuntime(paths: StoragePaths, record: ContainerRecord, state: RunState = readState(paths, record.id)): Promise<RunState> {
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<void> | void): Promise<void> => { try { await fn(); } catch (e) { errors.push(e); } };
  // The health check timer first: no check may start on a container being taken apart.
  await attempt(() => disarmHealthChecks(paths, record));
  await attempt(() => crunDelete(crunContext(paths, record), record.id));
  await attempt(() => unmountRootfs(containerDir(paths, record.id)));
  // Only when a setup began (its marker, or the network's own record after a lost state file):
  // a --network=none container (prepare.ts privateNetns) has nothing to undo.
  if (state.networkSetUp || networkStateExists(paths, record.id)) await attempt(() => teardownContainerNetwork(paths, record.id));
  await attempt(() => {
    const cg = containerCgroupPath(record.id, record.options.cgroups, record.cgroupParent);
    if (cg) removeCgroup(cg);
  });
  const exit = readExitCode(paths, record.id);
  const next: RunState = {
    status: state.status === 'created' && !state.startedAt ? 'created' : 'exited',
    bootId: bootId(),
    startedAt: state.startedAt,
    finishedAt: state.finishedAt ?? (state.startedAt ? exit?.at ?? new Date().toISOString() : undefined),
    exitCode: exit?.code ?? state.exitCode,
    supervisor: state.supervisor,
    // Keep the markers when a step failed, so the next rm tries again.
    ...(errors.length ? { mounted: state.mounted, networkSetUp: state.networkSetUp } : {}),
  };
  if (fs.existsSync(containerRunDir(paths, record.id))) writeState(paths, record.id, next);
  if (errors.length) throw errors[0];
  return next;
}

async function waitForExit(pid: number | undefined, startTime: string | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  while (processAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  return true;
}

/** Signal the container's init directly (same PID as crun's, no extra exec). */
function signalInit(state: RunState, signal: number): boolean {
  if (!state.pid || !processAlive(state.pid, state.pidStartTime)) return false;
  try { process.kill(state.pid, signal); return true; } catch { return false; }
}

/**
 * Rootless, inside berth's user namespace, a container started by another berth command lives
 * in another namespace: its non-root processes can only be signalled from the host side.
 */
async function signalContainer(paths: StoragePaths, state: RunState, signal: number): Promise<boolean> {
  if (signalInit(state, signal)) return true;
  if (!paths.userns || !state.pid || !processAlive(state.pid, state.pidStartTime)) return false;
  return signalFromHost(state.pid, signal);
}

/** StopSignal, wait StopTimeout, then SIGKILL to every process of the container; then clean up. */
export async function stopContainer(paths: StoragePaths, record: ContainerRecord, timeoutSec?: number): Promise<RunState> {
  return withContainerLock(paths, record.id, async () => stopLocked(paths, record, timeoutSec));
}

async function stopLocked(paths: StoragePaths, record: ContainerRecord, timeoutSec?: number): Promise<RunState> {
  const state = readState(paths, record.id);
  if (state.status === 'running') {
    const timeout = timeoutSec ?? record.stopTimeout;
    if (timeout > 0) await signalContainer(paths, state, parseSignal(record.stopSignal).number);
    if (!(await waitForExit(state.pid, state.pidStartTime, timeout * 1000))) {
      process.stderr.write(`Warning: StopSignal ${record.stopSignal} failed to stop container ${record.name} in ${timeout} seconds, resorting to SIGKILL\n`);
      await crunKill(crunContext(paths, record), record.id, 'KILL', true);
      await signalContainer(paths, state, 9);
      if (!(await waitForExit(state.pid, state.pidStartTime, 5000))) {
        throw new RuntimeError('stop-failed', `container ${record.name} did not exit after SIGKILL`, { context: { container: record.name } });
      }
    }
    state.status = 'exited';
    state.finishedAt = new Date().toISOString();
  }
  if (state.status === 'created' && !state.mounted && !state.networkSetUp) return state;
  return cleanupRuntime(paths, record, state);
}

export async function killContainer(paths: StoragePaths, record: ContainerRecord, signal: string): Promise<void> {
  const sig = parseSignal(signal);
  const state = readState(paths, record.id);
  if (state.status !== 'running') {
    throw new RuntimeError('not-running', `can only kill running containers. ${record.id} is in state ${state.status}: container state improper`, { context: { container: record.name } });
  }
  if (!(await signalContainer(paths, state, sig.number))) throw new RuntimeError('kill-failed', `cannot send ${sig.name} to container ${record.name}`, { context: { container: record.name } });
}

/** volumes: also its anonymous volumes (`rm -v`); a container run with --rm always does (Podman). */
export interface RemoveOptions { force?: boolean; timeout?: number; volumes?: boolean }

/** Idempotent; with force a running container is stopped first (StopSignal, timeout, SIGKILL). */
/** A removed container's anonymous volumes (`rm -v`, `--rm`), unless another container uses one. */
export async function removeContainerVolumes(paths: StoragePaths, record: ContainerRecord): Promise<void> {
  // (listRecords reads every container's record: only when there is an anonymous volume to check)
  if (record.options.mounts.some((m) => m.kind === 'volume' && m.anonymous)) await removeAnonymousVolumes(paths, record, listRecords(paths));
}

export async function removeContainer(paths: StoragePaths, record: ContainerRecord, opts: RemoveOptions = {}): Promise<void> {
  await withContainerLock(paths, record.id, async () => {
    const state = readState(paths, record.id);
    if (state.status === 'running') {
      if (!opts.force) {
        throw new RuntimeError('container-running', `cannot remove container ${record.id} as it is running - running or paused containers cannot be removed without force: container state improper`, { context: { container: record.name }, exitCode: 2 });
      }
      await stopLocked(paths, record, opts.timeout);
    }
    const now = readState(paths, record.id);
    // Already undone (e.g. `run --rm` cleaned up when the process exited): skip the crun/umount/netns calls.
    const clean = now.status !== 'running' && !now.mounted && !now.networkSetUp && !isMounted(rootfsDirs(containerDir(paths, record.id)).merged);
    if (!clean) await cleanupRuntime(paths, record, now).catch((e) => {
      // Still remove the record when only a leftover of a crash could not be undone, but never
      // delete through a mounted rootfs.
      if (isMounted(rootfsDirs(containerDir(paths, record.id)).merged)) throw e;
    });
    try {
      await removeContainerDirsSoon(paths, record.id);
    } catch (error) {
      // Rootless, from the host side: what the container wrote belongs to subordinate ids.
      const code = (error as NodeJS.ErrnoException).code;
      if (!paths.rootless || paths.userns || (code !== 'EACCES' && code !== 'EPERM')) throw error;
      await removeInUserNamespace([containerRunDir(paths, record.id), containerDir(paths, record.id)]);
    }
  });
  if (opts.volumes || record.options.rm) await removeContainerVolumes(paths, record);
}

/** Wait until the container is not running; its exit code when berth knows it (else -1). */
export async function waitContainer(paths: StoragePaths, record: ContainerRecord, signal?: AbortSignal): Promise<number> {
  for (;;) {
    const state = readState(paths, record.id);
    if (state.status !== 'running') return state.exitCode ?? readExitCode(paths, record.id)?.code ?? -1;
    if (signal?.aborted) throw new RuntimeError('aborted', 'wait aborted', {});
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function lookupContainer(paths: StoragePaths, nameOrId: string): ContainerRecord | undefined {
  return findRecord(paths, nameOrId);
}
