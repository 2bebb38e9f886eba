/**
 * `.container` units under a real systemd (test/support/sysbox.ts): the generated unit runs
 * `berth run … -d`, berth names the container's init as Main PID and exits. Checked: start,
 * journal, Main PID and cgroup, nothing resident of berth, stop with the StopSignal, clean slate
 * after stop, exit status as ExecMainStatus, Restart=on-failure, --user units, start at boot,
 * repeated start/stop cycles.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildImageLayout } from '../../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../../support/sysbox.js';

const SERVICE = ['sh', '-c', 'echo started-$0; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done'];

let box: Sysbox;
let image: string;
test.before(async () => {
  const layout = await buildImageLayout({ busybox: true, entrypoint: SERVICE, cmd: ['web'] });
  box = await startSysbox({ name: 'rt-units' });
  await installBerthInSysbox(box);
  await box.startRegistry();
  image = await box.pushImage(layout, 'test/svc:latest');
  await box.exec(['mkdir', '-p', '/etc/containers/systemd', '/root/.config/containers/systemd', '/var/lib/e2e']);
});
test.after(async () => { await box?.stop(); });

async function writeUnit(dir: string, name: string, text: string): Promise<void> {
  await box.exec(['tee', `${dir}/${name}`], { input: text });
}

async function show(unit: string, props: string, user = false): Promise<Record<string, string>> {
  const r = await box.exec(['systemctl', ...(user ? ['--user'] : []), 'show', '-p', props, unit], { env: user ? { XDG_RUNTIME_DIR: '/run/user/0' } : {} });
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Nothing of a container left: state dirs, overlay mounts, crun containers, cidfiles. */
async function assertClean(runtimeDir = '/run'): Promise<void> {
  // .trash too: under systemd a removed container's dirs are deleted at once, not by a helper left in the unit
  const r = await box.sh(`ls -A /var/lib/berth/containers /run/berth/containers 2>/dev/null | grep -v '^/' | grep -v '^\\.' ; ls -A /var/lib/berth/containers/.trash /run/berth/containers/.trash 2>/dev/null | grep -v '^/'; grep -c ' /var/lib/berth/containers/' /proc/self/mountinfo; crun --root /run/berth/crun list -q 2>/dev/null; ls ${runtimeDir}/*.cid 2>/dev/null; true`, { check: false });
  assert.equal(r.stdout.trim(), '0', `leftovers:\n${r.stdout}`);
}

test('system unit: Main PID is the container init, output in the journal, stop delivers SIGTERM, nothing left', async () => {
  await writeUnit('/etc/containers/systemd', 'web.container', `[Container]\nImage=${image}\nNetwork=none\n`);
  await box.systemctl('daemon-reload');
  await box.systemctl('start', 'web.service');
  const p = await show('web.service', 'ActiveState,SubState,MainPID,Type,ControlGroup');
  assert.equal(p.ActiveState, 'active');
  const pid = Number(p.MainPID);
  assert.ok(pid > 0);
  // READY was sent while the init waited for `crun start`: give it a moment to exec the entrypoint.
  const comm = (await box.sh(`for i in $(seq 1 50); do c=$(cat /proc/${pid}/comm); [ "$c" = sh ] && break; sleep 0.1; done; echo $c`)).stdout.trim();
  assert.equal(comm, 'sh', 'Main PID is the container\'s own init');
  const cgroup = (await box.exec(['cat', `/proc/${pid}/cgroup`])).stdout;
  assert.match(cgroup, /^0::\/system\.slice\/web\.service\/berth-[0-9a-f]{12}$/m);
  // The container's cgroup got every controller the service has (here only hugetlb: the host's others
  // are on cgroup v1): berth and its helper left the service's own cgroup first, as cgroup v2 enables
  // no controller below a cgroup that holds a process (crun would retry for seconds, then go without).
  const own = /^0::(\S+)$/m.exec(cgroup)![1];
  const controllersOf = async (cg: string) => (await box.exec(['cat', `/sys/fs/cgroup${cg}/cgroup.controllers`])).stdout.trim();
  const serviceControllers = await controllersOf(p.ControlGroup);
  assert.notEqual(serviceControllers, '');
  assert.equal(await controllersOf(own), serviceControllers);
  // No berth (node), crun or store lock helper (perl/flock) stays resident in the service.
  const procs = await box.sh(`for f in $(find /sys/fs/cgroup${p.ControlGroup} -name cgroup.procs); do cat $f; done | xargs -r -n1 sh -c 'cat /proc/$0/comm 2>/dev/null || true'`);
  assert.deepEqual([...new Set(procs.stdout.trim().split('\n'))].sort(), ['sh', 'sleep'].filter((c) => procs.stdout.includes(c)).sort());
  assert.ok(!/node|crun|berth|perl|flock/.test(procs.stdout), procs.stdout);
  const ps = await box.exec(['/usr/local/bin/berth', 'ps', '--format', '{{.Names}} {{.State}}']);
  assert.equal(ps.stdout, 'systemd-web running\n');
  // `berth logs` reads the unit's journal (the container writes to the service's streams).
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('started-web'); i++) logs = (await box.exec(['/usr/local/bin/berth', 'logs', 'systemd-web'])).stdout;
  assert.match(logs, /^started-web$/m);
  await box.systemctl('stop', 'web.service');
  const after = await show('web.service', 'ActiveState,Result,ExecMainStatus');
  assert.equal(after.ActiveState, 'inactive');
  assert.equal(after.Result, 'success');
  const journal = await box.journal('web.service');
  assert.match(journal, /started-web/);
  assert.match(journal, /got-term/);
  const ident = await box.exec(['journalctl', '-u', 'web.service', '-o', 'verbose', '--grep', 'started-web', '--no-pager']);
  assert.match(ident.stdout, /SYSLOG_IDENTIFIER=web/);
  await assertClean();
});

test('PublishPort on the default bridge network: the published port answers from the container', async () => {
  await box.exec(['mkdir', '-p', '/srv/www']);
  await box.exec(['tee', '/srv/www/index.html'], { input: 'hello from berth\n' });
  await writeUnit('/etc/containers/systemd', 'http.container', `[Container]\nImage=${image}\nPublishPort=127.0.0.1:8080:80\nRunInit=yes\nVolume=/srv/www:/www:ro\nEntrypoint=httpd\nExec=-f -p 80 -h /www\n`);
  await box.systemctl('daemon-reload');
  await box.systemctl('start', 'http.service');
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    body = (await box.exec(['sh', '-c', 'wget -q -O - http://127.0.0.1:8080/ 2>/dev/null || busybox wget -q -O - http://127.0.0.1:8080/ 2>/dev/null || true'])).stdout;
    if (!body) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(body, 'hello from berth\n');
  assert.match((await box.exec(['/usr/local/bin/berth', 'ps'])).stdout, /127\.0\.0\.1:8080->80\/tcp\s+systemd-http/);
  await box.systemctl('stop', 'http.service');
  await assertClean();
  assert.equal((await box.sh('ls /run/berth/netns 2>/dev/null | wc -l')).stdout.trim(), '0');
});

test('Notify=healthy: systemctl start returns only after the first passing health check', async () => {
  await writeUnit('/etc/containers/systemd', 'slow.container', [
    '[Container]', `Image=${image}`, 'Network=none', 'Notify=healthy', 'HealthCmd=test -f /tmp/ready', 'HealthInterval=1s', 'RunInit=yes',
    'Entrypoint=sh', 'Exec=-c "sleep 2; touch /tmp/ready; exec sleep 1000"', '',
  ].join('\n'));
  await box.systemctl('daemon-reload');
  const unit = (await box.exec(['systemctl', 'cat', 'slow.service'])).stdout;
  assert.match(unit, /--sdnotify=healthy/);
  await box.systemctl('start', 'slow.service');
  assert.equal((await box.exec(['/usr/local/bin/berth', 'exec', 'systemd-slow', 'test', '-f', '/tmp/ready'], { check: false })).exitCode, 0);
  await box.systemctl('stop', 'slow.service');
  await assertClean();
});

test('exit status is ExecMainStatus; Restart=on-failure restarts on 1, not on 0', async () => {
  await writeUnit('/etc/containers/systemd', 'three.container', `[Container]\nImage=${image}\nNetwork=none\nEntrypoint=sh\nExec=-c "echo exiting; exit 3"\n[Service]\nRestart=no\n`);
  await writeUnit('/etc/containers/systemd', 'flaky.container', [
    '[Container]', `Image=${image}`, 'Network=none', 'Volume=/var/lib/e2e:/state', 'Entrypoint=sh',
    'Exec=-c "n=$$(cat /state/n 2>/dev/null || echo 0); n=$$((n+1)); echo $$n > /state/n; echo run-$$n; [ $$n -ge 2 ] && exit 0; exit 1"',
    '[Service]', 'Restart=on-failure', 'RestartSec=100ms', '',
  ].join('\n'));
  await box.systemctl('daemon-reload');
  await box.exec(['systemctl', 'start', 'three.service'], { check: false });
  await box.waitForState('three.service', 'failed');
  const three = await show('three.service', 'ExecMainStatus,ExecMainCode,Result');
  assert.equal(three.ExecMainStatus, '3');
  assert.equal(three.Result, 'exit-code');
  // Watch the unit from inside while it runs: exit 1 must be seen (ExecMainStatus=1) and restarted (NRestarts=1).
  const watch = box.sh('for i in $(seq 1 600); do s=$(systemctl show -p ActiveState,NRestarts,ExecMainStatus flaky.service | tr "\\n" " "); echo "$s"; case "$s" in *NRestarts=1*) seen=1;; esac; [ -n "$seen" ] && case "$s" in *ActiveState=inactive*) break;; esac; sleep 0.05; done');
  await box.exec(['systemctl', 'start', 'flaky.service'], { check: false });
  const seen = (await watch).stdout;
  assert.match(seen, /ExecMainStatus=1 /, seen);
  assert.match(seen, /NRestarts=1 /, seen);
  const flaky = await show('flaky.service', 'ActiveState,ExecMainStatus,Result');
  assert.deepEqual(flaky, { ActiveState: 'inactive', ExecMainStatus: '0', Result: 'success' });
  const journal = await box.journal('flaky.service');
  assert.match(journal, /run-1[\s\S]*run-2/);
  assert.doesNotMatch(journal, /run-3/);
  await box.exec(['systemctl', 'reset-failed', 'three.service']);
  await assertClean();
});

test('user unit under systemctl --user, started at boot by default.target', async () => {
  await writeUnit('/root/.config/containers/systemd', 'uweb.container', `[Container]\nImage=${image}\nNetwork=none\nExec=user\n[Install]\nWantedBy=default.target\n`);
  // The user manager boots now (first userSystemctl call): its default.target must start uweb.
  await box.userSystemctl('is-system-running').catch(() => undefined);
  await box.waitForState('uweb.service', 'active', { user: true, timeoutMs: 60000 });
  const p = await show('uweb.service', 'MainPID,ControlGroup', true);
  const comm = (await box.sh(`for i in $(seq 1 50); do c=$(cat /proc/${p.MainPID}/comm); [ "$c" = sh ] && break; sleep 0.1; done; echo $c`)).stdout.trim();
  assert.equal(comm, 'sh');
  assert.match((await box.exec(['cat', `/proc/${p.MainPID}/cgroup`])).stdout, /user@0\.service\/app\.slice\/uweb\.service\/berth-/);
  await box.userSystemctl('stop', 'uweb.service');
  assert.match(await box.journal('uweb.service', { user: true }), /started-user[\s\S]*got-term/);
  await assertClean('/run/user/0');
});

test('ten start/stop cycles in a row: none fails or times out', async () => {
  const starts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now();
    await box.systemctl('start', 'web.service');
    starts.push(Date.now() - t0);
    assert.equal((await show('web.service', 'ActiveState')).ActiveState, 'active');
    await box.systemctl('stop', 'web.service');
    assert.equal((await show('web.service', 'ActiveState')).ActiveState, 'inactive');
  }
  const failed = await box.exec(['journalctl', '--no-pager', '-o', 'cat', '--grep', 'web.service.*(Failed|timed out)|Cannot find unit'], { check: false });
  assert.equal(failed.stdout.trim(), '');
  await assertClean();
  process.stderr.write(`# systemctl start (ms): ${starts.join(' ')}\n`);
});

test('Notify=true: the container\'s own READY (sent to crun\'s notify socket) decides readiness; no READY times out', async () => {
  // busybox has no systemd-notify, but its logger sends one datagram to /dev/log: pointed at the
  // notify socket, `logger READY=1` is a notification (crun looks for READY=1 in what it receives).
  await writeUnit('/etc/containers/systemd', 'ntfy.container', [
    '[Container]', `Image=${image}`, 'Network=none', 'Notify=true', 'RunInit=yes', 'Entrypoint=sh',
    'Exec=-c "echo socket=$$NOTIFY_SOCKET; echo before-ready; sleep 2; ln -sf $$NOTIFY_SOCKET /dev/log && logger READY=1; echo after-ready; exec sleep 1000"', '',
  ].join('\n'));
  await writeUnit('/etc/containers/systemd', 'mute.container', [
    '[Container]', `Image=${image}`, 'Network=none', 'Notify=true', 'RunInit=yes', 'Entrypoint=sleep', 'Exec=1000',
    '[Service]', 'TimeoutStartSec=5', '',
  ].join('\n'));
  await box.systemctl('daemon-reload');
  assert.match((await box.exec(['systemctl', 'cat', 'ntfy.service'])).stdout, /--sdnotify=container/);
  const t0 = Date.now();
  await box.systemctl('start', 'ntfy.service');
  const took = Date.now() - t0;
  assert.ok(took >= 2000, `systemctl start returned after ${took} ms, before the container's READY`);
  const p = await show('ntfy.service', 'ActiveState,ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic');
  assert.equal(p.ActiveState, 'active');
  assert.ok(Number(p.ActiveEnterTimestampMonotonic) - Number(p.ExecMainStartTimestampMonotonic) >= 2_000_000, JSON.stringify(p));
  const journal = await box.waitForJournal('ntfy.service', /after-ready/);
  assert.match(journal, /socket=\/\S+/);
  assert.match(journal, /before-ready[\s\S]*after-ready/);
  await box.systemctl('stop', 'ntfy.service');

  const t1 = Date.now();
  const mute = await box.exec(['systemctl', 'start', 'mute.service'], { check: false, timeoutMs: 30_000 });
  assert.notEqual(mute.exitCode, 0);
  assert.ok(Date.now() - t1 >= 5000);
  await box.waitForState('mute.service', 'failed');
  assert.equal((await show('mute.service', 'Result')).Result, 'timeout');
  await box.exec(['systemctl', 'reset-failed', 'mute.service']);
  await assertClean();
});
