/**
 * Where containers live on disk, and the one place every command reads them from:
 *   <root>/containers/<id>/config.json   persistent record (name, image, options)
 *   <runroot>/containers/<id>/state.json volatile state (status, pid, exit code), with the boot id
 * Writes are atomic (temp + rename). Cross-process locks are lock files created with O_EXCL that
 * hold the owner's pid and boot id, so a lock left by a crashed or previous-boot process is broken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from './random.js';
import type { StoragePaths } from '../paths/index.js';
import { RuntimeError } from '../errors/index.js';
import type { ContainerRecord, RunState } from './types.js';
import { deferRemoval, lockHelperPid, startLockHelper } from '../image/store/locks.js';

let cachedBootId: string | undefined;
export function bootId(): string {
  if (cachedBootId === undefined) {
    try { cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { cachedBootId = 'unknown'; }
  }
  return cachedBootId;
}

export const containersDir = (paths: StoragePaths): string => path.join(paths.root, 'containers');
export const containerDir = (paths: StoragePaths, id: string): string => path.join(paths.root, 'containers', id);
export const containerRunDir = (paths: StoragePaths, id: string): string => path.join(paths.runroot, 'containers', id);
export const bundleDir = (paths: StoragePaths, id: string): string => path.join(paths.runroot, 'containers', id, 'bundle');
export const exitFile = (paths: StoragePaths, id: string): string => path.join(paths.runroot, 'containers', id, 'exit');
export const pidFile = (paths: StoragePaths, id: string): string => path.join(paths.runroot, 'containers', id, 'pid');
export const logFile = (paths: StoragePaths, id: string): string => path.join(paths.root, 'containers', id, 'ctr.log');

export function newContainerId(): string { return randomHex(32); }

export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T | undefined {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as T; } catch { return undefined; }
}

export function readRecord(paths: StoragePaths, id: string): ContainerRecord | undefined {
  return readJson<ContainerRecord>(path.join(containerDir(paths, id), 'config.json'));
}
export function writeRecord(paths: StoragePaths, record: ContainerRecord): void {
  writeJsonAtomic(path.join(containerDir(paths, record.id), 'config.json'), record);
}

export function listRecords(paths: StoragePaths): ContainerRecord[] {
  let ids: string[];
  try { ids = fs.readdirSync(containersDir(paths)); } catch { return []; }
  return ids.filter((id) => /^[0-9a-f]{64}$/.test(id)).flatMap((id) => {
    const r = readRecord(paths, id);
    return r ? [r] : [];
  }).sort((a, b) => a.created.localeCompare(b.created));
}

/** Podman's lookup order: full id, exact name, then a unique id prefix. */
export function findRecord(paths: StoragePaths, nameOrId: string): ContainerRecord | undefined {
  if (/^[0-9a-f]{64}$/.test(nameOrId)) { const r = readRecord(paths, nameOrId); if (r) return r; }
  const all = listRecords(paths);
  const byName = all.find((r) => r.name === nameOrId);
  if (byName) return byName;
  if (/^[0-9a-f]{3,63}$/.test(nameOrId)) {
    const matches = all.filter((r) => r.id.startsWith(nameOrId));
    if (matches.length > 1) throw new RuntimeError('ambiguous-id', `more than one container matches ${nameOrId}`, { context: { container: nameOrId } });
    return matches[0];
  }
  return undefined;
}

export function requireRecord(paths: StoragePaths, nameOrId: string): ContainerRecord {
  const r = findRecord(paths, nameOrId);
  if (!r) throw new RuntimeError('no-such-container', `no container with name or ID "${nameOrId}" found: no such container`, { context: { container: nameOrId } });
  return r;
}

const stateFile = (paths: StoragePaths, id: string): string => path.join(containerRunDir(paths, id), 'state.json');

export function writeState(paths: StoragePaths, id: string, state: RunState): void {
  writeJsonAtomic(stateFile(paths, id), state);
}

/** /proc/<pid>/stat field 22 (start time in clock ticks since boot): tells a reused PID apart. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (afterComm[0] === 'Z' || afterComm[0] === 'X') return undefined;   // zombie: dead for our purpose
    return afterComm[19];
  } catch { return undefined; }
}

export function processAlive(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid) return false;
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

/**
 * The current state, corrected for what happened while no berth process watched: a process that
 * died (exit code from the monitor's exit file if there is one), a reboot (everything volatile gone).
 */
export function readState(paths: StoragePaths, id: string): RunState {
  const state = readJson<RunState>(stateFile(paths, id)) ?? { status: 'created', bootId: bootId() };
  if (state.bootId !== bootId()) {
    // State from a previous boot: no process, no mount, no netns, no crun state survive a reboot.
    // The markers stay so that rm still runs the (idempotent) undo steps: a persistent runroot can
    // hold crun state, and the network layer frees address leases kept on disk.
    return {
      status: state.status === 'running' ? 'exited' : state.status, bootId: bootId(), exitCode: state.exitCode, finishedAt: state.finishedAt,
      startedAt: state.startedAt, mounted: state.mounted, networkSetUp: state.networkSetUp,
    };
  }
  if (state.status === 'running' && !processAlive(state.pid, state.pidStartTime)) {
    state.status = 'exited';
    const code = readExitCode(paths, id);
    if (code !== undefined) state.exitCode = code.code;
    state.finishedAt = code?.at ?? state.finishedAt ?? new Date().toISOString();
  }
  return state;
}

export function readExitCode(paths: StoragePaths, id: string): { code: number; at: string } | undefined {
  try {
    const file = exitFile(paths, id);
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!/^\d+$/.test(text)) return undefined;
    return { code: Number(text), at: fs.statSync(file).mtime.toISOString() };
  } catch { return undefined; }
}

/** Cross-process lock: `fn` runs while <dir>/<name>.lock exists and names this process. */
export async function withLock<T>(lockDir: string, name: string, fn: () => Promise<T>, timeoutMs = 30000): Promise<T> {
  fs.mkdirSync(lockDir, { recursive: true });
  const file = path.join(lockDir, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''} ${bootId()}`;
  for (;;) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(file)) { try { fs.unlinkSync(file); } catch { /* raced */ } continue; }
      if (Date.now() > deadline) throw new RuntimeError('lock-timeout', `timed out waiting for lock ${file}`, { context: { file } });
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    try { if (fs.readFileSync(file, 'utf8') === me) fs.unlinkSync(file); } catch { /* gone */ }
  }
}

function lockIsStale(file: string): boolean {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return false; }
  const [pid, start, boot] = text.split(' ');
  if (!pid) {
    // Being written right now, or left empty by a crash: stale only if old.
    try { return Date.now() - fs.statSync(file).mtimeMs > 5000; } catch { return false; }
  }
  if (boot && boot !== bootId()) return true;
  return !processAlive(Number(pid), start || undefined);
}

export function removeContainerDirs(paths: StoragePaths, id: string): void {
  removeRunDir(paths, id);
  fs.rmSync(containerDir(paths, id), { recursive: true, force: true });
}

/**
 * The container's volatile dir, which a process of the container's own may still write into while
 * it is removed: the monitor (launch.ts) writes the exit file when `rm -f` has just killed the
 * container. Renamed away first (a late write then finds no dir), then deleted.
 */
function removeRunDir(paths: StoragePaths, id: string): void {
  const dir = containerRunDir(paths, id);
  const doomed = path.join(path.dirname(dir), `.removing-${id}-${process.pid}`);
  let target = doomed;
  try {
    fs.renameSync(dir, doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    target = dir;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      fs.rmSync(target, { recursive: true, force: true });
      return;
    } catch (error) {
      // ENOTEMPTY: an entry appeared while the tree was deleted (a writer that had resolved the path before the rename)
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 5) throw error;
    }
  }
}

/** Where removed containers' dirs wait for the lock helper to delete them (see removeContainerDirsSoon). */
export const trashDir = (paths: StoragePaths): string => path.join(containersDir(paths), '.trash');
/** The same for their volatile dirs, on the run root's file system (a rename cannot cross file systems). */
export const runTrashDir = (paths: StoragePaths): string => path.join(paths.runroot, 'containers', '.trash');

/**
 * As removeContainerDirs, but both of the container's dirs are renamed into a .trash dir in one
 * step each and deleted by the lock helper after berth exits: its persistent dir (the overlay upper
 * and work dirs, a dozen rmdirs on a journaling file system, ~6 ms of every `run --rm`) and its
 * volatile dir (~10 files; node's recursive rmSync alone costs ~1 ms to load). The container is gone
 * for every command at once (its record and state went with the renames); a process that still
 * writes into the volatile dir (the monitor's exit file after `rm -f`) writes into the renamed one.
 * Entries whose deleter died are swept here.
 */
export async function removeContainerDirsSoon(paths: StoragePaths, id: string): Promise<void> {
  // Rootless from the host side (outside berth's user namespace) cannot delete what the container
  // wrote as subordinate ids: the caller goes through the namespace on EACCES, synchronously.
  if (paths.rootless && !paths.userns) return removeContainerDirs(paths, id);
  // Under systemd (a unit's ExecStart --replace, ExecStop, ExecStopPost) a process left behind is
  // the unit's: systemd would kill the deleting helper when the unit stops, so delete now.
  if (process.env.INVOCATION_ID) return removeContainerDirs(paths, id);
  const helper = lockHelperPid() ?? (startLockHelper(), lockHelperPid());
  if (!helper) return removeContainerDirs(paths, id);
  const owner = `${helper}-${processStartTime(helper) ?? 0}`;
  if (!(await moveToTrash(runTrashDir(paths), containerRunDir(paths, id), `${owner}-${id}`))) removeRunDir(paths, id);
  if (!(await moveToTrash(trashDir(paths), containerDir(paths, id), `${owner}-${id}`))) fs.rmSync(containerDir(paths, id), { recursive: true, force: true });
}

/** Renames `dir` into `trash` and hands it to the helper; false when the caller must delete it itself. */
async function moveToTrash(trash: string, dir: string, name: string): Promise<boolean> {
  sweepTrash(trash);
  const target = path.join(trash, name);
  try {
    fs.mkdirSync(trash, { recursive: true, mode: 0o700 });
    fs.renameSync(dir, target);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(dir);   // nothing to remove
  }
  if (!(await deferRemoval(target))) fs.rmSync(target, { recursive: true, force: true });
  return true;
}

/** Trash left by a helper that is gone (killed, or a previous boot: the start time no longer matches). */
function sweepTrash(trash: string): void {
  let entries: string[];
  try { entries = fs.readdirSync(trash); } catch { return; }
  for (const name of entries) {
    // "<helper pid>-<its start time>-<id>": the trash of a deleter that still runs is its own
    const m = /^(\d+)-(\d+)-/.exec(name);
    const alive = m && processAlive(Number(m[1]), m[2]);
    if (!alive) {
      try { fs.rmSync(path.join(trash, name), { recursive: true, force: true }); } catch { /* the next removal tries again */ }
    }
  }
}
