/**
 * Health checks (--health-cmd …): the test runs inside the container through `crun exec`, its
 * result goes into the container's health state (health-state.ts) and, once the container is
 * unhealthy, --health-on-failure acts. Two callers: `berth healthcheck run` (by hand, or from
 * the systemd timer of health-timer.ts) and `--sdnotify=healthy` (READY once a check passes).
 * No berth process stays resident to repeat checks.
 */
import { spawn } from 'node:child_process';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord, HealthCheck } from './types.js';
import { crunExecArgs } from './exec.js';
import { crunBinary } from './crun.js';
import { readState } from './state.js';
import { readHealth, recordHealth, type HealthLogEntry, type HealthState } from './health-state.js';
import { disarmHealthChecks, scheduleHealthChecks } from './health-timer.js';
import { applyHealthFailureAction } from './health-actions.js';
import { RuntimeError } from '../errors/index.js';

export function healthArgv(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

const OUTPUT_KEPT = 4096;
const KILL_GRACE_MS = 1000;

/**
 * Run the test once. Its exit status and output (stdout and stderr together, as Podman logs
 * them) make the log entry; past --health-timeout crun exec is terminated (crun passes the
 * signal to the test process), then killed, and the entry says so with ExitCode -1.
 */
export function runHealthCheck(paths: StoragePaths, record: ContainerRecord, check: Pick<HealthCheck, 'test' | 'timeoutMs'>): Promise<HealthLogEntry> {
  const start = new Date();
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(crunBinary(), crunExecArgs(paths, record, healthArgv(check.test), {}), { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: Buffer): void => { if (output.length < OUTPUT_KEPT) output += d.toString(); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timers: NodeJS.Timeout[] = [];
    if (check.timeoutMs > 0) {
      timers.push(setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        timers.push(setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS));
      }, check.timeoutMs));
    }
    const finish = (exitCode: number): void => {
      for (const t of timers) clearTimeout(t);
      const end = new Date().toISOString();
      if (timedOut) resolve({ Start: start.toISOString(), End: end, ExitCode: -1, Output: `healthcheck command exceeded timeout of ${check.timeoutMs / 1000}s` });
      else resolve({ Start: start.toISOString(), End: end, ExitCode: exitCode, Output: output });
    };
    child.on('error', (e) => { output += e.message; finish(125); });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

export interface HealthcheckResult { passed: boolean; health: HealthState }

function inStartPeriod(check: HealthCheck, startedAt: string | undefined, at: string): boolean {
  if (!check.startPeriodMs || !startedAt) return false;
  return Date.parse(at) < Date.parse(startedAt) + check.startPeriodMs;
}

const inStartupPhase = (paths: StoragePaths, record: ContainerRecord): boolean =>
  Boolean(record.options.healthCheck?.startup) && !readHealth(paths, record.id)?.Startup?.Passed;

/**
 * One check, recorded; an unhealthy container gets its --health-on-failure action. While a
 * startup check (--health-startup-cmd) has not passed yet, it runs instead of the regular one:
 * once it passed, the regular check's timer replaces the startup one; after --health-startup-retries
 * failures in a row the container is restarted.
 */
export async function healthcheckRun(paths: StoragePaths, record: ContainerRecord, env: NodeJS.ProcessEnv = process.env): Promise<HealthcheckResult> {
  const check = record.options.healthCheck;
  if (!check) throw new RuntimeError('no-healthcheck', `container ${record.name} has no defined healthcheck`, { context: { container: record.name } });
  const state = readState(paths, record.id);
  if (state.status !== 'running') throw new RuntimeError('not-running', `container ${record.name} is not running`, { context: { container: record.name } });
  if (check.startup && inStartupPhase(paths, record)) {
    const entry = await runHealthCheck(paths, record, check.startup);
    const health = await recordHealth(paths, record.id, entry, check, false, true);
    if (health.Startup?.Passed) {
      await scheduleHealthChecks(paths, record, env, 'regular');
      await disarmHealthChecks(paths, record, env, 'startup');
    } else if (check.startup.retries > 0 && (health.Startup?.Failures ?? 0) >= check.startup.retries) {
      await applyHealthFailureAction(paths, record, 'restart', env);
    }
    return { passed: entry.ExitCode === 0, health };
  }
  const entry = await runHealthCheck(paths, record, check);
  const health = await recordHealth(paths, record.id, entry, check, inStartPeriod(check, state.startedAt, entry.Start));
  if (health.Status === 'unhealthy') await applyHealthFailureAction(paths, record, check.onFailure ?? 'none', env);
  return { passed: entry.ExitCode === 0, health };
}

/** Resolve once a (regular) check passes, after the startup check if there is one; throw when the container stops first or gives up. */
export async function waitHealthy(paths: StoragePaths, record: ContainerRecord, check: HealthCheck): Promise<void> {
  for (;;) {
    const state = readState(paths, record.id);
    if (state.status !== 'running') {
      throw new RuntimeError('unhealthy', `container ${record.name} exited before its health check passed`, { context: { container: record.name } });
    }
    const startup = inStartupPhase(paths, record) ? check.startup : undefined;
    const entry = await runHealthCheck(paths, record, startup ?? check);
    const health = await recordHealth(paths, record.id, entry, check, inStartPeriod(check, state.startedAt, entry.Start), Boolean(startup));
    if (!startup && entry.ExitCode === 0) return;
    if (startup && startup.retries > 0 && (health.Startup?.Failures ?? 0) >= startup.retries) {
      throw new RuntimeError('unhealthy', `container ${record.name} is unhealthy: startup health check failed ${startup.retries} times`, { context: { container: record.name } });
    }
    if (!startup && health.Status === 'unhealthy') {
      throw new RuntimeError('unhealthy', `container ${record.name} is unhealthy: health check failed ${health.FailingStreak} times`, { context: { container: record.name } });
    }
    if (startup && health.Startup?.Passed) continue;
    await new Promise((r) => setTimeout(r, Math.min((startup ?? check).intervalMs || 1000, 1000)));
  }
}
