/**
 * Repeating a container's health check, the way Podman does it under systemd: no berth process
 * stays resident; a transient systemd timer + service pair named after the container ID runs
 * `berth healthcheck run <id>` `interval` after the previous run ended
 * (systemd-run --unit=<id> --on-unit-inactive=<interval>), in the manager that supervises the
 * container's service (the user manager when berth runs inside user@UID.service, or for a
 * non-root caller; the system manager otherwise). The pair is removed when the container stops
 * or is removed (cleanupRuntime). A startup check (--health-startup-cmd) has its own pair,
 * <id>-startup, until it passes; the check that passes it creates the regular pair and removes
 * its own.
 *
 * Without a running systemd (no /run/systemd/system, or no user manager socket) there is nothing
 * to schedule with: Podman logs an error and starts the container anyway; berth does the same
 * with one warning that says how to check by hand (`berth healthcheck run NAME`, which works
 * everywhere). The pairs' names and manager are kept in <runroot>/containers/<id>/health-timer.json,
 * so whoever cleans up (ExecStopPost's `rm`, `stop`, the monitor's `cleanup`) finds it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord } from './types.js';
import { containerRunDir, writeJsonAtomic } from './state.js';
import { ownCgroup } from './cgroups.js';
import { readHealth, resetHealth } from './health-state.js';
import { runProc } from './proc.js';
import { berthBin } from './helpers.js';
import { RuntimeError } from '../errors/index.js';

export interface HealthTimer { unit: string; user: boolean }

const timerFile = (paths: StoragePaths, id: string): string => path.join(containerRunDir(paths, id), 'health-timer.json');

export type HealthTimerKind = 'regular' | 'startup';

/** The pairs a container has now: at most a startup pair (<id>-startup) or the regular one (<id>). */
export function readHealthTimers(paths: StoragePaths, id: string): HealthTimer[] {
  try { return JSON.parse(fs.readFileSync(timerFile(paths, id), 'utf8')) as HealthTimer[]; } catch { return []; }
}

export const healthUnitName = (id: string, kind: HealthTimerKind): string => (kind === 'startup' ? `${id}-startup` : id);

/**
 * The user manager when this process runs under one (user@UID.service) or is not root. Rootless
 * berth works inside its own user namespace, where it is uid 0 but still the user to systemd.
 */
export function wantsUserManager(cgroup: string, euid: number, rootless = false): boolean {
  return /\/user@\d+\.service(\/|$)/.test(cgroup) || euid !== 0 || rootless;
}

/** Which systemd manager would run the timer, or why none can. */
export function healthTimerManager(env: NodeJS.ProcessEnv = process.env, rootless = false): { user: boolean } | { unavailable: string } {
  let cgroup = '';
  try { cgroup = ownCgroup(); } catch { /* no unified line: decided by uid alone */ }
  const user = wantsUserManager(cgroup, process.geteuid?.() ?? 0, rootless);
  if (!user) {
    return fs.existsSync('/run/systemd/system') ? { user: false } : { unavailable: 'systemd is not running here (no /run/systemd/system)' };
  }
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir && fs.existsSync(path.join(runtimeDir, 'systemd', 'private'))) return { user: true };
  return { unavailable: `no systemd user manager for uid ${process.geteuid?.() ?? '?'} (no ${runtimeDir ?? '$XDG_RUNTIME_DIR'}/systemd/private)` };
}

/** systemd's time span syntax, at its 1 s timer accuracy floor. */
export function timeSpan(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`;
}

/** The systemd-run argv that creates the timer/service pair (without starting the first run). */
export function systemdRunArgs(paths: StoragePaths, record: ContainerRecord, user: boolean, env: NodeJS.ProcessEnv, node = process.execPath, kind: HealthTimerKind = 'regular'): string[] {
  const check = record.options.healthCheck!;
  const interval = kind === 'startup' ? check.startup!.intervalMs : check.intervalMs;
  return [
    ...(user ? ['--user'] : []),
    `--unit=${healthUnitName(record.id, kind)}`,
    `--description=berth ${kind === 'startup' ? 'startup ' : ''}health check of ${record.name}`,
    `--on-unit-inactive=${timeSpan(interval)}`,
    '--timer-property=AccuracySec=1s',
    // The check's own output goes to the container's health log, not to the journal every interval.
    '--property=LogLevelMax=notice',
    // A `restart` action outside systemd supervision starts a monitor from this service: let it outlive the check.
    '--property=KillMode=process',
    ...(env.PATH ? [`--setenv=PATH=${env.PATH}`] : []),
    node, berthBin(), `--root=${paths.root}`, `--runroot=${paths.runroot}`, 'healthcheck', 'run', record.id,
  ];
}

function managerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const k of ['XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS', 'HOME', 'USER']) if (env[k]) out[k] = env[k];
  return out;
}

const warned = new Set<string>();

/**
 * A container with a health check has just started: its health begins at "starting", and with
 * an interval its checks are scheduled. With --sdnotify=healthy under systemd, `run` itself
 * checks until the first pass (waitHealthy) and schedules the timer only then: two checkers
 * would count every failure twice before the container ever got ready.
 */
export async function armHealthChecks(paths: StoragePaths, record: ContainerRecord, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!record.options.healthCheck) return;
  try {
    resetHealth(paths, record.id);
  } catch (error) {
    process.stderr.write(`Warning: cannot reset the health status of container ${record.name}: ${(error as Error).message}\n`);
  }
  if (record.options.sdnotify === 'healthy' && env.NOTIFY_SOCKET) return;
  await scheduleHealthChecks(paths, record, env);
}

/**
 * Create the timer that repeats the check. Never throws: a container runs even when its checks
 * cannot be scheduled (Podman's behaviour), and a warning says so.
 */
export async function scheduleHealthChecks(paths: StoragePaths, record: ContainerRecord, env: NodeJS.ProcessEnv = process.env, kind: HealthTimerKind = record.options.healthCheck?.startup && !readHealth(paths, record.id)?.Startup?.Passed ? 'startup' : 'regular'): Promise<void> {
  const check = record.options.healthCheck;
  if (!check || (kind === 'startup' ? check.startup?.intervalMs ?? 0 : check.intervalMs) <= 0) return;
  try {
    const manager = healthTimerManager(env, paths.rootless);
    if ('unavailable' in manager) {
      if (!warned.has(record.id)) {
        warned.add(record.id);
        process.stderr.write(`Warning: the health check of container ${record.name} is not repeated: ${manager.unavailable}, so no timer can be created; run "berth healthcheck run ${record.name}" to check it\n`);
      }
      return;
    }
    await createHealthTimer(paths, record, manager.user, env, kind);
  } catch (error) {
    process.stderr.write(`Warning: cannot schedule the health check of container ${record.name}: ${(error as Error).message}\n`);
  }
}

async function createHealthTimer(paths: StoragePaths, record: ContainerRecord, user: boolean, env: NodeJS.ProcessEnv, kind: HealthTimerKind): Promise<void> {
  const timer: HealthTimer = { unit: healthUnitName(record.id, kind), user };
  const menv = managerEnv(env);
  const args = systemdRunArgs(paths, record, user, env, process.execPath, kind);
  let created = await runProc('systemd-run', args, { env: menv, timeoutMs: 15000 });
  if (created.exitCode !== 0 && /already (exists|loaded)/i.test(created.stderr)) {
    // A pair of the same name left by a crash before cleanup (`berth start` of the same container).
    await removeUnits(timer, menv);
    created = await runProc('systemd-run', args, { env: menv, timeoutMs: 15000 });
  }
  if (created.exitCode !== 0) {
    throw new RuntimeError('health-timer', `systemd-run failed: ${String(created.stderr).trim() || `exit status ${created.exitCode}`}`, { context: { container: record.name } });
  }
  writeJsonAtomic(timerFile(paths, record.id), [...readHealthTimers(paths, record.id).filter((t) => t.unit !== timer.unit), timer]);
  // OnUnitInactiveSec counts from the service's last run: run it once now (Podman does the same).
  const first = await runProc('systemctl', [...(user ? ['--user'] : []), 'start', '--no-block', `${timer.unit}.service`], { env: menv, timeoutMs: 15000 });
  if (first.exitCode !== 0) throw new RuntimeError('health-timer', `cannot start ${timer.unit}.service: ${String(first.stderr).trim()}`, { context: { container: record.name } });
}

async function removeUnits(timer: HealthTimer, env: NodeJS.ProcessEnv): Promise<void> {
  const scope = timer.user ? ['--user'] : [];
  // No waiting: the check may be running right now (it may be what killed the container, and
  // this may run in its ExecStopPost). Both stop jobs are queued before anything else can be.
  await runProc('systemctl', [...scope, 'stop', '--no-block', `${timer.unit}.timer`, `${timer.unit}.service`], { env, timeoutMs: 15000 });
  // A check that failed last leaves a failed (still loaded) transient service behind.
  await runProc('systemctl', [...scope, 'reset-failed', `${timer.unit}.timer`, `${timer.unit}.service`], { env, timeoutMs: 15000 });
}

/** Remove the container's timer/service pairs (or only those of one kind). Idempotent. */
export async function disarmHealthChecks(paths: StoragePaths, record: ContainerRecord, env: NodeJS.ProcessEnv = process.env, kind?: HealthTimerKind): Promise<void> {
  const timers = readHealthTimers(paths, record.id);
  if (timers.length === 0) return;
  const gone = timers.filter((t) => kind === undefined || t.unit === healthUnitName(record.id, kind));
  const kept = timers.filter((t) => !gone.includes(t));
  // The file first: this may run inside the very check service being stopped.
  if (kept.length) writeJsonAtomic(timerFile(paths, record.id), kept); else fs.rmSync(timerFile(paths, record.id), { force: true });
  for (const timer of gone) await removeUnits(timer, managerEnv(env));
}
