import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { VolumeError } from '../../../src/errors/index.js';
import {
  chownVolume, copyUp, createVolume, ensureVolumeForMount, getVolume, listVolumes, parseVolumeOptions, pruneVolumes, removeVolume,
} from '../../../src/volume/index.js';
import { tempStorage } from '../../support/netns.js';

const storage = tempStorage('volume-unit');
after(() => storage.cleanup());
const paths = { root: storage.root, runroot: storage.runroot, rootless: false };

test('volume options: parsed and validated, errors name the volume', () => {
  assert.deepEqual(parseVolumeOptions('v', {}), { mountOptions: [], nocopy: false });
  assert.deepEqual(parseVolumeOptions('v', { o: 'uid=1000,gid=100' }), { mountOptions: [], nocopy: false, uid: 1000, gid: 100 });
  assert.deepEqual(parseVolumeOptions('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=5' }), { type: 'tmpfs', device: 'tmpfs', mountOptions: ['size=1m', 'uid=5'], nocopy: false });
  assert.deepEqual(parseVolumeOptions('v', { o: 'nocopy' }).nocopy, true);
  assert.deepEqual(parseVolumeOptions('v', { copy: 'false' }).nocopy, true);
  const bad: [Record<string, string>, RegExp][] = [
    [{ color: 'red' }, /unknown option "color"/],
    [{ device: '/dev/sda' }, /device= needs type=/],
    [{ type: 'ext4' }, /type=ext4 needs device=/],
    [{ type: 'bind', device: 'relative' }, /absolute device= path/],
    [{ o: 'size=1m' }, /o=size=1m needs type=/],
    [{ o: 'uid=abc' }, /expected a numeric uid/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => parseVolumeOptions('data', options), (e: unknown) => e instanceof VolumeError && /^volume "data": /.test(e.message) && message.test(e.message));
  }
});

test('volumes: create, list, get, exists-clash, ignore, bad names', async () => {
  const v = await createVolume(paths, 'data', { labels: { app: 'web' } });
  assert.equal(v.mountpoint, path.join(paths.root, 'volumes', 'data', '_data'));
  assert.ok(fs.statSync(v.mountpoint).isDirectory());
  assert.equal(fs.statSync(v.mountpoint).mode & 0o777, 0o755);
  assert.deepEqual(await getVolume(paths, 'data'), v);
  await assert.rejects(createVolume(paths, 'data'), (e: unknown) => e instanceof VolumeError && e.code === 'volume-exists' && /volume "data" already exists/.test(e.message));
  assert.deepEqual(await createVolume(paths, 'data', { ignoreIfExists: true }), v);
  await assert.rejects(createVolume(paths, '../escape'), /invalid volume name "..\/escape"/);
  await assert.rejects(createVolume(paths, 'bad', { options: { nope: '1' } }), /unknown option "nope"/);
  assert.equal(await getVolume(paths, 'bad'), undefined, 'nothing made on bad input');
  const owned = await createVolume(paths, 'owned', { options: { o: 'uid=1234,gid=4321' } });
  assert.equal(fs.statSync(owned.mountpoint).uid, 1234);
  assert.equal(fs.statSync(owned.mountpoint).gid, 4321);
  assert.deepEqual((await listVolumes(paths)).map((x) => x.name), ['data', 'owned']);
  assert.deepEqual(fs.readdirSync(path.join(paths.root, 'volumes')).filter((f) => f.startsWith('.new')), [], 'no temp dirs left');
});

test('volumes: remove refuses a volume in use unless forced; prune keeps used ones', async () => {
  await createVolume(paths, 'busy');
  fs.writeFileSync(path.join(paths.root, 'volumes', 'busy', '_data', 'file'), 'x');
  await assert.rejects(removeVolume(paths, 'busy', { inUse: (n) => n === 'busy' }), (e: unknown) => e instanceof VolumeError && e.code === 'volume-in-use' && /volume "busy" is being used/.test(e.message));
  assert.ok(await getVolume(paths, 'busy'));
  await removeVolume(paths, 'busy', { force: true, inUse: () => true });
  assert.equal(await getVolume(paths, 'busy'), undefined);
  assert.equal(fs.existsSync(path.join(paths.root, 'volumes', 'busy')), false);
  await assert.rejects(removeVolume(paths, 'busy'), (e: unknown) => e instanceof VolumeError && e.code === 'volume-not-found');

  await createVolume(paths, 'p1', { labels: { tier: 'cache' } });
  await createVolume(paths, 'p2');
  assert.deepEqual(await pruneVolumes(paths, { labels: { tier: 'cache' } }), ['p1']);
  assert.deepEqual(await pruneVolumes(paths, { inUse: (n) => n === 'data' }), ['owned', 'p2']);
  assert.deepEqual((await listVolumes(paths)).map((v) => v.name), ['data']);
});

test('copy-up: image content with owners, modes, symlinks and hard links; only into a new empty volume', async () => {
  const image = path.join(storage.dir, 'image-dir');
  fs.mkdirSync(path.join(image, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(image, 'conf'), 'setting=1\n');
  fs.chmodSync(path.join(image, 'conf'), 0o640);
  fs.chownSync(path.join(image, 'conf'), 1000, 1001);
  fs.symlinkSync('conf', path.join(image, 'link'));
  fs.linkSync(path.join(image, 'conf'), path.join(image, 'hard'));
  fs.chmodSync(path.join(image, 'sub'), 0o1777);
  fs.chownSync(image, 33, 33);
  fs.chmodSync(image, 0o750);

  const first = await ensureVolumeForMount(paths, 'fresh');
  assert.equal(first.created, true);
  assert.equal(first.needsCopyUp, true);
  await copyUp(image, first.volume);
  const mp = first.volume.mountpoint;
  assert.equal(fs.readFileSync(path.join(mp, 'conf'), 'utf8'), 'setting=1\n');
  const conf = fs.statSync(path.join(mp, 'conf'));
  assert.deepEqual([conf.mode & 0o7777, conf.uid, conf.gid], [0o640, 1000, 1001]);
  assert.equal(fs.readlinkSync(path.join(mp, 'link')), 'conf');
  assert.equal(fs.statSync(path.join(mp, 'hard')).ino, conf.ino, 'hard link kept');
  assert.equal(fs.statSync(path.join(mp, 'sub')).mode & 0o7777, 0o1777);
  const root = fs.statSync(mp);
  assert.deepEqual([root.mode & 0o7777, root.uid, root.gid], [0o750, 33, 33], 'volume root takes the image directory\'s owner and mode');

  // Used once: a later mount (another image, another path) copies nothing.
  const again = await ensureVolumeForMount(paths, 'fresh');
  assert.equal(again.created, false);
  assert.equal(again.needsCopyUp, false);
  assert.equal((await getVolume(paths, 'fresh'))!.needsCopyUp, false);

  // nocopy volumes and missing source dirs.
  const nocopy = await createVolume(paths, 'nocopy', { options: { o: 'nocopy' } });
  assert.equal((await ensureVolumeForMount(paths, 'nocopy')).needsCopyUp, false);
  const empty = await ensureVolumeForMount(paths, 'empty-src');
  await copyUp(path.join(storage.dir, 'does-not-exist'), empty.volume);
  assert.deepEqual(fs.readdirSync(empty.volume.mountpoint), []);
  assert.equal((await getVolume(paths, 'empty-src'))!.needsCopyUp, false);
  assert.ok(nocopy);
});

test('ownership: a never-used volume takes the container user; U chowns recursively', async () => {
  const { volume } = await ensureVolumeForMount(paths, 'chowned');
  fs.mkdirSync(path.join(volume.mountpoint, 'deep'));
  fs.writeFileSync(path.join(volume.mountpoint, 'deep', 'f'), '');
  await chownVolume(volume, 1000, 1000);
  assert.equal(fs.statSync(volume.mountpoint).uid, 1000);
  assert.equal(fs.statSync(path.join(volume.mountpoint, 'deep')).uid, 0, 'not recursive without U');
  await chownVolume(volume, 2000, 2000);
  assert.equal(fs.statSync(volume.mountpoint).uid, 1000, 'only the first use chowns');
  await chownVolume(volume, 3000, 3001, { recursive: true });
  for (const p of ['', 'deep', 'deep/f']) {
    const st = fs.statSync(path.join(volume.mountpoint, p));
    assert.deepEqual([st.uid, st.gid], [3000, 3001], p);
  }
});
