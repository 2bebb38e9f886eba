/**
 * What the health checks of a container found, as `inspect` shows it (Podman's State.Health):
 * Status starting → healthy/unhealthy, FailingStreak, the last few Log entries. Kept beside the
 * volatile state (<runroot>/containers/<id>/health.json): a new start begins again at "starting".
 * The rules of one result are a pure function (nextHealth); the file is read and written under
 * its own lock, never the container's (a check can take as long as its timeout, and `stop` must
 * not wait for it).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import { containerRunDir, withLock, writeJsonAtomic } from './state.js';
import type { HealthCheck, StartupHealthCheck } from './types.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }
/** Startup: how a --health-startup-cmd check is doing (consecutive failures; passes so far). Not shown by inspect. */
export interface StartupProgress { Passed: boolean; Successes: number; Failures: number }
export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthLogEntry[]; Startup?: StartupProgress }

/** Podman keeps the last 5 results, each output cut at 500 bytes. */
export const HEALTH_LOG_ENTRIES = 5;
export const HEALTH_OUTPUT_MAX = 500;

const healthFile = (paths: StoragePaths, id: string): string => path.join(containerRunDir(paths, id), 'health.json');

export function readHealth(paths: StoragePaths, id: string): HealthState | undefined {
  try { return JSON.parse(fs.readFileSync(healthFile(paths, id), 'utf8')) as HealthState; } catch { return undefined; }
}

export function startingHealth(): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

/** A new start: "starting" again, no streak, no log. */
export function resetHealth(paths: StoragePaths, id: string): void {
  writeJsonAtomic(healthFile(paths, id), startingHealth());
}

/**
 * One result applied to the previous state (Podman's rules): a pass makes the container healthy
 * and clears the streak; a failure inside the start period is logged but not counted; a counted
 * failure lengthens the streak, and `retries` of them in a row make the container unhealthy.
 */
export interface HealthLogLimits { maxLogCount?: number; maxLogSize?: number }

function appendLog(previous: HealthState, entry: HealthLogEntry, limits: HealthLogLimits): HealthLogEntry[] {
  const count = limits.maxLogCount ?? HEALTH_LOG_ENTRIES;
  const size = limits.maxLogSize ?? HEALTH_OUTPUT_MAX;
  const all = [...previous.Log, { ...entry, Output: size > 0 ? entry.Output.slice(0, size) : entry.Output }];
  return count > 0 ? all.slice(-count) : all;
}

export function nextHealth(previous: HealthState, entry: HealthLogEntry, retries: number, inStartPeriod: boolean, limits: HealthLogLimits = {}): HealthState {
  const log = appendLog(previous, entry, limits);
  const keep = previous.Startup ? { Startup: previous.Startup } : {};
  if (entry.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log, ...keep };
  if (inStartPeriod) return { Status: previous.Status, FailingStreak: previous.FailingStreak, Log: log, ...keep };
  const streak = previous.FailingStreak + 1;
  return { Status: streak >= Math.max(retries, 1) ? 'unhealthy' : previous.Status, FailingStreak: streak, Log: log, ...keep };
}

/**
 * One startup check result: the status stays "starting"; `success` passes (at least one) end the
 * startup phase, a failure resets the passes and counts towards `retries`.
 */
export function nextStartupHealth(previous: HealthState, entry: HealthLogEntry, startup: StartupHealthCheck, limits: HealthLogLimits = {}): HealthState {
  const was = previous.Startup ?? { Passed: false, Successes: 0, Failures: 0 };
  const Startup = entry.ExitCode === 0
    ? { Passed: was.Successes + 1 >= Math.max(startup.success, 1), Successes: was.Successes + 1, Failures: 0 }
    : { Passed: false, Successes: 0, Failures: was.Failures + 1 };
  return { Status: previous.Status, FailingStreak: previous.FailingStreak, Log: appendLog(previous, entry, limits), Startup };
}

/** Apply one result to the stored state (read-modify-write under the health lock). */
export async function recordHealth(paths: StoragePaths, id: string, entry: HealthLogEntry, check: HealthCheck, inStartPeriod: boolean, startup = false): Promise<HealthState> {
  return withLock(path.join(paths.runroot, 'locks'), `health-${id}`, async () => {
    const previous = readHealth(paths, id) ?? startingHealth();
    const next = startup && check.startup ? nextStartupHealth(previous, entry, check.startup, check) : nextHealth(previous, entry, check.retries, inStartPeriod, check);
    if (fs.existsSync(containerRunDir(paths, id))) writeJsonAtomic(healthFile(paths, id), next);
    // --health-log-destination=DIR: Podman's <id>-healthcheck.log there as well.
    if (check.logDestination && check.logDestination !== 'local') writeJsonAtomic(path.join(check.logDestination, `${id}-healthcheck.log`), next);
    return next;
  });
}
