import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCommand, mkdirInRoot, resolveInRoot } from '../../../src/runtime/command-check.js';

function rootfs(): string {
  const root = fs.mkdtempSync(path.join('/var/tmp', 'berth-cc-'));
  fs.mkdirSync(path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, 'bin/busybox'), '', { mode: 0o755 });
  fs.symlinkSync('busybox', path.join(root, 'bin/sh'));
  fs.symlinkSync('/bin/busybox', path.join(root, 'bin/abs'));
  fs.writeFileSync(path.join(root, 'bin/data'), '', { mode: 0o644 });
  fs.symlinkSync('/', path.join(root, 'escape'));
  return root;
}

test('command lookup inside the rootfs: 127 when missing, 126 when not executable', (t) => {
  const root = rootfs();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const env = ['PATH=/usr/bin:/bin'];
  checkCommand(root, 'sh', env, '/', []);
  checkCommand(root, '/bin/abs', env, '/', []);
  assert.throws(() => checkCommand(root, 'nope', env, '/', []), (e: any) => e.exitCode === 127 && /executable file `nope` not found in \$PATH/.test(e.message));
  assert.throws(() => checkCommand(root, '/bin/data', env, '/', []), (e: any) => e.exitCode === 126 && /permission denied/.test(e.message));
  checkCommand(root, '/mnt/tool', env, '/', ['/mnt']);   // inside a mount: left to crun
});

test('symlinks never leave the rootfs', (t) => {
  const root = rootfs();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  assert.equal(resolveInRoot(root, '/escape/bin/busybox'), path.join(root, 'bin/busybox'));
  assert.equal(resolveInRoot(root, '/escape/etc/passwd'), undefined);   // the host's /etc/passwd is not seen
  mkdirInRoot(root, '/escape/newdir/sub');
  assert.ok(fs.existsSync(path.join(root, 'newdir/sub')));
  assert.ok(!fs.existsSync(path.join(os.tmpdir(), '..', 'newdir')));
});

test('resolveInRoot: .. never climbs above the rootfs; relative links, loops and files in the middle', (t) => {
  const root = rootfs();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.symlinkSync('../../bin/busybox', path.join(root, 'usr/bin/rel'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  assert.equal(resolveInRoot(root, '/../../../bin/busybox'), path.join(root, 'bin/busybox'));
  assert.equal(resolveInRoot(root, '/usr/bin/rel'), path.join(root, 'bin/busybox'));
  assert.equal(resolveInRoot(root, '/usr/./bin//../bin/rel'), path.join(root, 'bin/busybox'));
  assert.equal(resolveInRoot(root, '/'), path.join(root, '/'));
  assert.equal(resolveInRoot(root, '/bin/busybox/inside-a-file'), undefined);   // ENOTDIR: not found, no exception
  assert.equal(resolveInRoot(root, '/loop1/x'), undefined);
  assert.throws(() => checkCommand(root, 'x', ['PATH=/bin/busybox:/loop1:/nowhere'], '/', []), (e: any) => e.exitCode === 127);
});
