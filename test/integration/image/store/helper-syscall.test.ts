/**
 * The lock helper's system calls (src/image/store/locks.ts helperSyscall), as src/runtime/rootfs.ts
 * uses them for a container's overlay: a real mount(2) and umount2(2) in a private mount namespace
 * of a child process, errors reported with their errno, and mount(8)/umount(8) without perl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'node:test';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOTFS = path.resolve(HERE, '../../../../src/runtime/rootfs.js');
const LOCKS = path.resolve(HERE, '../../../../src/image/store/locks.js');

/** Runs `script` (an ES module body) in node inside a new private mount namespace. */
function inMountNamespace(script: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = fs.mkdtempSync('/var/tmp/berth-helper-syscall-');
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

function layer(name: string, file: string, content: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, file), content);
  return d;
}

for (const [how, env] of [['mount(2) through the helper', {}], ['mount(8) without perl', { BERTH_LOCKS_NO_PERL: '1' }]] as const) {
  test(`a container's overlay: ${how}`, () => {
    const lower = layer(`lower-${how.length}`, 'from-image', 'image\n');
    const ctr = path.join(dir, `ctr-${how.length}`);
    const r = inMountNamespace(`
      import fs from 'node:fs';
      const { mountRootfs, unmountRootfs, isMounted } = await import(${JSON.stringify(ROOTFS)});
      const merged = await mountRootfs(${JSON.stringify(ctr)}, [${JSON.stringify(lower)}], { volatile: true });
      console.log('mounted', isMounted(merged), fs.readFileSync(merged + '/from-image', 'utf8').trim());
      fs.writeFileSync(merged + '/written', 'x');
      console.log('upper', fs.existsSync(${JSON.stringify(ctr)} + '/upper/written'));
      console.log('volatile', fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').some((l) => l.includes(merged) && /\\bvolatile\\b/.test(l)));
      await unmountRootfs(${JSON.stringify(ctr)});
      console.log('unmounted', !isMounted(merged));
      await unmountRootfs(${JSON.stringify(ctr)});
      console.log('again ok');
    `, env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'mounted true image\nupper true\nvolatile true\nunmounted true\nagain ok\n');
  });
}

test('a failed mount(2) is an error naming the mount point and the kernel\'s reason', () => {
  const ctr = path.join(dir, 'ctr-bad');
  const r = inMountNamespace(`
    const { mountRootfs } = await import(${JSON.stringify(ROOTFS)});
    try { await mountRootfs(${JSON.stringify(ctr)}, [${JSON.stringify(path.join(dir, 'no-such-layer'))}]); console.log('mounted?'); }
    catch (e) { console.log(e.message); }
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`cannot mount the container's root file system: mount\\(2\\) of overlay on ${ctr}/merged: No such file or directory`));
});

// the system call number below is x86-64's umount2 (rootfs.ts has the table for others)
test('helperSyscall: errno of a failing call; refuses arguments it cannot pass', { skip: process.arch !== 'x64' && 'x86-64 only' }, async () => {
  const { helperSyscall } = await import(LOCKS) as typeof import('../../../../src/image/store/locks.js');
  const notMounted = await helperSyscall(166, [dir, { int: 0 }]);
  assert.deepEqual(notMounted && { ok: notMounted.ok, errno: notMounted.ok ? 0 : notMounted.errno }, { ok: false, errno: 22 });
  assert.equal(helperSyscall(166, ['a\tb', { int: 0 }]), undefined);
  assert.equal(helperSyscall(166, ['#1', { int: 0 }]), undefined);
});
