/**
 * Health checks (--health-cmd …): run the test inside the container with `crun exec`. Used by
 * `--sdnotify=healthy` (READY once the first check passes) and `berth healthcheck run`.
 * Periodic checks after readiness are not scheduled (that would need a resident process or a
 * systemd timer): documented limitation.
 */
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord, HealthCheck } from './types.js';
import { execInContainer } from './exec.js';
import { readState } from './state.js';
import { RuntimeError } from '../errors/index.js';

export function healthArgv(test: string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return test;
}

export async function runHealthCheck(paths: StoragePaths, record: ContainerRecord, check: HealthCheck): Promise<boolean> {
  const run = execInContainer(paths, record, healthArgv(check.test), {}, 'pipe');
  const timeout = new Promise<{ exitCode: number }>((r) => setTimeout(() => r({ exitCode: -1 }), check.timeoutMs));
  const { exitCode } = await Promise.race([run, timeout]);
  return exitCode === 0;
}

/** Resolve once a check passes; throw when the container stops first or retries are exhausted after the start period. */
export async function waitHealthy(paths: StoragePaths, record: ContainerRecord, check: HealthCheck): Promise<void> {
  const started = Date.now();
  let failures = 0;
  for (;;) {
    if (readState(paths, record.id).status !== 'running') {
      throw new RuntimeError('unhealthy', `container ${record.name} exited before its health check passed`, { context: { container: record.name } });
    }
    if (await runHealthCheck(paths, record, check)) return;
    if (Date.now() - started > check.startPeriodMs) failures++;
    if (failures >= check.retries) throw new RuntimeError('unhealthy', `container ${record.name} is unhealthy: health check failed ${failures} times`, { context: { container: record.name } });
    await new Promise((r) => setTimeout(r, Math.min(check.intervalMs, 1000)));
  }
}
