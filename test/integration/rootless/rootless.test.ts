/**
 * Rootless berth: an unprivileged user pulls into its own store (owners mapped through its
 * /etc/subuid range) and runs containers in a user namespace with that mapping, with real crun
 * and kernel overlayfs. See src/runtime/userns.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { findInLayers, startRootlessWorld, type RootlessWorld } from './harness.js';

let w: RootlessWorld;
// Random data makes a layer of over 8 MiB compressed: such layers are unpacked in the worker thread
// (src/image/store/unpack-pool.ts), so owners and the out-of-range error are checked there too.
const padding = { content: crypto.randomBytes(9 * 1024 * 1024), mode: 0o644 };
test.before(async () => {
  w = await startRootlessWorld('main', {
    owners: {
      busybox: true,
      files: {
        '/home/tester': { dir: true, mode: 0o755, uid: 1000, gid: 1000 },
        '/home/tester/f': { content: 'tester file\n', mode: 0o640, uid: 1000, gid: 1000 },
        '/usr/bin/suid-root': { content: '#!/bin/sh\necho root\n', mode: 0o4755 },
        '/usr/bin/suid-tester': { content: '#!/bin/sh\necho tester\n', mode: 0o4755, uid: 1000, gid: 1000 },
        '/opt/padding': padding,
      },
    },
    service: { busybox: true, user: '1000', entrypoint: ['sh', '-c', 'echo started; trap "exit 0" TERM; while :; do sleep 0.1; done'] },
    toobig: { busybox: true, files: { '/opt/far': { content: 'far away\n', mode: 0o644, uid: 70000, gid: 0 }, '/opt/padding': padding } },
  });
});
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('pull as a user: layer owners are the mapped host ids, setuid bits kept', async () => {
  await ok(['pull', '-q', w.images.owners]);
  const { uid, gid, subUid, subGid } = w.ids;
  const owner = (rel: string): fs.Stats => {
    const found = findInLayers(w, rel);
    assert.equal(found.length, 1, `${rel} in the store: ${found.join(', ')}`);
    return fs.lstatSync(found[0]!);
  };
  const passwd = owner('etc/passwd');
  assert.deepEqual([passwd.uid, passwd.gid], [uid, gid], 'root-owned → the user itself');
  const f = owner('home/tester/f');
  assert.deepEqual([f.uid, f.gid], [subUid + 999, subGid + 999], 'uid 1000 → subordinate start + 999');
  assert.equal(f.mode & 0o7777, 0o640);
  const dir = owner('home/tester');
  assert.deepEqual([dir.uid, dir.gid], [subUid + 999, subGid + 999]);
  const suidRoot = owner('usr/bin/suid-root');
  assert.deepEqual([suidRoot.uid, suidRoot.mode & 0o7777], [uid, 0o4755]);
  const suidTester = owner('usr/bin/suid-tester');
  assert.deepEqual([suidTester.uid, suidTester.mode & 0o7777], [subUid + 999, 0o4755]);
  // Nothing of the old xattr scheme: owners are real.
  assert.deepEqual(await w.leftovers(), []);
});

test('run --network=none: uid 0 inside, the user namespace mapping, image owners as in the image', async () => {
  const out = await ok(['run', '--rm', '--network=none', w.images.owners, 'sh', '-c',
    'id -u; id -g; cat /proc/self/uid_map; stat -c "%u:%g %a" /home/tester/f /usr/bin/suid-tester; echo new > /root-made; stat -c %u /root-made']);
  const lines = out.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
  assert.deepEqual(lines, [
    '0', '0',
    `0 ${w.ids.uid} 1`, `1 ${w.ids.subUid} ${w.ids.count}`,
    '1000:1000 640', '1000:1000 4755',
    '0',
  ]);
  assert.deepEqual(await w.leftovers(), []);
});

test('a non-root image user writes to a bind mount: the host sees the mapped subordinate uid', async () => {
  const shared = path.join(w.dir, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o777);
  const out = await ok(['run', '--rm', '--network=none', '--user', '1000:1000', '-v', `${shared}:/data`, w.images.owners, 'sh', '-c', 'id -u; touch /data/made-by-1000; stat -c %u /data/made-by-1000']);
  assert.equal(out, '1000\n1000\n');
  const st = fs.statSync(path.join(shared, 'made-by-1000'));
  assert.deepEqual([st.uid, st.gid], [w.ids.subUid + 999, w.ids.subGid + 999]);
  assert.deepEqual(await w.leftovers(), []);
});

test('-d as a non-root image user, stop and rm from the host side: nothing left', async () => {
  const id = (await ok(['run', '-d', '--name', 'svc', '--network=none', w.images.service])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await ok(['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps, /svc Up/);
  // What it writes in its upper dir belongs to a subordinate uid: rm (host side) must still remove it.
  await ok(['exec', '-u', '1000:1000', 'svc', 'sh', '-c', 'mkdir -p /home/tester/deep/er && echo x > /home/tester/deep/er/file && chmod 700 /home/tester/deep']);
  const upper = fs.readdirSync(path.join(w.home, '.local/share/berth/containers')).filter((e) => !e.startsWith('.'));
  const deep = fs.statSync(path.join(w.home, '.local/share/berth/containers', upper[0]!, 'upper/home/tester/deep'));
  assert.equal(deep.uid, w.ids.subUid + 999);
  await ok(['stop', '-t', '5', 'svc']);
  await ok(['rm', 'svc']);
  assert.deepEqual(await w.leftovers(), []);
});

test('an owner outside the subordinate range: a clear error naming the entry and the range, nothing kept', async () => {
  const r = await w.berth(['pull', '-q', w.images.toobig]);
  assert.equal(r.exitCode, 125, r.stderr);
  assert.match(r.stderr, /entry "opt\/far" is owned by uid 70000, outside the ids this user can map \(0-65536, host \d+, \d+-\d+\): potentially insufficient UIDs or GIDs/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.deepEqual(findInLayers(w, 'opt/far'), []);
  const images = await ok(['images', '--format', '{{.Repository}}']);
  assert.doesNotMatch(images, /toobig/);
  assert.deepEqual(await w.leftovers(), []);
});

test('restart and run --replace stop a non-root container started by an earlier command (signal sent from the host side)', async () => {
  try {
    const first = (await ok(['run', '-d', '--name', 'rep', '--network=none', w.images.service])).trim();
    const restart = await w.berth(['restart', '-t', '20', 'rep']);
    assert.equal(restart.exitCode, 0, restart.stderr);
    assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /rep Up/);
    const replace = await w.berth(['run', '-d', '--replace', '--name', 'rep', '--network=none', w.images.service]);
    assert.equal(replace.exitCode, 0, replace.stderr);
    const second = replace.stdout.trim();
    assert.notEqual(second, first);
    // The StopSignal reached the container each time (no timeout, no SIGKILL fallback).
    assert.doesNotMatch(restart.stderr + replace.stderr, /resorting to SIGKILL/);
    assert.deepEqual((await ok(['ps', '-a', '-q'])).trim().split('\n'), [second.slice(0, 12)]);
  } finally {
    await w.berth(['rm', '-f', '-t', '0', 'rep']);
  }
  assert.deepEqual(await w.leftovers(), []);
});

test('--network=host shares the host network (sysfs bound read-only); bridge and image mount say they need root', async () => {
  const out = await ok(['run', '--rm', '--network=host', w.images.owners, 'sh', '-c', 'cat /proc/net/dev | grep -c lo; grep " /sys " /proc/self/mounts | grep -c " ro,"']);
  assert.equal(out, '1\n1\n');
  const bridge = await w.berth(['run', '--rm', '--network=bridge', w.images.owners, 'true']);
  assert.equal(bridge.exitCode, 125);
  assert.match(bridge.stderr, /bridge networks need root .*use --network none or host/);
  const mount = await w.berth(['image', 'mount', w.images.owners]);
  assert.equal(mount.exitCode, 125);
  assert.match(mount.stderr, /cannot mount image .* rootless/);
  assert.deepEqual(await w.leftovers(), []);
});

test('a named volume: written by a non-root container user, read back by the next container, removed', async () => {
  await ok(['run', '--rm', '--network=none', '--user', '1000:1000', '-v', 'rvol:/home/tester', w.images.owners, 'sh', '-c', 'echo kept > /home/tester/new']);
  assert.equal(await ok(['run', '--rm', '--network=none', '-v', 'rvol:/home/tester', w.images.owners, 'sh', '-c', 'cat /home/tester/new /home/tester/f; stat -c %u /home/tester/new']), 'kept\ntester file\n1000\n');
  await ok(['volume', 'rm', 'rvol']);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
  assert.deepEqual(await w.leftovers(), []);
});

test('rmi removes the layers, files of subordinate owners included', async () => {
  await ok(['pull', '-q', w.images.owners]);
  assert.equal(findInLayers(w, 'home/tester/f').length, 1);
  await ok(['rmi', '-f', w.images.owners]);
  assert.deepEqual(findInLayers(w, 'home/tester/f'), []);
  assert.deepEqual(findInLayers(w, 'usr/bin/suid-tester'), []);
  assert.deepEqual(await w.leftovers(), []);
});
