import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../../../../src/errors/index.js';
import { chainIds, type ImageStore } from '../../../../src/image/store/index.js';
import { addImage, imageBlobs, openTestStore, tempDir } from '../../../unit/image/store/store-fixtures.js';
import { makeTar, sha256 } from '../../../unit/image/store/tar-fixtures.js';

function blobs(store: ImageStore): string[] {
  return fs.readdirSync(store.layout.blobsDir).map((h) => `sha256:${h}`).sort();
}
function layers(store: ImageStore): string[] {
  return fs.readdirSync(store.layout.layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((h) => `sha256:${h}`).sort();
}
function links(store: ImageStore): number {
  return fs.readdirSync(store.layout.linksDir).length;
}

describe('rmi and prune free exactly what nothing uses', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  before(async () => { t = tempDir('gc'); store = await openTestStore(t.dir); });
  after(() => t.cleanup());

  const shared = makeTar([{ name: 'base', content: 'shared base layer' }]);

  it('removing one of two images sharing a base layer keeps the shared blob and layer', async () => {
    const a = await addImage(store, [shared, makeTar([{ name: 'a', content: 'a' }])], ['localhost/a:latest']);
    const b = await addImage(store, [shared, makeTar([{ name: 'b', content: 'b' }])], ['localhost/b:latest', 'localhost/b:v2']);
    assert.equal(a.dirs[0], b.dirs[0], 'base layer unpacked once and shared');
    const allBlobs = blobs(store);
    assert.equal(allBlobs.length, 7); // 1 shared + 2 own layers, 2 configs, 2 manifests
    assert.equal(layers(store).length, 3);

    assert.deepEqual(await store.removeImage('localhost/a'), ['Untagged: localhost/a:latest', `Deleted: ${a.image.id}`]);
    const expectedBlobs = [b.layers[0]!.digest, b.layers[1]!.digest, b.configDigest, b.manifestDigest].sort();
    assert.deepEqual(blobs(store), expectedBlobs);
    assert.deepEqual(layers(store), [...b.image.chainIds].sort());
    assert.equal(links(store), 2);
    assert.ok(fs.existsSync(b.dirs[0]!) && fs.existsSync(b.dirs[1]!));

    // By name with two names: only untags.
    assert.deepEqual(await store.removeImage('localhost/b:v2'), ['Untagged: localhost/b:v2']);
    assert.deepEqual(blobs(store), expectedBlobs);
    // In use by a container: refused unless forced.
    await assert.rejects(store.removeImage('localhost/b', { inUse: (id) => id === b.image.id }), (e: unknown) => e instanceof ImageError && e.code === 'image-in-use');
    assert.deepEqual(blobs(store), expectedBlobs);
    await store.removeImage('localhost/b', { force: true, inUse: () => true });
    assert.deepEqual(blobs(store), []);
    assert.deepEqual(layers(store), []);
    assert.equal(links(store), 0);
    assert.deepEqual(await store.listImages(), []);
    await assert.rejects(store.removeImage('localhost/b'), (e: unknown) => e instanceof ImageError && e.code === 'image-not-found' && e.exitCode === 1);
  });

  it('refuses by ID with several names (without force) and a mounted image', async () => {
    const c = await addImage(store, [makeTar([{ name: 'c', content: 'c' }])], ['localhost/c:1', 'localhost/c:2']);
    await assert.rejects(store.removeImage(c.image.id.slice(0, 12)), (e: unknown) => e instanceof ImageError && e.code === 'image-multiple-names');
    await store.mountImage('localhost/c:1');
    await assert.rejects(store.removeImage('localhost/c:1', { force: false }).then(() => store.removeImage('localhost/c:2')), (e: unknown) => e instanceof ImageError && e.code === 'image-mounted');
    assert.equal((await store.findImage(c.image.id))?.names.length, 1);
    const lines = await store.removeImage(c.image.id, { force: true });
    assert.deepEqual(lines, ['Untagged: localhost/c:2', `Deleted: ${c.image.id}`]);
    assert.deepEqual(blobs(store), []);
    assert.deepEqual(fs.readdirSync(store.layout.mountsDir), []);
  });

  it('prune removes dangling images and orphaned blobs and layers; -a removes every unused image', async () => {
    const old = await addImage(store, [shared, makeTar([{ name: 'v', content: '1' }])], ['localhost/app:latest']);
    const cur = await addImage(store, [shared, makeTar([{ name: 'v', content: '2' }])], ['localhost/app:latest']);
    const keep = await addImage(store, [makeTar([{ name: 'k', content: 'k' }])], ['localhost/keep:latest']);
    // An orphan blob a failed pull left behind (no pins: written by a process that is gone).
    const orphan = Buffer.from('orphan');
    fs.writeFileSync(`${store.layout.blobsDir}/${sha256(orphan).slice(7)}`, orphan);
    assert.deepEqual((await store.findImage(old.image.id))?.names, []);
    assert.deepEqual(await store.prune({}), [old.image.id]);
    assert.ok(!blobs(store).includes(sha256(orphan)));
    assert.ok(!blobs(store).includes(old.layers[1]!.digest));
    assert.ok(blobs(store).includes(cur.layers[0]!.digest));
    assert.deepEqual(layers(store), [...new Set([...cur.image.chainIds, ...keep.image.chainIds])].sort());
    assert.deepEqual(await store.prune({ all: true, inUse: (id) => id === keep.image.id }), [cur.image.id]);
    assert.deepEqual(blobs(store), [keep.layers[0]!.digest, keep.configDigest, keep.manifestDigest].sort());
    assert.deepEqual(layers(store), keep.image.chainIds);
  });

  it('abandonPull frees what a failed pull added but keeps what recorded images share', async () => {
    const kept = await addImage(store, [shared], ['localhost/kept:latest']);
    const before0 = { blobs: blobs(store), layers: layers(store) };
    const built = imageBlobs([shared, makeTar([{ name: 'new', content: 'new' }])]);
    for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
    await store.ensureLayers(built.config, built.layers);
    assert.equal(layers(store).length, before0.layers.length + 1);
    await store.abandonPull({ blobs: [...built.blobs.keys()], chains: chainIds(built.config.rootfs.diff_ids) });
    assert.deepEqual({ blobs: blobs(store), layers: layers(store) }, before0);
    assert.ok(fs.existsSync(kept.dirs[0]!));
    await store.removeImage(kept.image.id);
  });

  it('keeps what an in-flight pull of this process pinned', async () => {
    const data = Buffer.from('pulled but not yet recorded');
    const digest = sha256(data);
    await store.writeBlob(digest, data.length, [data]);
    await store.prune({ all: true });
    assert.equal(await store.hasBlob(digest), true);
  });
});
