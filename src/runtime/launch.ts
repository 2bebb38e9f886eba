/**
 * Starting a prepared container, in one of three ways:
 *
 *  systemd  (`-d` with NOTIFY_SOCKET set, i.e. ExecStart of a generated Type=notify unit):
 *           `crun create` with the service's stdout/stderr (the journal streams) as the
 *           container's, then MAINPID=<container init> + READY=1 (with a barrier, notify.ts),
 *           then `crun start`, then berth exits. crun exits after create, so the kernel reparents
 *           the init to the nearest subreaper: systemd itself (PID 1, or the user manager, which is
 *           a subreaper). systemd reaps it and sees its real exit status (ExecMainStatus,
 *           Restart=on-failure); nothing of berth or crun stays resident (bench/start: 0 kB).
 *           Measured alternatives (test/e2e/runtime, sysbox):
 *           - `crun run --detach` then MAINPID: one exec less, but a container that exits at once
 *             (`exit 3`) was gone before systemd processed MAINPID; the unit ended "inactive
 *             (dead)", status lost. create → MAINPID → start has no such window.
 *           - `crun run` in the foreground as Main PID: crun returns the container's exit code and
 *             forwards signals, but it stays resident for the container's lifetime (berth's
 *             monitor mode, sh + `crun run`, holds ~6 MB RSS in bench/start) and every stop
 *             signal goes through crun's forwarding. Not taken.
 *  monitor  (`-d` outside systemd): a small `sh` runs `crun run` in the foreground, writes the
 *           exit code to <runroot>/containers/<id>/exit and runs `berth cleanup`; container output
 *           goes through log-writer.py (timestamped records, Podman's k8s-file format) to
 *           <root>/containers/<id>/ctr.log. This is the conmon role, only where no service
 *           manager can take it.
 *  foreground (no -d): `crun run` as berth's child with berth's stdio; berth returns its exit code.
 *           With -t, `crun run --console-socket` under console-relay.py (as `exec -t`): the
 *           process gets a pty of the container's devpts, relayed to berth's stdio. In the
 *           background (-d -t) nothing would hold the pty's master, so no terminal is allocated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RuntimeError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord, RunState } from './types.js';
import { bootId, exitFile, logFile, pidFile, processStartTime, readState, writeState, containerRunDir, removeContainerDirsSoon } from './state.js';
import { prepareBundle } from './prepare.js';
import { crunBinary, crunCreate, crunError, crunRunArgs, crunStart, readCrunLog } from './crun.js';
import { sdNotify } from './notify.js';
import { cleanupRuntime, crunContext, withContainerLock } from './lifecycle.js';
import { helperExec } from '../image/store/locks.js';
import { moveSelfToLeaf } from './cgroups.js';
import { PYTHON, berthBin, helperScript, consoleRelay } from './helpers.js';
import { armHealthChecks } from './health-timer.js';
import { rawSpawn, RawSpawnError, type RawChild } from '../process/raw-spawn.js';

export type LaunchMode = 'foreground' | 'detached';
export interface StartResult { pid: number; supervisor: NonNullable<RunState['supervisor']>; exitCode?: number; removed?: boolean }

/** unlink, missing is fine (fs.rmSync would load node's recursive-removal module for this: ~1 ms of a start). */
function removeFile(file: string): void {
  try { fs.unlinkSync(file); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; }
}

function readPid(file: string): number | undefined {
  try { const n = Number(fs.readFileSync(file, 'utf8').trim()); return n > 0 ? n : undefined; } catch { return undefined; }
}

/** crun's environment: berth's, minus NOTIFY_SOCKET unless the container itself should notify. */
function crunEnv(record: ContainerRecord, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (record.options.sdnotify !== 'container') delete out.NOTIFY_SOCKET;
  return out;
}

async function prepareLocked(paths: StoragePaths, record: ContainerRecord, terminal = false): Promise<{ bundle: string; state: RunState }> {
  let state = readState(paths, record.id);
  if (state.status === 'running') throw new RuntimeError('already-running', `container ${record.name} is already running`, { context: { container: record.name }, exitCode: 125 });
  if (state.mounted || state.networkSetUp || state.status === 'exited') state = await cleanupRuntime(paths, record, state);
  removeFile(exitFile(paths, record.id));
  removeFile(pidFile(paths, record.id));
  state = { status: state.status, bootId: bootId(), startedAt: state.startedAt, finishedAt: state.finishedAt, exitCode: state.exitCode };
  try {
    const prepared = await prepareBundle(paths, record, state, { terminal });
    return { bundle: prepared.bundle, state };
  } catch (error) {
    await cleanupRuntime(paths, record, state).catch(() => undefined);
    throw error;
  }
}

function markRunning(paths: StoragePaths, record: ContainerRecord, state: RunState, pid: number, supervisor: RunState['supervisor']): void {
  state.status = 'running';
  state.pid = pid;
  state.pidStartTime = processStartTime(pid);
  state.startedAt = new Date().toISOString();
  state.finishedAt = undefined;
  state.exitCode = undefined;
  state.supervisor = supervisor;
  writeState(paths, record.id, state);
}

/**
 * `removeWhenDone` (foreground `run --rm`): the container's dirs go in the same locked step as the
 * cleanup after its exit (`removed` says so); the caller then removes its anonymous volumes (run.ts finishRemoved).
 */
export interface StartOptions { removeWhenDone?: boolean }

export async function startContainer(paths: StoragePaths, record: ContainerRecord, mode: LaunchMode, env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<StartResult> {
  if (mode === 'foreground') return startForeground(paths, record, env, options);
  const systemd = Boolean(env.NOTIFY_SOCKET) && record.options.sdnotify !== 'ignore';
  if (systemd && record.options.cgroups === 'split' && record.cgroupParent) moveSelfToLeaf(record.cgroupParent);
  return withContainerLock(paths, record.id, async () => {
    const { bundle, state } = await prepareLocked(paths, record);
    const pidPath = pidFile(paths, record.id);
    const crunLog = path.join(containerRunDir(paths, record.id), 'crun.log');
    try {
      if (systemd) {
        // create → name the init to systemd → start: the init is Main PID before the user's
        // process can exit, so even an immediate exit reaches systemd as the service's status
        // (with `crun run --detach` a fast exit raced the MAINPID message and was lost).
        const ctx = crunContext(paths, record);
        await crunCreate(ctx, record.id, bundle, pidPath, crunLog, ['ignore', 'inherit', 'inherit'], crunEnv(record, env));
        const pid = readPid(pidPath);
        if (!pid) throw new RuntimeError('no-pid', `crun did not report the pid of container ${record.name}`, { context: { container: record.name } });
        markRunning(paths, record, state, pid, 'systemd');
        await notifyBeforeStart(record, pid, env);
        await crunStart(ctx, record.id, crunLog, crunEnv(record, env));
        await armHealthChecks(paths, record, env);
        return { pid, supervisor: 'systemd' };
      }
      const pid = await startMonitor(paths, record, bundle, pidPath, crunLog, crunEnv(record, env));
      markRunning(paths, record, state, pid, 'monitor');
      await armHealthChecks(paths, record, env);
      return { pid, supervisor: 'monitor' };
    } catch (error) {
      await cleanupRuntime(paths, record, state).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * --sdnotify=conmon: MAINPID and READY in one message, sent with a barrier (see notify.ts) while the
 * init waits for `crun start`. container/healthy: MAINPID now, READY later (the container's own
 * notify socket via crun, or berth after the first passing health check).
 */
async function notifyBeforeStart(record: ContainerRecord, pid: number, env: NodeJS.ProcessEnv): Promise<void> {
  if (record.options.sdnotify === 'conmon') await sdNotify([`MAINPID=${pid}`, 'READY=1', 'STATUS='], env);
  else await sdNotify([`MAINPID=${pid}`], env);
}

function globalFlags(paths: StoragePaths): string[] {
  return [`--root=${paths.root}`, `--runroot=${paths.runroot}`];
}

async function startMonitor(paths: StoragePaths, record: ContainerRecord, bundle: string, pidPath: string, crunLog: string, env: NodeJS.ProcessEnv): Promise<number> {
  const log = fs.openSync(logFile(paths, record.id), 'a');
  const script = '"$@"; echo $? > "$BERTH_EXIT_FILE"; exec "$BERTH_NODE" "$BERTH_BIN" $BERTH_GLOBAL cleanup "$BERTH_ID" >/dev/null 2>&1';
  const child = spawn('/bin/sh', ['-c', script, 'berth-monitor', PYTHON, '-I', '-S', helperScript('log-writer.py'), logFile(paths, record.id), '--', crunBinary(), ...crunRunArgs(crunContext(paths, record), record.id, bundle, pidPath, crunLog, false)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...env, BERTH_EXIT_FILE: exitFile(paths, record.id), BERTH_NODE: process.execPath, BERTH_BIN: berthBin(), BERTH_GLOBAL: globalFlags(paths).join(' '), BERTH_ID: record.id },
  });
  fs.closeSync(log);
  let exited = false;
  child.on('exit', () => { exited = true; });
  child.unref();
  const deadline = Date.now() + 30000;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const pid = readPid(pidPath);
    if (pid) return pid;
    if (exited || Date.now() > deadline) {
      throw crunError('run', record.id, readCrunLog(crunLog) || 'the container did not start');
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** A foreground child with berth's stdio: its exit status (128+N for signal N, 125 if it could not start) and a way to signal it. */
interface ForegroundChild { done: Promise<number>; kill(sig: NodeJS.Signals): void; spawnError?: string }

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? os.constants.signals[signal] : 0);
}

/** The program `file` names (PATH searched as exec does), if there is one that may be run. */
function findProgram(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = file.includes('/') ? [file] : (env.PATH ?? '/usr/bin:/bin').split(':').map((d) => `${d || '.'}/${file}`);
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Started by the lock helper where it can (locks.ts helperExec: a perl fork instead of a fork of
 * node), else through rawSpawn (src/process/raw-spawn.ts: the start path's CPU), else
 * node:child_process.
 */
async function spawnForeground(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ForegroundChild> {
  const program = findProgram(file, env);
  if (!program) return { done: Promise.resolve(125), kill: () => undefined, spawnError: `cannot run ${file}: ENOENT` };
  const viaHelper = await helperExec(program, args, env);
  if (viaHelper) {
    return { done: viaHelper.exited.then(({ code, signal }) => exitStatus(code, signal)), kill: (sig) => viaHelper.kill(sig) };
  }
  let raw: RawChild | undefined;
  try {
    raw = rawSpawn(file, args, { stdio: ['inherit', 'inherit', 'inherit'], env });
  } catch (error) {
    if (error instanceof RawSpawnError) return { done: Promise.resolve(125), kill: () => undefined, spawnError: `cannot run ${file}: ${error.code}` };
    throw error;
  }
  if (raw) {
    const child = raw;
    return { done: child.exited.then(({ code, signal }) => exitStatus(code, signal)), kill: (sig) => { child.kill(sig); } };
  }
  const child = spawn(file, args, { stdio: ['inherit', 'inherit', 'inherit'], env });
  const result: ForegroundChild = {
    done: new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(exitStatus(code, signal)));
      child.on('error', (error: NodeJS.ErrnoException) => { result.spawnError = `cannot run ${file}: ${error.code ?? error.message}`; resolve(125); });
    }),
    kill: (sig) => { try { child.kill(sig); } catch { /* gone */ } },
  };
  return result;
}

async function startForeground(paths: StoragePaths, record: ContainerRecord, env: NodeJS.ProcessEnv, options: StartOptions): Promise<StartResult> {
  const pidPath = pidFile(paths, record.id);
  const crunLog = path.join(containerRunDir(paths, record.id), 'crun.log');
  const terminal = record.options.tty === true;
  const { child, state, consoleDir } = await withContainerLock(paths, record.id, async () => {
    const { bundle, state } = await prepareLocked(paths, record, terminal);
    const args = crunRunArgs(crunContext(paths, record), record.id, bundle, pidPath, crunLog, false);
    if (!terminal) return { child: await spawnForeground(crunBinary(), args, crunEnv(record, env)), state };
    const relay = consoleRelay(paths, record.options.interactive === true, (socket) => [crunBinary(), ...args.slice(0, -1), `--console-socket=${socket}`, record.id]);
    return { child: await spawnForeground(PYTHON, relay.args, crunEnv(record, env)), state, consoleDir: relay.dir };
  });
  const done = child.done;
  if (consoleDir) void done.then(() => fs.rmSync(consoleDir, { recursive: true, force: true }));
  // Forward termination requests to the container (crun forwards them to its init), from now on:
  // a signal before crun wrote the pid file must not end berth and leave crun running.
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => { const h = () => forward(s); process.on(s, h); return [s, h] as const; });
  // Record the running state as soon as crun reports the pid (for ps/stop from other shells).
  let pid = 0;
  for (let delay = 2; !pid; delay = Math.min(delay * 2, 50)) {
    const p = readPid(pidPath);
    if (p) { pid = p; break; }
    // unref: when crun exits first, the pending poll timer must not hold berth's exit back
    const raced = await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), delay).unref())]);
    if (raced) break;
  }
  if (pid) await withContainerLock(paths, record.id, async () => { markRunning(paths, record, state, pid, 'foreground'); await armHealthChecks(paths, record, env); });
  const exitCode = await done;
  for (const [s, h] of handlers) process.off(s, h);
  if (!pid) {
    // A short-lived container can be gone before the first poll: crun wrote the pid file if it
    // started it. It ran, and is recorded as exited below (no "running" state in between).
    pid = readPid(pidPath) ?? 0;
    if (pid) Object.assign(state, { pid, startedAt: new Date().toISOString(), supervisor: 'foreground' });
  }
  if (!pid) {
    const message = readCrunLog(crunLog);
    await withContainerLock(paths, record.id, () => cleanupRuntime(paths, record, state)).catch(() => undefined);
    throw crunError('run', record.id, message || child.spawnError || `crun exited with status ${exitCode}`);
  }
  fs.writeFileSync(exitFile(paths, record.id), `${exitCode}\n`);
  let removed = false;
  await withContainerLock(paths, record.id, async () => {
    await cleanupRuntime(paths, record, { ...state, status: 'exited', exitCode });
    if (options.removeWhenDone) {
      await removeContainerDirsSoon(paths, record.id);
      removed = true;
    }
  });
  return { pid, supervisor: 'foreground', exitCode, removed };
}

