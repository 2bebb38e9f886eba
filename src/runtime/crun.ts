/**
 * The crun driver: every call to the OCI runtime goes through here, with berth's own state root
 * (<runroot>/crun) and crun's error text turned into RuntimeErrors carrying Podman's exit
 * statuses (127 command not found, 126 cannot execute, 125 anything else).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runProc } from './proc.js';
import { RuntimeError } from '../errors/index.js';
import { rawSpawn, RawSpawnError, type RawChild } from '../process/raw-spawn.js';
import type { StoragePaths } from '../paths/index.js';

export interface CrunContext { paths: StoragePaths; cgroupManager: 'cgroupfs' | 'disabled' }

export const crunBinary = (): string => process.env.BERTH_CRUN || 'crun';

export function crunGlobalArgs(ctx: CrunContext): string[] {
  const args = ['--root', path.join(ctx.paths.runroot, 'crun')];
  if (ctx.cgroupManager === 'disabled') args.push('--cgroup-manager=disabled');
  return args;
}

/** Map crun's message to Podman's exit status for "the command could not be run". */
export function classifyCrunError(stderr: string): { exitCode: number; code: string } {
  if (/executable file .* not found|No such file or directory.*exec|exec.*No such file or directory/i.test(stderr)) return { exitCode: 127, code: 'command-not-found' };
  if (/permission denied|Permission denied|is a directory/i.test(stderr) && /exec/i.test(stderr)) return { exitCode: 126, code: 'command-not-executable' };
  return { exitCode: 125, code: 'crun-failed' };
}

export function crunError(action: string, id: string, stderr: string, cause?: unknown): RuntimeError {
  const text = stderr.trim().split('\n').filter(Boolean).pop() ?? `crun ${action} failed`;
  const { exitCode, code } = classifyCrunError(stderr);
  return new RuntimeError(code, `crun: ${text}`, { context: { container: id, action }, exitCode, cause });
}

function crun(ctx: CrunContext, args: string[]) {
  return runProc(crunBinary(), [...crunGlobalArgs(ctx), ...args]);
}

/** argv (after the binary) for `crun run`; crun's own errors go to `logPath`, not the container's stdio. */
export function crunRunArgs(ctx: CrunContext, id: string, bundle: string, pidFile: string, logPath: string, detach: boolean): string[] {
  return [...crunGlobalArgs(ctx), `--log=file:${logPath}`, 'run', ...(detach ? ['--detach'] : []), '--bundle', bundle, '--pid-file', pidFile, id];
}

/**
 * `crun run --detach`: create and start in one exec (start latency). The container's stdio are
 * the given fds: the service's journal streams under systemd, a log file otherwise. Resolves
 * once the container's init runs; its pid is then in `pidFile`.
 */
export function crunRunDetached(ctx: CrunContext, id: string, bundle: string, pidFile: string, logPath: string,
  stdio: [number | 'ignore' | 'inherit', number | 'inherit', number | 'inherit'], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(crunBinary(), crunRunArgs(ctx, id, bundle, pidFile, logPath, true), { stdio, env });
    child.on('error', (error) => reject(new RuntimeError('crun-missing', `cannot run crun: ${error.message}`, { cause: error })));
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(crunError('run', id, readCrunLog(logPath)));
    });
  });
}

/**
 * `crun create`: the container's init exists, waiting for `crun start` before it runs the
 * user's process. Its stdio are the given fds (inherited through the init).
 */
export function crunCreate(ctx: CrunContext, id: string, bundle: string, pidFile: string, logPath: string,
  stdio: [number | 'ignore' | 'inherit', number | 'inherit', number | 'inherit'], env: NodeJS.ProcessEnv): Promise<void> {
  return spawnCrun([...crunGlobalArgs(ctx), `--log=file:${logPath}`, 'create', '--bundle', bundle, '--pid-file', pidFile, id], id, 'create', logPath, stdio, env);
}

export function crunStart(ctx: CrunContext, id: string, logPath: string, env: NodeJS.ProcessEnv): Promise<void> {
  return spawnCrun([...crunGlobalArgs(ctx), `--log=file:${logPath}`, 'start', id], id, 'start', logPath, ['ignore', 'inherit', 'inherit'], env);
}

function spawnCrun(args: string[], id: string, action: string, logPath: string, stdio: [number | 'ignore' | 'inherit', number | 'inherit', number | 'inherit'], env: NodeJS.ProcessEnv): Promise<void> {
  // Through raw-spawn where it works: under systemd `crun create` and `crun start` are all that
  // would load node:child_process (and node:net, node:stream) in a unit's `berth run -d`.
  let raw: RawChild | undefined;
  try {
    raw = rawSpawn(crunBinary(), args, { stdio, env });
  } catch (error) {
    if (error instanceof RawSpawnError) return Promise.reject(new RuntimeError('crun-missing', `cannot run crun: ${error.message}`, { cause: error }));
    throw error;
  }
  if (raw) return raw.exited.then(({ code }) => { if (code !== 0) throw crunError(action, id, readCrunLog(logPath)); });
  return new Promise((resolve, reject) => {
    const child = spawn(crunBinary(), args, { stdio, env });
    child.on('error', (error) => reject(new RuntimeError('crun-missing', `cannot run crun: ${error.message}`, { cause: error })));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(crunError(action, id, readCrunLog(logPath)))));
  });
}

/** crun --log writes JSON-ish lines ({"msg": …}) or plain text: keep the messages. */
export function readCrunLog(logPath: string): string {
  let text = '';
  try { text = fs.readFileSync(logPath, 'utf8'); } catch { return ''; }
  return text.split('\n').filter(Boolean).map((line) => {
    try { const o = JSON.parse(line) as { msg?: string }; return o.msg ?? line; } catch { return line; }
  }).join('\n');
}

export async function crunKill(ctx: CrunContext, id: string, signal: string, all = false): Promise<boolean> {
  const r = await crun(ctx, ['kill', ...(all ? ['--all'] : []), id, signal]);
  return r.exitCode === 0;
}

/** Idempotent: a container crun does not know is already deleted. */
export async function crunDelete(ctx: CrunContext, id: string): Promise<void> {
  // crun keeps each container's state in <root>/<id>/: none there (e.g. `crun run` already deleted
  // it when the container exited) means nothing to delete, and one exec less on every rm.
  if (!fs.existsSync(path.join(ctx.paths.runroot, 'crun', id))) return;
  const r = await crun(ctx, ['delete', '--force', id]);
  if (r.exitCode !== 0 && !/does not exist|not found|No such file/i.test(String(r.stderr))) throw crunError('delete', id, String(r.stderr));
}

export async function crunState(ctx: CrunContext, id: string): Promise<{ status: string; pid: number } | undefined> {
  const r = await crun(ctx, ['state', id]);
  if (r.exitCode !== 0) return undefined;
  try { return JSON.parse(String(r.stdout)) as { status: string; pid: number }; } catch { return undefined; }
}

export async function crunList(ctx: CrunContext): Promise<string[]> {
  const r = await crun(ctx, ['list', '--quiet']);
  return String(r.stdout).split('\n').map((s) => s.trim()).filter(Boolean);
}
