import test from 'node:test';
import assert from 'node:assert/strict';
import { nextHealth, nextStartupHealth, startingHealth, HEALTH_LOG_ENTRIES, HEALTH_OUTPUT_MAX, type HealthLogEntry } from '../../../src/runtime/health-state.js';
import { systemdRunArgs, timeSpan, wantsUserManager } from '../../../src/runtime/health-timer.js';
import { healthArgv } from '../../../src/runtime/health.js';
import { parseRunCommandLine } from '../../../src/cli/commands/container-flags.js';
import type { ContainerRecord } from '../../../src/runtime/types.js';

const entry = (exitCode: number, output = ''): HealthLogEntry => ({ Start: '2026-01-01T00:00:00Z', End: '2026-01-01T00:00:01Z', ExitCode: exitCode, Output: output });

test('health: a pass is healthy and clears the streak; retries failures in a row make it unhealthy', () => {
  let h = startingHealth();
  h = nextHealth(h, entry(1), 2, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
  h = nextHealth(h, entry(0), 2, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = nextHealth(h, entry(1), 2, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1]);
  h = nextHealth(h, entry(-1, 'timeout'), 2, false);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
  assert.deepEqual(h.Log.map((e) => e.ExitCode), [1, 0, 1, -1]);
  // retries 0 behaves as 1 (Podman: streak >= retries)
  assert.equal(nextHealth(startingHealth(), entry(1), 0, false).Status, 'unhealthy');
});

test('health: failures inside the start period are logged, not counted', () => {
  const h = nextHealth(nextHealth(startingHealth(), entry(1), 1, true), entry(1), 1, true);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 2]);
  assert.equal(nextHealth(h, entry(1), 1, false).Status, 'unhealthy');
});

test('health: the log keeps the last entries, outputs cut', () => {
  let h = startingHealth();
  for (let i = 0; i < 8; i++) h = nextHealth(h, entry(i % 2, 'x'.repeat(2000)), 100, false);
  assert.equal(h.Log.length, HEALTH_LOG_ENTRIES);
  assert.equal(h.Log[0].ExitCode, 1);
  assert.ok(h.Log.every((e) => e.Output.length === HEALTH_OUTPUT_MAX));
});

test('health: test forms (CMD-SHELL, CMD, plain)', () => {
  assert.deepEqual(healthArgv(['CMD-SHELL', 'test -f /x']), ['/bin/sh', '-c', 'test -f /x']);
  assert.deepEqual(healthArgv(['CMD', 'true', 'x']), ['true', 'x']);
  assert.deepEqual(healthArgv(['true']), ['true']);
});

test('health timer: the manager follows the caller (user@UID.service or non-root → --user)', () => {
  assert.equal(wantsUserManager('/user.slice/user-0.slice/user@0.service/app.slice/web.service', 0), true);
  assert.equal(wantsUserManager('/system.slice/web.service', 0), false);
  assert.equal(wantsUserManager('/user.slice/user-1000.slice/session-2.scope', 1000), true);
  assert.equal(wantsUserManager('/user.slice/user-0.slice/session-2.scope', 0), false);
  // rootless berth is uid 0 inside its user namespace, and still the user to systemd
  assert.equal(wantsUserManager('/user.slice/user-1000.slice/session-2.scope', 0, true), true);
  assert.equal(timeSpan(1000), '1s');
  assert.equal(timeSpan(1500), '1500ms');
});

test('health timer: systemd-run creates <id>.timer/<id>.service running `berth healthcheck run <id>`', async () => {
  const parsed = await parseRunCommandLine({ '--': ['run', '--health-cmd', 'test -f /ok', '--health-interval', '2s', '--health-on-failure', 'kill', 'img'] }, 'run', {});
  assert.equal(parsed.options.healthCheck?.onFailure, 'kill');
  const record = { id: 'a'.repeat(64), name: 'web', options: parsed.options } as ContainerRecord;
  const args = systemdRunArgs({ root: '/r', runroot: '/rr' } as never, record, true, { PATH: '/bin' }, '/usr/bin/node');
  assert.equal(args[0], '--user');
  assert.ok(args.includes(`--unit=${'a'.repeat(64)}`));
  assert.ok(args.includes('--on-unit-inactive=2s'));
  assert.ok(args.includes('--setenv=PATH=/bin'));
  const node = args.indexOf('/usr/bin/node');
  assert.match(args[node + 1], /bin\/berth\.js$/);
  assert.deepEqual(args.slice(node + 2), ['--root=/r', '--runroot=/rr', 'healthcheck', 'run', 'a'.repeat(64)]);
  assert.equal(systemdRunArgs({ root: '/r', runroot: '/rr' } as never, record, false, {}, 'node')[0], `--unit=${'a'.repeat(64)}`);
});

test('health flags: --health-on-failure values, --health-interval=disable', async () => {
  const parse = (tokens: string[]) => parseRunCommandLine({ '--': ['run', '--health-cmd', 'true', ...tokens, 'img'] }, 'run', {});
  assert.equal((await parse([])).options.healthCheck?.onFailure, 'none');
  assert.equal((await parse(['--health-interval=disable'])).options.healthCheck?.intervalMs, 0);
  await assert.rejects(parse(['--health-on-failure=explode']), /--health-on-failure "explode": expected one of none, kill, restart, stop/);
});

test('health log flags: --health-max-log-count/-size bound the log, --health-log-destination local|DIR', async () => {
  const parse = (tokens: string[]) => parseRunCommandLine({ '--': ['run', '--health-cmd', 'true', ...tokens, 'img'] }, 'run', {});
  const hc = (await parse(['--health-max-log-count', '2', '--health-max-log-size=3', '--health-log-destination', '/var/tmp'])).options.healthCheck!;
  assert.deepEqual([hc.maxLogCount, hc.maxLogSize, hc.logDestination], [2, 3, '/var/tmp']);
  let h = startingHealth();
  for (let i = 0; i < 4; i++) h = nextHealth(h, entry(i, 'abcdef'), 9, false, hc);
  assert.deepEqual(h.Log.map((e) => [e.ExitCode, e.Output]), [[2, 'abc'], [3, 'abc']]);
  h = startingHealth();
  for (let i = 0; i < 7; i++) h = nextHealth(h, entry(0, 'x'.repeat(600)), 9, false, { maxLogCount: 0, maxLogSize: 0 });
  assert.deepEqual([h.Log.length, h.Log[0].Output.length], [7, 600]);
  await assert.rejects(parse(['--health-log-destination', 'events_logger']), /events_logger is not supported/);
  await assert.rejects(parse(['--health-log-destination', '/no/such/dir']), /expected local or an existing absolute directory/);
  await assert.rejects(parse(['--health-max-log-count', '-1']), /--health-max-log-count "-1"/);
});

test('startup check: passes needed in a row, failures counted, status stays starting; flags need --health-cmd', async () => {
  const startup = { test: ['CMD-SHELL', 'x'], intervalMs: 1000, timeoutMs: 1000, retries: 3, success: 2 };
  let h = nextStartupHealth(startingHealth(), entry(1), startup);
  assert.deepEqual([h.Status, h.Startup], ['starting', { Passed: false, Successes: 0, Failures: 1 }]);
  h = nextStartupHealth(h, entry(0), startup);
  assert.deepEqual(h.Startup, { Passed: false, Successes: 1, Failures: 0 });
  h = nextStartupHealth(h, entry(0), startup);
  assert.deepEqual([h.Status, h.Startup, h.Log.length], ['starting', { Passed: true, Successes: 2, Failures: 0 }, 3]);
  // the regular check keeps the startup progress
  assert.deepEqual(nextHealth(h, entry(0), 3, false).Startup, h.Startup);
  assert.equal(nextStartupHealth(startingHealth(), entry(0), { ...startup, success: 0 }).Startup?.Passed, true, '0: one pass');

  const parse = (tokens: string[]) => parseRunCommandLine({ '--': ['run', ...tokens, 'img'] }, 'run', {});
  const hc = (await parse(['--health-cmd', 'true', '--health-startup-cmd', 'test -f /up', '--health-startup-interval', '2s', '--health-startup-retries', '4', '--health-startup-success', '2'])).options.healthCheck!;
  assert.deepEqual(hc.startup, { test: ['CMD-SHELL', 'test -f /up'], intervalMs: 2000, timeoutMs: 30000, retries: 4, success: 2 });
  await assert.rejects(parse(['--health-startup-cmd', 'true']), /--health-startup-cmd "true": a startup health check needs --health-cmd/);
  const record = { id: 'b'.repeat(64), name: 'web', options: { healthCheck: hc } } as ContainerRecord;
  const args = systemdRunArgs({ root: '/r', runroot: '/rr' } as never, record, false, {}, 'node', 'startup');
  assert.ok(args.includes(`--unit=${'b'.repeat(64)}-startup`) && args.includes('--on-unit-inactive=2s'), args.join(' '));
});
