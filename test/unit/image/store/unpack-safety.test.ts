import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../../../../src/errors/index.js';
import type { ImageStore } from '../../../../src/image/store/index.js';
import { imageBlobs, makeCanary, openTestStore, tempDir } from './store-fixtures.js';
import { makeTar, type FixtureEntry } from './tar-fixtures.js';

describe('layer unpacking refuses entries that would write outside the layer', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  let canary: ReturnType<typeof makeCanary>;
  let before0: string;

  before(async () => {
    t = tempDir('safety');
    store = await openTestStore(t.dir);
    canary = makeCanary(t.dir);
    before0 = canary.snapshot();
  });
  after(() => t.cleanup());

  async function expectRefused(entries: FixtureEntry[], entryName: string, why: RegExp): Promise<void> {
    const built = imageBlobs([makeTar(entries)]);
    for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
    await assert.rejects(store.ensureLayers(built.config, built.layers), (error: unknown) => {
      assert.ok(error instanceof ImageError, `not an ImageError: ${String(error)}`);
      assert.equal(error.code, 'layer-unsafe-entry', error.message);
      assert.equal(error.context.entry, entryName);
      assert.ok(error.message.includes(`"${entryName}"`), error.message);
      assert.match(error.message, why);
      return true;
    });
    assert.equal(canary.snapshot(), before0, 'the canary dir outside the store changed');
    assert.deepEqual(fs.readdirSync(store.layout.layersTmp), [], 'temp layer dir left behind');
    assert.deepEqual(fs.readdirSync(store.layout.layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n)), [], 'a refused layer was kept');
    assert.ok(!fs.existsSync(path.join(t.dir, 'x')) && !fs.existsSync('/abs/x') && !fs.existsSync(path.join(store.layout.layersDir, 'x')));
  }

  it('refuses "../" climbing', async () => {
    await expectRefused([{ name: 'ok', content: 'fine' }, { name: '../../etc/x', content: 'evil' }], '../../etc/x', /climbs out/);
    await expectRefused([{ name: 'a/../../x', content: 'evil' }], 'a/../../x', /climbs out/);
  });

  it('refuses absolute names', async () => {
    await expectRefused([{ name: '/abs/x', content: 'evil' }], '/abs/x', /absolute/);
  });

  it('refuses writing through a symlink planted earlier in the layer (absolute target)', async () => {
    await expectRefused([{ name: 'a', type: 'symlink', linkname: path.join(canary.dir, 'etc') }, { name: 'a/passwd', content: 'evil' }], 'a/passwd', /parent "a" is a symlink/);
    await expectRefused([{ name: 'a', type: 'symlink', linkname: canary.dir }, { name: 'a/etc/', type: 'dir' }], 'a/etc/', /symlink/);
  });

  it('refuses writing through a relative symlink that climbs out', async () => {
    await expectRefused([{ name: 'a', type: 'symlink', linkname: '../../..' }, { name: 'a/x', content: 'evil' }], 'a/x', /parent "a" is a symlink/);
    await expectRefused([{ name: 'd/', type: 'dir' }, { name: 'd/up', type: 'symlink', linkname: '../../../../../../..' }, { name: 'd/up/tmp/x', content: 'evil' }], 'd/up/tmp/x', /symlink/);
  });

  it('refuses hard links to absolute, climbing or symlink-reached targets', async () => {
    await expectRefused([{ name: 'h', type: 'hardlink', linkname: path.join(canary.dir, 'etc/shadow') }], 'h', /absolute/);
    await expectRefused([{ name: 'h', type: 'hardlink', linkname: '/etc/shadow' }], 'h', /absolute/);
    await expectRefused([{ name: 'h', type: 'hardlink', linkname: '../../x' }], 'h', /climbs out/);
    await expectRefused([{ name: 'a', type: 'symlink', linkname: path.join(canary.dir, 'etc') }, { name: 'h', type: 'hardlink', linkname: 'a/shadow' }], 'h', /not an earlier entry|symlink/);
    await expectRefused([{ name: 'h', type: 'hardlink', linkname: 'missing' }], 'h', /not an earlier entry/);
    await expectRefused([{ name: 'd/', type: 'dir' }, { name: 'h', type: 'hardlink', linkname: 'd' }], 'h', /directory/);
  });

  it('refuses device nodes', async () => {
    await expectRefused([{ name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 }], 'dev/null', /char device 1:3/);
    await expectRefused([{ name: 'sda', type: 'block', devmajor: 8, devminor: 0 }], 'sda', /block device/);
  });

  it('refuses whiteouts that name "..", "." or nothing', async () => {
    await expectRefused([{ name: 'etc/.wh...' }], 'etc/.wh...', /whiteout/);
    await expectRefused([{ name: '.wh..' }], '.wh..', /whiteout/);
    await expectRefused([{ name: 'x/.wh.' }], 'x/.wh.', /whiteout/);
  });

  it('refuses a non-directory layer root', async () => {
    await expectRefused([{ name: './', type: 'symlink', linkname: '/' }], './', /root/);
  });

  it('replaces a planted symlink by a file instead of writing through it', async () => {
    const built = imageBlobs([makeTar([
      { name: 'p', type: 'symlink', linkname: path.join(canary.dir, 'etc/passwd') },
      { name: 'p', content: 'mine' },
      { name: 's', type: 'symlink', linkname: path.join(canary.dir, 'etc/shadow') },
      { name: 'h', type: 'hardlink', linkname: 's' },
    ])]);
    for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
    const [dir] = await store.ensureLayers(built.config, built.layers);
    assert.equal(fs.readFileSync(path.join(dir!, 'p'), 'utf8'), 'mine');
    assert.ok(fs.lstatSync(path.join(dir!, 'p')).isFile());
    // A hard link to a symlink is the symlink itself (link(2) does not follow): nothing outside is touched.
    assert.ok(fs.lstatSync(path.join(dir!, 'h')).isSymbolicLink());
    assert.equal(fs.readlinkSync(path.join(dir!, 'h')), path.join(canary.dir, 'etc/shadow'));
    assert.equal(canary.snapshot(), before0);
  });
});
