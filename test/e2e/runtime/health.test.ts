/**
 * Repeated health checks under a real systemd (test/support/sysbox.ts): a `.container` with
 * HealthCmd/HealthInterval=1s gets a transient <id>.timer + <id>.service pair in the manager of
 * its own service, which runs `berth healthcheck run <id>` every second. Checked: the status
 * turns healthy by itself, turns unhealthy once the checked file is removed (berth inspect,
 * berth ps), HealthOnFailure=kill fails the unit so that Restart=on-failure starts a new
 * container, and the timer pair is gone after `systemctl stop`; the same in the user manager.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildImageLayout } from '../../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../../support/sysbox.js';

// Touches /tmp/ok at start (a fresh container is healthy), exits 0 on SIGTERM.
const SERVE = '#!/bin/sh\ntouch /tmp/ok\necho serving\ntrap "exit 0" TERM\nwhile :; do sleep 0.1; done\n';
const USER_ENV = { XDG_RUNTIME_DIR: '/run/user/0' };

let box: Sysbox;
let image: string;
test.before(async () => {
  const layout = await buildImageLayout({ busybox: true, files: { '/bin/serve': { content: SERVE, mode: 0o755 } }, entrypoint: ['/bin/serve'] });
  box = await startSysbox({ name: 'rt-health' });
  await installBerthInSysbox(box);
  await box.startRegistry();
  image = await box.pushImage(layout, 'test/health:latest');
  await box.exec(['mkdir', '-p', '/etc/containers/systemd', '/root/.config/containers/systemd']);
});
test.after(async () => { await box?.stop(); });

const berth = async (...args: string[]): Promise<string> => (await box.exec(['/usr/local/bin/berth', ...args])).stdout;

async function show(unit: string, props: string, user = false): Promise<Record<string, string>> {
  const r = await box.exec(['systemctl', ...(user ? ['--user'] : []), 'show', '-p', props, unit], { env: user ? USER_ENV : {} });
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function health(name: string): Promise<{ Status: string; FailingStreak: number; Log: { ExitCode: number }[] }> {
  return JSON.parse(await berth('inspect', '--format', '{{json .State.Health}}', name));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('HealthInterval=1s: healthy by itself, unhealthy after the file is removed; the timer goes with systemctl stop', async () => {
  await box.exec(['tee', '/etc/containers/systemd/hc.container'], { input: [
    '[Container]', `Image=${image}`, 'Network=none', 'HealthCmd=test -f /tmp/ok', 'HealthInterval=1s', 'HealthRetries=2', '',
  ].join('\n') });
  await box.systemctl('daemon-reload');
  await box.systemctl('start', 'hc.service');
  const id = (await berth('inspect', '--format', '{{.Id}}', 'systemd-hc')).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const timer = await show(`${id}.timer`, 'LoadState,ActiveState,Triggers');
  assert.deepEqual(timer, { LoadState: 'loaded', ActiveState: 'active', Triggers: `${id}.service` });
  assert.match((await box.exec(['systemctl', 'cat', `${id}.service`])).stdout, /"healthcheck" "run" "[0-9a-f]{64}"/);

  // Nobody runs `berth healthcheck run` here: the timer does, repeatedly.
  await until('healthy', async () => ((await health('systemd-hc')).Status === 'healthy' ? true : undefined));
  const runs = await until('three checks', async () => { const h = await health('systemd-hc'); return h.Log.length >= 3 ? h : undefined; });
  assert.ok(runs.Log.every((e) => e.ExitCode === 0));
  assert.match(await berth('ps'), /Up .* \(healthy\)\s+systemd-hc/);

  await berth('exec', 'systemd-hc', 'rm', '/tmp/ok');
  const sick = await until('unhealthy', async () => { const h = await health('systemd-hc'); return h.Status === 'unhealthy' ? h : undefined; });
  assert.ok(sick.FailingStreak >= 2);
  assert.notEqual(sick.Log.at(-1)!.ExitCode, 0);
  assert.match(await berth('ps'), /\(unhealthy\)\s+systemd-hc/);
  // HealthOnFailure defaults to none: the unit keeps running.
  assert.equal((await show('hc.service', 'ActiveState')).ActiveState, 'active');

  await box.systemctl('stop', 'hc.service');
  for (const unit of [`${id}.timer`, `${id}.service`]) assert.equal((await show(unit, 'LoadState')).LoadState, 'not-found', `${unit} removed`);
  assert.equal((await box.exec(['systemctl', 'list-timers', '--all', '--no-legend'])).stdout.includes(id), false);
});

test('HealthOnFailure=kill: the unit fails and Restart=on-failure starts a new, healthy container', async () => {
  await box.exec(['tee', '/etc/containers/systemd/hk.container'], { input: [
    '[Container]', `Image=${image}`, 'Network=none', 'HealthCmd=test -f /tmp/ok', 'HealthInterval=1s', 'HealthRetries=1', 'HealthOnFailure=kill',
    '[Service]', 'Restart=on-failure', 'RestartSec=1s', '',
  ].join('\n') });
  await box.systemctl('daemon-reload');
  assert.match((await box.exec(['systemctl', 'cat', 'hk.service'])).stdout, /--health-on-failure kill/);
  await box.systemctl('start', 'hk.service');
  const first = await show('hk.service', 'MainPID,NRestarts');
  const oldId = (await berth('inspect', '--format', '{{.Id}}', 'systemd-hk')).trim();
  await until('healthy', async () => ((await health('systemd-hk')).Status === 'healthy' ? true : undefined));

  // Watch the unit from inside: between the kill and the restart it must be seen failed by SIGKILL.
  const watch = box.sh('for i in $(seq 1 600); do s=$(systemctl show -p ActiveState,Result,ExecMainCode,ExecMainStatus,NRestarts hk.service | tr "\\n" " "); echo "$s"; case "$s" in *NRestarts=1*ActiveState=active*|*ActiveState=active*NRestarts=1*) break;; esac; sleep 0.05; done');
  await berth('exec', 'systemd-hk', 'rm', '/tmp/ok');
  const restarted = await until('a restart', async () => {
    const p = await show('hk.service', 'ActiveState,MainPID,NRestarts');
    return p.NRestarts === '1' && p.ActiveState === 'active' && p.MainPID !== first.MainPID && p.MainPID !== '0' ? p : undefined;
  }, 30_000);
  assert.equal(first.NRestarts, '0');
  assert.ok(Number(restarted.MainPID) > 0);
  const journal = await box.journal('hk.service');
  assert.match(journal, /serving[\s\S]*serving/, 'the container ran twice');
  const seen = (await watch).stdout;
  const failedLine = seen.split('\n').find((l) => / Result=signal /.test(` ${l}`) && / ExecMainStatus=9 /.test(` ${l}`) && / NRestarts=0 /.test(` ${l}`));
  assert.ok(failedLine, `never seen failed by SIGKILL before the restart:\n${seen}`);
  const healthJournal = (await box.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', `${oldId}.service`])).stdout;
  assert.match(healthJournal, /container systemd-hk is unhealthy: --health-on-failure=kill \(unit hk\.service\)/, healthJournal);
  // The new container has its own timer, the old one's is gone.
  const newId = (await berth('inspect', '--format', '{{.Id}}', 'systemd-hk')).trim();
  assert.notEqual(newId, oldId);
  assert.equal((await show(`${oldId}.timer`, 'LoadState')).LoadState, 'not-found');
  assert.equal((await show(`${newId}.timer`, 'ActiveState')).ActiveState, 'active');
  await until('healthy again', async () => ((await health('systemd-hk')).Status === 'healthy' ? true : undefined));

  await box.systemctl('stop', 'hk.service');
  assert.equal((await show(`${newId}.timer`, 'LoadState')).LoadState, 'not-found');
  assert.equal((await show(`${newId}.service`, 'LoadState')).LoadState, 'not-found');
});

test('a --user unit: the timer lives in the user manager, not the system one', async () => {
  await box.exec(['tee', '/root/.config/containers/systemd/uhc.container'], { input: [
    '[Container]', `Image=${image}`, 'Network=none', 'HealthCmd=test -f /tmp/ok', 'HealthInterval=1s', '',
  ].join('\n') });
  await box.userSystemctl('daemon-reload');
  await box.userSystemctl('start', 'uhc.service');
  const id = (await berth('inspect', '--format', '{{.Id}}', 'systemd-uhc')).trim();
  assert.equal((await show(`${id}.timer`, 'ActiveState', true)).ActiveState, 'active');
  assert.equal((await show(`${id}.timer`, 'LoadState')).LoadState, 'not-found', 'not in the system manager');
  await until('healthy', async () => ((await health('systemd-uhc')).Status === 'healthy' ? true : undefined));
  await box.userSystemctl('stop', 'uhc.service');
  assert.equal((await show(`${id}.timer`, 'LoadState', true)).LoadState, 'not-found');
});

test('Notify=healthy: ready after the first passing check, then the timer takes over', async () => {
  await box.exec(['tee', '/etc/containers/systemd/nh.container'], { input: [
    '[Container]', `Image=${image}`, 'Network=none', 'Notify=healthy', 'HealthCmd=test -f /tmp/ok', 'HealthInterval=1s', 'HealthRetries=5', '',
  ].join('\n') });
  await box.systemctl('daemon-reload');
  await box.systemctl('start', 'nh.service');
  const id = (await berth('inspect', '--format', '{{.Id}}', 'systemd-nh')).trim();
  assert.equal((await health('systemd-nh')).Status, 'healthy', 'READY only once healthy');
  assert.equal((await show(`${id}.timer`, 'ActiveState')).ActiveState, 'active');
  const before = (await health('systemd-nh')).Log.length;
  await until('more checks from the timer', async () => ((await health('systemd-nh')).Log.length >= Math.min(before + 2, 5) ? true : undefined));
  await box.systemctl('stop', 'nh.service');
  assert.equal((await show(`${id}.timer`, 'LoadState')).LoadState, 'not-found');
});

test('HealthStartupCmd: a startup timer runs until the startup check passes, then the regular timer replaces it', async () => {
  await box.exec(['tee', '/etc/containers/systemd/hs.container'], { input: [
    '[Container]', `Image=${image}`, 'Network=none', 'HealthCmd=test -f /tmp/ok', 'HealthInterval=1s',
    'HealthStartupCmd=test -f /tmp/up', 'HealthStartupInterval=1s', '',
  ].join('\n') });
  await box.systemctl('daemon-reload');
  await box.systemctl('start', 'hs.service');
  const id = (await berth('inspect', '--format', '{{.Id}}', 'systemd-hs')).trim();
  assert.equal((await show(`${id}-startup.timer`, 'ActiveState')).ActiveState, 'active');
  assert.equal((await show(`${id}.timer`, 'LoadState')).LoadState, 'not-found');
  const waiting = await until('two startup checks', async () => { const h = await health('systemd-hs'); return h.Log.length >= 2 ? h : undefined; });
  assert.equal(waiting.Status, 'starting', 'the regular check has not run: /tmp/ok exists, yet not healthy');
  assert.ok(waiting.Log.every((e) => e.ExitCode === 1));

  await berth('exec', 'systemd-hs', 'touch', '/tmp/up');
  await until('healthy', async () => ((await health('systemd-hs')).Status === 'healthy' ? true : undefined));
  await until('the regular timer', async () => ((await show(`${id}.timer`, 'ActiveState')).ActiveState === 'active' ? true : undefined));
  await until('the startup timer gone', async () => ((await show(`${id}-startup.timer`, 'LoadState')).LoadState === 'not-found' ? true : undefined));
  await box.systemctl('stop', 'hs.service');
  for (const unit of [`${id}.timer`, `${id}.service`, `${id}-startup.timer`, `${id}-startup.service`]) assert.equal((await show(unit, 'LoadState')).LoadState, 'not-found', unit);
});
