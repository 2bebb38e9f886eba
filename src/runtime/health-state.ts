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
import type { HealthCheck } from './types.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthLogEntry[] }

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

export function nextHealth(previous: HealthState, entry: HealthLogEntry, retries: number, inStartPeriod: boolean, limits: HealthLogLimits = {}): HealthState {
  const count = limits.maxLogCount ?? HEALTH_LOG_ENTRIES;
  const size = limits.maxLogSize ?? HEALTH_OUTPUT_MAX;
  const all = [...previous.Log, { ...entry, Output: size > 0 ? entry.Output.slice(0, size) : entry.Output }];
  const log = count > 0 ? all.slice(-count) : all;
  if (entry.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  if (inStartPeriod) return { Status: previous.Status, FailingStreak: previous.FailingStreak, Log: log };
  const streak = previous.FailingStreak + 1;
  return { Status: streak >= Math.max(retries, 1) ? 'unhealthy' : previous.Status, FailingStreak: streak, Log: log };
}

/** Apply one result to the stored state (read-modify-write under the health lock). */
export async function recordHealth(paths: StoragePaths, id: string, entry: HealthLogEntry, check: HealthCheck, inStartPeriod: boolean): Promise<HealthState> {
  return withLock(path.join(paths.runroot, 'locks'), `health-${id}`, async () => {
    const next = nextHealth(readHealth(paths, id) ?? startingHealth(), entry, check.retries, inStartPeriod, check);
    if (fs.existsSync(containerRunDir(paths, id))) writeJsonAtomic(healthFile(paths, id), next);
    // --health-log-destination=DIR: Podman's <id>-healthcheck.log there as well.
    if (check.logDestination && check.logDestination !== 'local') writeJsonAtomic(path.join(check.logDestination, `${id}-healthcheck.log`), next);
    return next;
  });
}
