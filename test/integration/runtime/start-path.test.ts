/**
 * What `berth run` does on its start path to be fast, checked for correctness: a --rm container's
 * overlay is volatile (no sync at unmount) and a plain one's is not; --network=none leaves
 * the namespace to crun (loopback up, no namespace file, nothing to tear down) and another
 * container can still join it; nothing is left behind.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, TERM_AWARE, type World } from './harness.js';

let w: World;
test.before(async () => {
  w = await startWorld('startpath', {
    busybox: { busybox: true },
    service: { busybox: true, entrypoint: TERM_AWARE, stopSignal: 'SIGTERM' },
  });
});
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The super options of the container's root mount, as the container sees them. */
function rootOverlayOptions(mountinfo: string): string {
  const root = mountinfo.split('\n').find((l) => l.split(' ')[4] === '/');
  assert.ok(root, mountinfo);
  return root.split(' - ')[1];
}

test('--rm: the overlay is volatile; without --rm it is not', async () => {
  assert.match(rootOverlayOptions(await ok(['run', '--rm', '--network=none', w.images.busybox, 'cat', '/proc/self/mountinfo'])), /^overlay overlay \S*\bvolatile\b/);
  await ok(['run', '--name', 'keep', '--network=none', w.images.busybox, 'true']);
  // started again: the same upper and work dirs are mounted again
  const again = await w.berth(['start', '-a', 'keep']);
  assert.equal(again.exitCode, 0, again.stderr);
  await ok(['rm', 'keep']);
  // a --rm container that `start` runs twice mounts the dirs of its earlier volatile overlay again
  await ok(['create', '--rm', '--name', 'twice', '--network=none', w.images.busybox, 'sh', '-c', 'cat /count 2>/dev/null; echo x >> /count']);
  assert.equal(await ok(['start', '-a', 'twice']), '');
  assert.equal(await ok(['start', '-a', 'twice']), 'x\n', 'the upper dir survives a clean unmount');
  await ok(['rm', '-f', 'twice']);
  const plain = rootOverlayOptions(await ok(['run', '--network=none', '--name', 'plain', w.images.busybox, 'cat', '/proc/self/mountinfo']));
  assert.match(plain, /^overlay overlay /);
  assert.doesNotMatch(plain, /volatile/);
  await ok(['rm', 'plain']);
  assert.deepEqual(await w.leftovers(), []);
});

test('--network=none: a private namespace with loopback up, no namespace file; container:NAME joins it', async () => {
  const links = await ok(['run', '--rm', '--network=none', w.images.busybox, 'ip', '-o', 'link', 'show']);
  assert.deepEqual(links.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
  assert.match(links, /\bUP\b/);
  await ok(['run', '-d', '--name', 'owner', '--network=none', w.images.service]);
  const netnsDir = path.join(w.dir, 'run', 'netns');
  assert.deepEqual(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [], [], 'no namespace file for --network=none');
  const inode = (await ok(['exec', 'owner', 'readlink', '/proc/self/ns/net'])).trim();
  const joined = (await ok(['run', '--rm', '--network=container:owner', w.images.busybox, 'readlink', '/proc/self/ns/net'])).trim();
  assert.equal(joined, inode, 'the joining container is in the owner\'s network namespace');
  assert.notEqual((await ok(['run', '--rm', '--network=none', w.images.busybox, 'readlink', '/proc/self/ns/net'])).trim(), inode);
  await ok(['rm', '-f', '-t', '0', 'owner']);
  assert.deepEqual(await w.leftovers(), []);
});
