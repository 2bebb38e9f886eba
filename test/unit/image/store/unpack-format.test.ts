import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../../../../src/errors/index.js';
import { unpackLayerFile } from '../../../../src/image/store/unpack.js';
import { compress, describeTree, diffTrees, tempDir } from './store-fixtures.js';
import { makeTar, sha256 } from './tar-fixtures.js';

const MTIME = 1_600_000_000;
const LONG = `deep/${'n'.repeat(120)}/${'m'.repeat(90)}.txt`;
// security.capability v2 for cap_net_bind_service (bit 10), permitted+effective.
const CAP = Buffer.from('0100000200040000000000000000000000000000', 'hex');

const entries = makeTar([
  { name: './', type: 'dir', mode: 0o755, mtime: MTIME },
  { name: 'bin/', type: 'dir', mode: 0o755, mtime: MTIME },
  { name: 'bin/su', content: 'setuid binary', mode: 0o4755, uid: 0, gid: 0, mtime: MTIME },
  { name: 'bin/wall', content: 'setgid binary', mode: 0o2755, uid: 0, gid: 5, mtime: MTIME },
  { name: 'bin/ping', content: 'cap binary', mode: 0o755, mtime: MTIME, pax: { 'SCHILY.xattr.security.capability': CAP } },
  { name: 'bin/sh', content: 'shell', mode: 0o755, mtime: MTIME },
  { name: 'bin/ash', type: 'hardlink', linkname: 'bin/sh' },
  { name: 'bin/busybox', type: 'symlink', linkname: '/bin/sh', uid: 7, gid: 8, mtime: MTIME },
  { name: 'tmp/', type: 'dir', mode: 0o1777, mtime: MTIME },
  { name: 'home/u/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000, mtime: MTIME },
  { name: 'home/u/f', content: 'user file', mode: 0o640, uid: 1000, gid: 1000, mtime: MTIME, pax: { 'SCHILY.xattr.user.note': 'hello' } },
  { name: 'home/u/bsd', content: 'bsdtar file', mtime: MTIME, pax: { 'LIBARCHIVE.xattr.user.with%20space': Buffer.from('bsd value').toString('base64') } },
  { name: 'run/pipe', type: 'fifo', mode: 0o620, uid: 3, gid: 4, mtime: MTIME },
  { name: LONG, content: 'long name', mtime: MTIME },
  { name: 'gone/.wh.file' },
  { name: 'opaque/.wh..wh..opq' },
  { name: 'opaque/new', content: 'new', mtime: MTIME },
  { name: 'empty', content: '', mtime: MTIME },
]);

describe('layer unpacking writes the overlayfs layer format faithfully', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => (t = tempDir('format')));
  after(() => t.cleanup());

  async function unpack(tar: Buffer, compression: 'gzip' | 'zstd' | 'none', label: string, diffId?: string): Promise<string> {
    const blob = path.join(t.dir, `${label}.blob`);
    fs.writeFileSync(blob, compress(tar, compression));
    const dest = path.join(t.dir, label);
    fs.mkdirSync(dest);
    const result = await unpackLayerFile(blob, dest, { diffId: diffId ?? sha256(tar), keepOwnership: true });
    assert.equal(result.compression, compression);
    assert.equal(result.diffId, sha256(tar));
    assert.deepEqual(result.warnings, []);
    return dest;
  }

  it('keeps modes (setuid, setgid, sticky), owners, times, links, fifos, xattrs', async () => {
    const dir = await unpack(entries, 'gzip', 'gz');
    const st = (p: string): fs.Stats => fs.lstatSync(path.join(dir, p));
    assert.equal(st('bin/su').mode & 0o7777, 0o4755);
    assert.equal(st('bin/wall').mode & 0o7777, 0o2755);
    assert.equal(st('bin/wall').gid, 5);
    assert.equal(st('tmp').mode & 0o7777, 0o1777);
    assert.equal(st('home/u').mode & 0o7777, 0o700);
    assert.equal(st('home/u/f').uid, 1000);
    assert.equal(st('home/u/f').gid, 1000);
    assert.equal(st('home/u/f').mode & 0o7777, 0o640);
    assert.equal(st('bin/sh').ino, st('bin/ash').ino, 'hard link shares the inode');
    assert.equal(st('bin/sh').nlink, 2);
    assert.ok(st('bin/busybox').isSymbolicLink());
    assert.equal(fs.readlinkSync(path.join(dir, 'bin/busybox')), '/bin/sh');
    assert.equal(st('bin/busybox').uid, 7);
    assert.equal(Math.floor(st('bin/busybox').mtimeMs / 1000), MTIME);
    assert.ok(st('run/pipe').isFIFO());
    assert.equal(st('run/pipe').mode & 0o7777, 0o620);
    assert.equal(st('run/pipe').uid, 3);
    for (const p of ['bin/su', 'bin', 'tmp', 'home/u', 'home/u/f', 'run/pipe', LONG, 'opaque/new', '.']) {
      assert.equal(Math.floor(st(p).mtimeMs / 1000), MTIME, `mtime of ${p}`);
    }
    assert.equal(fs.readFileSync(path.join(dir, LONG), 'utf8'), 'long name');
    assert.equal(fs.readFileSync(path.join(dir, 'empty'), 'utf8'), '');
    const getfattr = (p: string, name: string): string => execFileSync('getfattr', ['-h', '--only-values', '-n', name, path.join(dir, p)]).toString('hex');
    assert.equal(getfattr('bin/ping', 'security.capability'), CAP.toString('hex'));
    assert.equal(Buffer.from(getfattr('home/u/f', 'user.note'), 'hex').toString(), 'hello');
    assert.equal(Buffer.from(getfattr('home/u/bsd', 'user.with space'), 'hex').toString(), 'bsd value');
    // Whiteout: a 0/0 char device; opaque dir: trusted.overlay.opaque=y.
    assert.ok(st('gone/file').isCharacterDevice());
    assert.equal(st('gone/file').rdev, 0);
    assert.ok(!fs.existsSync(path.join(dir, 'gone/.wh.file')));
    assert.equal(Buffer.from(getfattr('opaque', 'trusted.overlay.opaque'), 'hex').toString(), 'y');
    assert.ok(!fs.existsSync(path.join(dir, 'opaque/.wh..wh..opq')));
  });

  it('detects gzip, zstd and plain tar by magic bytes and unpacks them identically', async () => {
    const gz = describeTree(await unpack(entries, 'gzip', 'd-gz'), { mtimes: true });
    const zst = describeTree(await unpack(entries, 'zstd', 'd-zst'), { mtimes: true });
    const plain = describeTree(await unpack(entries, 'none', 'd-plain'), { mtimes: true });
    assert.ok(gz.size > 15);
    assert.deepEqual(diffTrees(gz, zst), []);
    assert.deepEqual(diffTrees(gz, plain), []);
  });

  it('refuses a layer whose uncompressed digest is not the config diff ID', async () => {
    await assert.rejects(unpack(entries, 'zstd', 'bad-diff', sha256('something else')), (error: unknown) => {
      assert.ok(error instanceof ImageError);
      assert.equal(error.code, 'diff-id-mismatch');
      assert.match(error.message, /does not match the config's diff ID/);
      return true;
    });
  });

  it('refuses corrupt archives with a clear error', async () => {
    const broken = Buffer.from(entries);
    broken[600] ^= 0xff; // inside the second header
    await assert.rejects(unpack(broken, 'none', 'corrupt', sha256(broken)), /checksum/);
    const truncated = entries.subarray(0, 512 * 4 + 100);
    await assert.rejects(unpack(truncated, 'gzip', 'truncated', sha256(truncated)), /ends in the middle/);
    const blob = path.join(t.dir, 'badzstd.blob');
    fs.writeFileSync(blob, Buffer.concat([compress(entries, 'zstd').subarray(0, 40), Buffer.alloc(30)]));
    fs.mkdirSync(path.join(t.dir, 'badzstd'));
    await assert.rejects(unpackLayerFile(blob, path.join(t.dir, 'badzstd'), {}), (error: unknown) => error instanceof ImageError);
  });

  it('without ownership (rootless) keeps the image owner in user.containers.override_stat', async () => {
    const blob = path.join(t.dir, 'rootless.tar');
    fs.writeFileSync(blob, entries);
    const dest = path.join(t.dir, 'rootless');
    fs.mkdirSync(dest);
    await unpackLayerFile(blob, dest, { keepOwnership: false, opaqueXattr: 'user.overlay.opaque' });
    const f = fs.lstatSync(path.join(dest, 'home/u/f'));
    assert.equal(f.uid, process.getuid!());
    const value = execFileSync('getfattr', ['--only-values', '-n', 'user.containers.override_stat', path.join(dest, 'home/u/f')]).toString();
    assert.equal(value, '1000:1000:0640');
    assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'user.overlay.opaque', path.join(dest, 'opaque')]).toString(), 'y');
  });

  it('lets a later entry replace an earlier one (file over dir, dir over file) and keeps a whiteout off the layer\'s own file', async () => {
    const tar = makeTar([
      { name: 'x/', type: 'dir' }, { name: 'x/inner', content: '1' },
      { name: 'x', content: 'now a file' },
      { name: 'y', content: 'file' }, { name: 'y/', type: 'dir' }, { name: 'y/z', content: 'z' },
      { name: 'keep', content: 'mine' }, { name: '.wh.keep' },
    ]);
    const dir = await unpack(tar, 'none', 'replace');
    assert.equal(fs.readFileSync(path.join(dir, 'x'), 'utf8'), 'now a file');
    assert.equal(fs.readFileSync(path.join(dir, 'y/z'), 'utf8'), 'z');
    assert.equal(fs.readFileSync(path.join(dir, 'keep'), 'utf8'), 'mine');
  });
});
