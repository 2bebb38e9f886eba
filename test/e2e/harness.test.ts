/**
 * The sysbox harness itself: a real systemd boots in its own namespaces, runs transient system and
 * user units, stays isolated from the host, and leaves no process, cgroup, mount or state behind,
 * also when two run at once, when the test process exits without stop(), or when it is killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reapOrphans, startSysbox, SYSBOX_STATE_ROOT, type Sysbox } from '../support/sysbox.js';
import { hasExited } from '../support/sysbox/boot.js';
import { ownCgroupDir } from '../support/sysbox/cgroup.js';
import { runCommand as runHost } from '../support/sysbox/run.js';

function assertNoTrace(name: string, pid: number): void {
  assert.ok(hasExited(pid), `systemd (pid ${pid}) still alive`);
  const cgroups = readdirSync(ownCgroupDir()).filter((entry) => entry.includes(name));
  assert.deepEqual(cgroups, [], 'leftover cgroup');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(name));
  assert.deepEqual(mounts, [], 'leftover mount in the host mount namespace');
  assert.equal(existsSync(join(SYSBOX_STATE_ROOT, name)), false, 'leftover state dir');
}

async function withBox(fn: (box: Sysbox) => Promise<void>, name = 'harness'): Promise<{ name: string; pid: number }> {
  const box = await startSysbox({ name });
  try {
    await fn(box);
  } finally {
    await box.stop();
  }
  assertNoTrace(box.name, box.pid);
  return { name: box.name, pid: box.pid };
}

test('boots systemd, runs system and user units, isolated from the host, leaves nothing', async () => {
  await withBox(async (box) => {
    console.log(`# sysbox boot: ${box.bootMs} ms`);
    const state = (await box.exec(['systemctl', 'is-system-running'], { check: false })).stdout.trim();
    assert.match(state, /^(running|degraded)$/);
    assert.equal((await box.exec(['cat', '/proc/1/comm'])).stdout.trim(), 'systemd');

    // (a process that exits at once can beat journald to its cgroup: --sync first, as systemd's own tests do)
    await box.exec(['systemd-run', '--unit=harness-probe', '--wait', '--quiet', 'sh', '-c', 'echo probe-ran-as-$(id -u) in $(hostname); journalctl --sync']);
    await box.waitForJournal('harness-probe.service', new RegExp(`probe-ran-as-0 in sysbox-${box.name}`));

    await box.exec(['systemd-run', '--unit=harness-sleeper', '--property=Type=exec', 'sleep', '1000']);
    await box.waitForState('harness-sleeper.service', 'running');
    await box.systemctl('stop', 'harness-sleeper.service');
    await box.waitForState('harness-sleeper.service', 'inactive');

    await box.userSystemctl('show-environment'); // starts root's user manager on first use
    const userState = await box.exec(['systemctl', '--user', 'is-system-running'], { check: false, env: { XDG_RUNTIME_DIR: '/run/user/0' } });
    assert.match(userState.stdout, /^(running|degraded)$/m);
    await box.exec(['systemd-run', '--user', '--unit=harness-user-probe', '--wait', '--quiet', 'sh', '-c', 'echo user-probe $XDG_RUNTIME_DIR; journalctl --sync'],
      { env: { XDG_RUNTIME_DIR: '/run/user/0' } });
    await box.waitForJournal('harness-user-probe.service', /user-probe \/run\/user\/0/, { user: true });

    // isolation: files written inside stay inside; the network namespace is its own
    const marker = `/etc/berth-harness-${box.name}`;
    await box.exec(['touch', marker]);
    assert.equal(existsSync(marker), false, 'a write inside reached the host');
    const links = (await box.exec(['ip', '-o', 'link', 'show'])).stdout.trim().split('\n');
    assert.equal(links.length, 1, links.join('\n'));
    assert.match(links[0]!, /: lo: .*UP/);
    assert.equal((await box.exec(['pwd'], { cwd: box.repoRoot })).stdout.trim(), box.repoRoot);
    // the repository is bound read-write; /var/lib/berth is a tmpfs (overlay storage cannot live on the overlay root)
    assert.equal((await box.exec(['test', '-f', join(box.repoRoot, 'package.json')], { check: false })).exitCode, 0);
    assert.equal((await box.exec(['stat', '-f', '-c', '%T', '/var/lib/berth'])).stdout.trim(), 'tmpfs');
    // exec'd commands sit inside the box's cgroup namespace
    assert.match((await box.exec(['cat', '/proc/self/cgroup'])).stdout, /^0::\/berth-exec$/m);
    // an ordinary user
    assert.equal((await box.exec(['id', '-u'], { user: '1000' })).stdout.trim(), '1000');
    // failures carry the output
    await assert.rejects(box.exec(['sh', '-c', 'echo to-stderr >&2; exit 3']), /exit status 3[\s\S]*to-stderr/);
  });
});

test('two sysboxes at once are independent', async () => {
  const boxes = await Promise.all([startSysbox({ name: 'harness-a' }), startSysbox({ name: 'harness-b' })]);
  try {
    const [a, b] = boxes as [Sysbox, Sysbox];
    console.log(`# concurrent boots: ${a.bootMs} ms, ${b.bootMs} ms`);
    assert.notEqual(a.pid, b.pid);
    await Promise.all([a.exec(['touch', '/run/only-in-a']), b.startRegistry()]);
    assert.equal((await b.exec(['test', '-e', '/run/only-in-a'], { check: false })).exitCode, 1);
    // b's registry listens on b's 127.0.0.1 only
    assert.equal((await b.exec(['curl', '-fsS', 'http://127.0.0.1:5000/v2/'])).exitCode, 0);
    assert.notEqual((await a.exec(['curl', '-fsS', 'http://127.0.0.1:5000/v2/'], { check: false })).exitCode, 0);
    assert.equal((await b.hostExecInNet(['curl', '-fsS', 'http://127.0.0.1:5000/v2/'])).exitCode, 0);
    // a layout built on the host goes into b's registry (an empty image: config, no layers)
    const layout = `/var/tmp/berth-harness-layout-${process.pid}`;
    try {
      await runHost(['umoci', 'init', '--layout', layout]);
      await runHost(['umoci', 'new', '--image', `${layout}:v1`]);
      assert.equal(await b.pushImage({ layout, tag: 'v1' }, 'harness/empty:v1'), '127.0.0.1:5000/harness/empty:v1');
    } finally {
      rmSync(layout, { recursive: true, force: true });
    }
    const tags = JSON.parse((await b.exec(['curl', '-fsS', 'http://127.0.0.1:5000/v2/harness/empty/tags/list'])).stdout);
    assert.deepEqual(tags.tags, ['v1']);
  } finally {
    await Promise.all(boxes.map((box) => box.stop()));
  }
  for (const box of boxes) assertNoTrace(box.name, box.pid);
});

test('a boot failure says why, with the sysbox log, and leaves nothing', async () => {
  const dir = `/var/tmp/berth-harness-test-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, '');
  try {
    // binding a file over a folder fails inside the boot script
    await assert.rejects(startSysbox({ name: 'harness-fail', binds: [file] }), /boot failed[\s\S]*sysbox log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const left = readdirSync(SYSBOX_STATE_ROOT).filter((entry) => entry.startsWith(`harness-fail-${process.pid}-`));
  assert.deepEqual(left, []);
  assert.deepEqual(readdirSync(ownCgroupDir()).filter((entry) => entry.includes(`harness-fail-${process.pid}-`)), []);
});

/** Runs a node child that boots a sysbox and then ends as `how` says; returns the box's name and pid. */
function childThatBoots(how: 'exit' | 'hang'): Promise<{ name: string; pid: number; child: ReturnType<typeof spawn> }> {
  const support = fileURLToPath(new URL('../support/sysbox.js', import.meta.url));
  const script = `import { startSysbox } from ${JSON.stringify(support)};
    const box = await startSysbox({ name: 'harness-child' });
    console.log(JSON.stringify({ name: box.name, pid: box.pid }));
    ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ ...JSON.parse(out), child });
    });
    child.on('close', (code) => { if (!out.includes('\n')) reject(new Error(`child exited ${code} before booting:\n${err}`)); });
  });
}

test('a test process that exits without stop() leaves nothing (exit hook)', async () => {
  const { name, pid, child } = await childThatBoots('exit');
  await new Promise((resolve) => child.once('close', resolve));
  assertNoTrace(name, pid);
});

test('a box whose test process was killed is reaped by the next start', async () => {
  const { name, pid, child } = await childThatBoots('hang');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  assert.equal(hasExited(pid), false, 'SIGKILL of the owner should not have reached the box');
  reapOrphans(); // a concurrently starting test file may have reaped it already: either way it must be gone
  assertNoTrace(name, pid);
});
