import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../../../../src/errors/index.js';
import { chainIds, type ImageStore } from '../../../../src/image/store/index.js';
import { matchImage, type StoredImage } from '../../../../src/image/store/images.js';
import { addImage, openTestStore, tempDir } from './store-fixtures.js';
import { makeTar, sha256 } from './tar-fixtures.js';

async function* chunks(data: Buffer, fail?: Error): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
  if (fail) throw fail;
}

describe('blobs', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  before(async () => { t = tempDir('blobs'); store = await openTestStore(t.dir); });
  after(() => t.cleanup());

  it('stores a verified blob atomically and reads it back', async () => {
    const data = Buffer.from('x'.repeat(5000));
    const digest = sha256(data);
    assert.equal(await store.hasBlob(digest), false);
    await store.writeBlob(digest, data.length, chunks(data));
    assert.equal(await store.hasBlob(digest), true);
    assert.deepEqual(await store.readBlob(digest), data);
    assert.equal(await store.partialBlobSize(digest), 0);
    // Already stored: the source is not read at all.
    let read = false;
    await store.writeBlob(digest, data.length, (async function* () { read = true; yield Buffer.from('junk'); })());
    assert.equal(read, false);
  });

  it('refuses a wrong digest or size and keeps nothing', async () => {
    const data = Buffer.from('y'.repeat(3000));
    const wrong = sha256('other');
    await assert.rejects(store.writeBlob(wrong, data.length, chunks(data)), (e: unknown) => e instanceof ImageError && e.code === 'blob-digest-mismatch' && e.context.digest === wrong);
    assert.equal(await store.hasBlob(wrong), false);
    assert.equal(await store.partialBlobSize(wrong), 0);
    const digest = sha256(data);
    await assert.rejects(store.writeBlob(digest, 10, chunks(data)), (e: unknown) => e instanceof ImageError && e.code === 'blob-size-mismatch');
    await assert.rejects(store.writeBlob(digest, 4000, chunks(data)), (e: unknown) => e instanceof ImageError && e.code === 'blob-size-mismatch');
    assert.equal(await store.hasBlob(digest), false);
    assert.deepEqual(fs.readdirSync(store.layout.partialDir), []);
    assert.throws(() => store.blobPath('sha256:../../etc'), (e: unknown) => e instanceof ImageError && e.code === 'bad-digest');
  });

  it('keeps an interrupted download and resumes it with append', async () => {
    const data = Buffer.alloc(10_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const digest = sha256(data);
    const cut = new Error('connection reset');
    await assert.rejects(store.writeBlob(digest, data.length, chunks(data.subarray(0, 6000), cut)), /connection reset/);
    assert.equal(await store.hasBlob(digest), false);
    const kept = await store.partialBlobSize(digest);
    assert.equal(kept, 6000);
    await store.writeBlob(digest, data.length, chunks(data.subarray(kept)), { append: true, offset: kept });
    assert.deepEqual(await store.readBlob(digest), data);
    assert.equal(await store.partialBlobSize(digest), 0);
  });

  it('a large blob is written back to disk while it downloads, not only at its end', async () => {
    const data = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff;
    const digest = sha256(data);
    // A spy on the real FileHandle.datasync: when was it called, relative to the source's last byte?
    const probe = await fs.promises.open(t.dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const real = proto.datasync;
    let yielded = 0;
    const calls: number[] = [];
    proto.datasync = function (this: unknown) { calls.push(yielded); return real.call(this); };
    try {
      await store.writeBlob(digest, data.length, (async function* () {
        for (let i = 0; i < data.length; i += 256 * 1024) {
          yielded = i + 256 * 1024;
          yield data.subarray(i, i + 256 * 1024);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })());
    } finally {
      proto.datasync = real;
    }
    assert.ok(calls.length >= 1 && calls[0]! < data.length, `a datasync before the last byte (at ${calls.join(', ')})`);
    assert.deepEqual(await store.readBlob(digest), data);
  });

  it('a resume whose bytes do not add up is refused and dropped', async () => {
    const data = Buffer.from('z'.repeat(4000));
    const digest = sha256(data);
    await assert.rejects(store.writeBlob(digest, data.length, chunks(data.subarray(0, 2000), new Error('cut'))));
    await store.writeBlob(digest, data.length, chunks(Buffer.from('q'.repeat(2000))), { append: true }).then(
      () => assert.fail('accepted a wrong resume'),
      (e: unknown) => assert.ok(e instanceof ImageError && e.code === 'blob-digest-mismatch'),
    );
    assert.equal(await store.partialBlobSize(digest), 0);
    await assert.rejects(store.writeBlob(digest, data.length, chunks(data), { append: true, offset: 100 }), (e: unknown) => e instanceof ImageError && e.code === 'blob-resume-mismatch');
  });
});

describe('image index', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  before(async () => { t = tempDir('index'); store = await openTestStore(t.dir); });
  after(() => t.cleanup());

  it('computes chain IDs as the OCI spec defines them', () => {
    const a = sha256('a');
    const b = sha256('b');
    const [c0, c1] = chainIds([a, b]);
    assert.equal(c0, a);
    assert.equal(c1, sha256(`${a} ${b}`));
  });

  it('records images, finds them by name, short name, ID prefix and digest, and moves names', async () => {
    const one = await addImage(store, [makeTar([{ name: 'one', content: '1' }])], ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1.36']);
    assert.equal(one.image.id, one.configDigest.slice(7));
    for (const ref of ['docker.io/library/busybox:latest', 'busybox', 'busybox:1.36', 'library/busybox', one.image.id, one.image.id.slice(0, 12), `sha256:${one.image.id}`, one.manifestDigest, `docker.io/library/busybox@${one.manifestDigest}`]) {
      assert.equal((await store.findImage(ref))?.id, one.image.id, ref);
    }
    assert.equal(await store.findImage('usybox'), undefined);
    assert.equal(await store.findImage('busybox:1.35'), undefined);
    const two = await addImage(store, [makeTar([{ name: 'two', content: '2' }])], ['docker.io/library/busybox:latest']);
    assert.equal((await store.findImage('busybox'))?.id, two.image.id);
    assert.deepEqual((await store.findImage(one.image.id))?.names, ['docker.io/library/busybox:1.36']);
    const three = await addImage(store, [makeTar([{ name: 'three', content: '3' }])], ['docker.io/library/busybox:1.36']);
    assert.deepEqual((await store.findImage(one.image.id))?.names, [], 'left dangling');
    assert.equal((await store.findImage('busybox:1.36'))?.id, three.image.id);
    assert.equal((await store.listImages()).length, 3);
    assert.deepEqual(await store.layerDirs(three.image), three.dirs);
  });

  it('falls back to the previous index if the current one is damaged, and says so if both are', async () => {
    const before0 = await store.listImages();
    assert.ok(before0.length > 0);
    await addImage(store, [makeTar([{ name: 'four', content: '4' }])], ['localhost/four:latest']);
    fs.writeFileSync(store.layout.indexFile, '{"version":1,"images":[{"id":');
    assert.deepEqual(await store.listImages(), before0);
    fs.writeFileSync(`${store.layout.indexFile}.bak`, 'garbage');
    await assert.rejects(store.listImages(), (e: unknown) => e instanceof ImageError && e.code === 'index-corrupt' && e.message.includes(store.layout.indexFile));
  });

  it('says when an ID prefix is ambiguous', () => {
    const base = { digest: 'sha256:x', digests: [], names: [], configDigest: '', layers: [], diffIds: [], chainIds: [], recordedAt: '', size: 0 };
    const images: StoredImage[] = [{ ...base, id: 'abc1' + '0'.repeat(60) }, { ...base, id: 'abc2' + '0'.repeat(60) }];
    assert.throws(() => matchImage(images, 'abc'), (e: unknown) => e instanceof ImageError && e.code === 'image-ambiguous');
    assert.equal(matchImage(images, 'abc1')?.id, images[0]!.id);
  });
});
