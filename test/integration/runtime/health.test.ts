/**
 * Health checks without systemd (this host, inside a private namespace): `berth run -d` says the
 * check cannot be repeated, `berth healthcheck run` by hand checks, records Status/FailingStreak/Log
 * (inspect, ps) and applies --health-on-failure; timeouts, start period and the 125 errors.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, TERM_AWARE, type World } from './harness.js';

let w: World;
test.before(async () => { w = await startWorld('health', { service: { busybox: true, entrypoint: TERM_AWARE } }); });
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Health { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] }
async function health(name: string): Promise<Health> {
  return JSON.parse(await ok(['inspect', '--format', '{{json .State.Health}}', name])) as Health;
}

test('by hand: healthy, then unhealthy after retries; inspect and ps show it; the warning says why nothing repeats', async () => {
  const run = await w.berth(['run', '-d', '--name', 'hc', '--network=none', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '1s', '--health-retries', '2', '--entrypoint=', w.images.service, 'sh', '-c', 'touch /tmp/ok; trap "exit 0" TERM; while :; do sleep 0.1; done']);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stderr, /Warning: the health check of container hc is not repeated: systemd is not running here .*berth healthcheck run hc/);
  assert.equal((await health('hc')).Status, 'starting');
  const config = JSON.parse(await ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'hc']));
  assert.deepEqual(config, { Test: ['CMD-SHELL', 'test -f /tmp/ok && echo fine'], Interval: 1e9, Timeout: 30e9, Retries: 2, StartPeriod: 0 });
  for (let i = 0; i < 50; i++) { if ((await w.berth(['exec', 'hc', 'test', '-f', '/tmp/ok'])).exitCode === 0) break; await new Promise((r) => setTimeout(r, 100)); }

  const pass = await w.berth(['healthcheck', 'run', 'hc']);
  assert.deepEqual([pass.exitCode, pass.stdout], [0, '']);
  let h = await health('hc');
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length, h.Log[0].ExitCode, h.Log[0].Output], ['healthy', 0, 1, 0, 'fine\n']);
  assert.match(await ok(['ps']), /Up .* \(healthy\)\s+hc/);

  await ok(['exec', 'hc', 'rm', '/tmp/ok']);
  const fail1 = await w.berth(['healthcheck', 'run', 'hc']);
  assert.deepEqual([fail1.exitCode, fail1.stdout], [1, 'unhealthy\n']);
  h = await health('hc');
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1], 'one failure of two allowed');
  assert.equal((await w.berth(['healthcheck', 'run', 'hc'])).exitCode, 1);
  h = await health('hc');
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.map((e) => e.ExitCode)], ['unhealthy', 2, [0, 1, 1]]);
  assert.match(await ok(['ps']), /\(unhealthy\)\s+hc/);
  assert.match((JSON.parse(await ok(['ps', '--format', 'json'])) as { Status: string }[])[0].Status, /^Up .* \(unhealthy\)$/);
  // --health-on-failure defaults to none: still running
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}}', 'hc'])).trim(), 'running');
  await ok(['rm', '-f', '-t', '0', 'hc']);
  assert.deepEqual(await w.leftovers(), []);
});

test('errors are 125: no such container, no health check, not running', async () => {
  const missing = await w.berth(['healthcheck', 'run', 'nosuch']);
  assert.equal(missing.exitCode, 125);
  assert.match(missing.stderr, /no container with name or ID "nosuch"/);
  await ok(['create', '--name', 'plain', '--network=none', w.images.service]);
  const none = await w.berth(['healthcheck', 'run', 'plain']);
  assert.deepEqual([none.exitCode, none.stderr.trim()], [125, 'Error: container plain has no defined healthcheck']);
  await ok(['create', '--name', 'idle', '--network=none', '--health-cmd', 'true', w.images.service]);
  const idle = await w.berth(['healthcheck', 'run', 'idle']);
  assert.deepEqual([idle.exitCode, idle.stderr.trim()], [125, 'Error: container idle is not running']);
  await ok(['rm', 'plain', 'idle']);
});

test('timeout, start period, and --health-on-failure kill / restart / stop without systemd', async () => {
  // A check that outlives --health-timeout fails with ExitCode -1; inside the start period it does not count.
  await ok(['run', '-d', '--name', 'slow', '--network=none', '--health-cmd', 'sleep 5', '--health-timeout', '1s', '--health-retries', '1', '--health-start-period', '1m', '--health-interval=disable', w.images.service]);
  const t0 = Date.now();
  assert.equal((await w.berth(['healthcheck', 'run', 'slow'])).exitCode, 1);
  assert.ok(Date.now() - t0 < 4500, 'the check was cut at its timeout');
  const h = await health('slow');
  assert.deepEqual([h.Status, h.FailingStreak, h.Log[0].ExitCode], ['starting', 0, -1]);
  assert.match(h.Log[0].Output, /exceeded timeout of 1s/);
  await ok(['rm', '-f', '-t', '0', 'slow']);

  const failing = ['--network=none', '--health-cmd', 'false', '--health-retries', '1', '--health-interval=disable'];
  await ok(['run', '-d', '--name', 'k', ...failing, '--health-on-failure', 'kill', w.images.service]);
  assert.equal((await w.berth(['healthcheck', 'run', 'k'])).exitCode, 1);
  assert.equal((await ok(['wait', 'k'])).trim(), '137', 'killed with SIGKILL');

  await ok(['run', '-d', '--name', 's', ...failing, '--health-on-failure', 'stop', w.images.service]);
  assert.equal((await w.berth(['healthcheck', 'run', 's'])).exitCode, 1);
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}}', 's'])).trim(), 'exited');

  await ok(['run', '-d', '--name', 'r', ...failing, '--health-on-failure', 'restart', w.images.service]);
  const before = (await ok(['inspect', '--format', '{{.State.Pid}}', 'r'])).trim();
  assert.equal((await w.berth(['healthcheck', 'run', 'r'])).exitCode, 1);
  const after = (await ok(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'r'])).trim().split(' ');
  assert.equal(after[0], 'running');
  assert.notEqual(after[1], before, 'a new process after the restart');
  assert.equal((await health('r')).Status, 'starting', 'a restart begins at starting again');
  const list = await ok(['ps', '-a', '--no-trunc']);
  await ok(['rm', '-f', '-t', '0', 'k', 's', 'r']);
  assert.deepEqual(await w.leftovers(), [], list);
});

test('startup check by hand: gates the regular check until it passed twice; failing it restarts the container', async () => {
  await ok(['run', '-d', '--name', 'st', '--network=none', '--health-cmd', 'echo regular', '--health-interval=disable',
    '--health-startup-cmd', 'test -f /tmp/up && echo startup', '--health-startup-success', '2', '--health-startup-interval=disable', w.images.service]);
  assert.deepEqual(JSON.parse(await ok(['inspect', '--format', '{{json .Config.StartupHealthCheck}}', 'st'])),
    { Test: ['CMD-SHELL', 'test -f /tmp/up && echo startup'], Interval: 0, Timeout: 30e9, Retries: 0, Successes: 2 });
  const fail = await w.berth(['healthcheck', 'run', 'st']);
  assert.equal(fail.exitCode, 1);
  await ok(['exec', 'st', 'touch', '/tmp/up']);
  assert.equal((await w.berth(['healthcheck', 'run', 'st'])).exitCode, 0);
  let h = await health('st');
  assert.deepEqual([h.Status, h.Log.map((e) => e.Output.trim())], ['starting', ['', 'startup']], 'one pass of two: still starting');
  assert.equal((await w.berth(['healthcheck', 'run', 'st'])).exitCode, 0);
  assert.equal((await w.berth(['healthcheck', 'run', 'st'])).exitCode, 0);
  h = await health('st');
  assert.deepEqual([h.Status, h.Log.map((e) => e.Output.trim())], ['healthy', ['', 'startup', 'startup', 'regular']]);

  await ok(['run', '-d', '--name', 'sf', '--network=none', '--health-cmd', 'true', '--health-startup-cmd', 'false', '--health-startup-retries', '2', '--health-startup-interval=disable', w.images.service]);
  const pid = (await ok(['inspect', '--format', '{{.State.Pid}}', 'sf'])).trim();
  assert.equal((await w.berth(['healthcheck', 'run', 'sf'])).exitCode, 1);
  assert.equal((await ok(['inspect', '--format', '{{.State.Pid}}', 'sf'])).trim(), pid, 'one failure of two: not restarted');
  assert.equal((await w.berth(['healthcheck', 'run', 'sf'])).exitCode, 1);
  const after = (await ok(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'sf'])).trim().split(' ');
  assert.equal(after[0], 'running');
  assert.notEqual(after[1], pid, 'restarted after two startup failures');
  await ok(['rm', '-f', '-t', '0', 'st', 'sf']);
  assert.deepEqual(await w.leftovers(), []);
});
