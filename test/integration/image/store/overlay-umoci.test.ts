import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { overlayLowerdirForDirs, type ImageStore } from '../../../../src/image/store/index.js';
import { addImage, describeTree, diffTrees, imageBlobs, openTestStore, tempDir, writeOciLayout } from '../../../unit/image/store/store-fixtures.js';
import { makeTar, type FixtureEntry } from '../../../unit/image/store/tar-fixtures.js';

const T = 1_650_000_000;

const base: FixtureEntry[] = [
  { name: 'bin/', type: 'dir', mtime: T },
  { name: 'bin/sh', content: 'shell v1', mode: 0o755, mtime: T },
  { name: 'bin/ash', type: 'hardlink', linkname: 'bin/sh' },
  { name: 'bin/su', content: 'su', mode: 0o4755, mtime: T },
  { name: 'bin/link', type: 'symlink', linkname: 'sh', mtime: T },
  { name: 'etc/', type: 'dir', mtime: T },
  { name: 'etc/passwd', content: 'root:x:0:0\n', mtime: T },
  { name: 'etc/shadow', content: 'root:!:1\n', mode: 0o640, gid: 42, mtime: T },
  { name: 'etc/old.conf', content: 'old', mtime: T },
  { name: 'var/', type: 'dir', mtime: T },
  { name: 'var/cache/', type: 'dir', mtime: T },
  { name: 'var/cache/a', content: 'a', mtime: T },
  { name: 'var/cache/sub/', type: 'dir', mtime: T },
  { name: 'var/cache/sub/b', content: 'b', mtime: T },
  { name: 'opt/', type: 'dir', mtime: T },
  { name: 'opt/app/', type: 'dir', uid: 1000, gid: 1000, mode: 0o750, mtime: T },
  { name: 'opt/app/data', content: 'data', uid: 1000, gid: 1000, mode: 0o600, mtime: T },
  { name: 'tmp/', type: 'dir', mode: 0o1777, mtime: T },
  { name: 'srv/www/', type: 'dir', mtime: T },
  { name: 'srv/www/old.html', content: 'old', mtime: T },
  { name: 'srv/www/keep/', type: 'dir', mtime: T },
  { name: 'srv/www/keep/x', content: 'x', mtime: T },
];
const middle: FixtureEntry[] = [
  { name: 'etc/', type: 'dir', mtime: T },
  { name: 'etc/.wh.old.conf' },                          // delete a file
  { name: 'etc/passwd', content: 'root:x:0:0\nuser:x:1:1\n', mtime: T + 1 }, // modify a file
  { name: 'var/cache/', type: 'dir', mtime: T },
  { name: 'var/cache/.wh..wh..opq' },                    // opaque: lower content hidden
  { name: 'var/cache/fresh', content: 'fresh', mtime: T },
  { name: 'opt/.wh.app' },                               // delete a whole directory
  { name: 'srv/www/.wh..wh..opq' },                      // opaque dir untouched above
  { name: 'srv/www/new.html', content: 'new', mtime: T },
  { name: 'bin/', type: 'dir', mtime: T },
  { name: 'bin/link', type: 'symlink', linkname: '/bin/su', mtime: T }, // retarget a symlink
];
const top: FixtureEntry[] = [
  { name: 'opt/', type: 'dir', mtime: T },
  { name: 'opt/app', content: 'now a file', mtime: T },   // a name deleted below comes back, as a file
  { name: 'etc/', type: 'dir', mtime: T },
  { name: 'etc/.wh.shadow' },
  { name: 'usr/', type: 'dir', mtime: T },
  { name: 'usr/bin/', type: 'dir', mtime: T },
  { name: 'usr/bin/tool', content: 'tool', mode: 0o4755, mtime: T },
  { name: 'usr/bin/tool2', type: 'hardlink', linkname: 'usr/bin/tool' },
  { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime: T },
  { name: '.wh.bin' },                                    // delete a dir, then re-create it in the same layer
  { name: 'bin/', type: 'dir', mtime: T },
  { name: 'bin/only', content: 'only', mtime: T },
  { name: 'var/.wh.cache' },                              // same, with the dir created implicitly
  { name: 'var/cache/again', content: 'again', mtime: T },
];

describe('image layers mounted as an overlay match umoci unpack of the same image', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  const mounted: string[] = [];
  before(async () => { t = tempDir('overlay'); store = await openTestStore(t.dir); });
  after(async () => {
    for (const ref of mounted) await store.unmountImage(ref, { force: true }).catch(() => undefined);
    t.cleanup();
  });

  it('whiteouts, opaque dirs, modified files, hard links, symlinks, modes and owners', async () => {
    const tars = [makeTar(base), makeTar(middle), makeTar(top)];
    const built = await addImage(store, tars, ['localhost/whiteouts:latest'], ['gzip', 'zstd', 'none']);
    const merged = await store.mountImage('localhost/whiteouts');
    mounted.push('localhost/whiteouts');
    // umoci reads gzip layers; give it the same tars gzip-compressed (same diff IDs).
    const layout = writeOciLayout(path.join(t.dir, 'oci'), imageBlobs(tars, 'gzip'));
    execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, path.join(t.dir, 'bundle')], { stdio: 'pipe' });
    const ours = describeTree(merged, { mtimes: true });
    const theirs = describeTree(path.join(t.dir, 'bundle', 'rootfs'), { mtimes: true });
    assert.deepEqual(diffTrees(ours, theirs), []);
    // And the facts the comparison rests on, spelled out:
    assert.ok(!fs.existsSync(path.join(merged, 'etc/old.conf')));
    assert.ok(!fs.existsSync(path.join(merged, 'etc/shadow')));
    assert.equal(fs.readFileSync(path.join(merged, 'opt/app'), 'utf8'), 'now a file');
    assert.equal(fs.readFileSync(path.join(merged, 'etc/passwd'), 'utf8'), 'root:x:0:0\nuser:x:1:1\n');
    assert.deepEqual(fs.readdirSync(path.join(merged, 'bin')), ['only']);
    assert.deepEqual(fs.readdirSync(path.join(merged, 'srv/www')), ['new.html']);
    assert.equal(fs.statSync(path.join(merged, 'usr/bin/tool')).mode & 0o7777, 0o4755);
    assert.deepEqual(fs.readdirSync(path.join(merged, 'var/cache')), ['again']);
    assert.equal(fs.statSync(path.join(merged, 'usr/bin/tool')).ino, fs.statSync(path.join(merged, 'usr/bin/tool2')).ino);
    assert.equal(built.dirs.length, 3);
    // Read-only.
    assert.throws(() => fs.writeFileSync(path.join(merged, 'new'), 'x'), /EROFS|read-only/);
  });

  it('mounts an image of 25 layers (short lowerdir names) with every layer applied', async () => {
    const tars: Buffer[] = [];
    for (let i = 0; i < 25; i++) {
      const entries: FixtureEntry[] = [{ name: 'layers/', type: 'dir', mtime: T }, { name: `layers/l${i}`, content: `layer ${i}` }, { name: 'count', content: String(i) }];
      if (i > 0 && i % 2 === 0) entries.push({ name: `layers/.wh.l${i - 1}` });
      tars.push(makeTar(entries));
    }
    const built = await addImage(store, tars, ['localhost/many:latest']);
    assert.equal(built.dirs.length, 25);
    const { lowerdir } = store.overlayLowerdir(built.image);
    assert.deepEqual(overlayLowerdirForDirs(built.dirs), store.overlayLowerdir(built.image));
    const longForm = built.dirs.join(':');
    assert.ok(longForm.length > lowerdir.length * 2, 'short names are much shorter');
    const merged = await store.mountImage('localhost/many');
    mounted.push('localhost/many');
    assert.equal(fs.readFileSync(path.join(merged, 'count'), 'utf8'), '24');
    const expected = Array.from({ length: 25 }, (_, i) => i).filter((i) => !(i % 2 === 1 && i < 24)).map((i) => `l${i}`).sort();
    assert.deepEqual(fs.readdirSync(path.join(merged, 'layers')).sort(), expected);
  });

  it('counts mounts: two mounts need two unmounts; a single-layer image mounts too', async () => {
    await addImage(store, [makeTar([{ name: 'only', content: 'one layer' }])], ['localhost/single:latest']);
    const a = await store.mountImage('localhost/single');
    const b = await store.mountImage('localhost/single');
    assert.equal(a, b);
    assert.equal(fs.readFileSync(path.join(a, 'only'), 'utf8'), 'one layer');
    await store.unmountImage('localhost/single');
    assert.equal(fs.readFileSync(path.join(a, 'only'), 'utf8'), 'one layer');
    await store.unmountImage('localhost/single');
    assert.ok(!fs.existsSync(a));
    await assert.rejects(store.unmountImage('localhost/single'), /not mounted/);
  });
});
