import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../../../../src/errors/index.js';
import { unpackLayerFile } from '../../../../src/image/store/unpack.js';
import { chunkBuffer, returnedBuffers, stopIdleUnpackWorkers, unpackHere, unpackInWorker } from '../../../../src/image/store/unpack-pool.js';
import { compress, describeTree, diffTrees, makeCanary, tempDir } from './store-fixtures.js';
import { makeTar, sha256 } from './tar-fixtures.js';

const MTIME = 1_600_000_000;
const big = crypto.randomBytes(3 * 1024 * 1024);
const tar = makeTar([
  { name: 'etc/', type: 'dir', mode: 0o755, mtime: MTIME },
  { name: 'etc/conf', content: 'a=1\n', mode: 0o640, uid: 0, gid: 5, mtime: MTIME },
  { name: 'data/big', content: big, mode: 0o600, mtime: MTIME },
  { name: 'data/link', type: 'symlink', linkname: 'big', mtime: MTIME },
  { name: 'data/hard', type: 'hardlink', linkname: 'data/big' },
  { name: 'gone/.wh.old' },
]);

/** Pushes `blob` in pieces of `size` as the pull does (awaiting backpressure), then ends. */
async function pushAll(job: ReturnType<typeof unpackHere>, blob: Buffer, size: number, own: boolean): Promise<void> {
  for (let at = 0; at < blob.length; at += size) {
    const piece = blob.subarray(at, at + size);
    const chunk = own ? chunkBuffer(piece.length) : piece;
    if (own) piece.copy(chunk);
    const full = job.push(chunk);
    if (full) await full;
  }
  job.end();
}

describe('layer unpacking from a download, in the worker thread and on this one', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => (t = tempDir('worker')));
  after(() => t.cleanup());

  function dest(label: string): string {
    const dir = path.join(t.dir, label);
    fs.mkdirSync(dir);
    return dir;
  }

  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`writes the same layer as unpackLayerFile, from streamed ${compression} chunks`, async () => {
      const blob = compress(tar, compression);
      const file = path.join(t.dir, `${compression}.blob`);
      fs.writeFileSync(file, blob);
      const reference = dest(`${compression}-main`);
      const expected = await unpackLayerFile(file, reference, { diffId: sha256(tar), keepOwnership: true });
      const streamed = dest(`${compression}-worker`);
      const job = unpackInWorker(streamed, { diffId: sha256(tar), keepOwnership: true, layer: 'test-layer' });
      await pushAll(job, blob, 100_000, compression === 'gzip');
      const result = await job.result;
      assert.deepEqual(result, expected);
      assert.deepEqual(diffTrees(describeTree(reference, { mtimes: true }), describeTree(streamed, { mtimes: true })), []);
      const here = dest(`${compression}-here`);
      const local = unpackHere(here, { diffId: sha256(tar), keepOwnership: true, layer: 'test-layer' });
      await pushAll(local, blob, 100_000, false);
      assert.deepEqual(await local.result, expected);
      assert.deepEqual(diffTrees(describeTree(reference, { mtimes: true }), describeTree(here, { mtimes: true })), []);
    });
  }

  it('moves chunkBuffer chunks to the worker without a copy, copies other chunks, and asks the sender to wait', async () => {
    const blob = compress(tar, 'gzip');
    const job = unpackInWorker(dest('transfer'), { diffId: sha256(tar) });
    try {
      const piece = 300 * 1024;
      const owned = chunkBuffer(piece);
      blob.copy(owned, 0, 0, piece);
      assert.equal(job.push(owned), undefined, 'under the in-flight limit (512 KiB): no wait');
      assert.equal(owned.byteLength, 0, 'the chunkBuffer memory went to the worker');
      const rest = Buffer.from(blob.subarray(piece, 2 * piece));
      const copyOfRest = Buffer.from(rest);
      const wait = job.push(rest);
      assert.ok(wait instanceof Promise, 'over the limit in flight: push asks to wait');
      assert.deepEqual(rest, copyOfRest, 'a chunk not made by chunkBuffer stays intact');
      await wait;
      for (let at = 2 * piece; at < blob.length; at += 256 * 1024) {
        const full = job.push(blob.subarray(at, at + 256 * 1024));
        if (full) await full;
      }
      job.end();
      assert.equal((await job.result).diffId, sha256(tar));
    } finally {
      job.abort('test over'); // a failed assertion must not leave the job (and the worker) running
      await job.result.catch(() => undefined);
    }
  });

  it('hands chunkBuffer memory back once zlib took its bytes, and the next batches of that size reuse it', async () => {
    const blob = compress(tar, 'gzip');
    const size = 64 * 1024;
    const job = unpackInWorker(dest('reuse'), { diffId: sha256(tar) });
    await pushAll(job, blob, size, true);
    assert.equal((await job.result).diffId, sha256(tar));
    await new Promise((resolve) => setTimeout(resolve, 50));   // the last hand-backs are messages too
    const waiting = returnedBuffers();
    assert.ok(waiting > 0, 'no memory came back from the worker');
    const again = chunkBuffer(size);
    assert.equal(again.byteLength, size);
    assert.equal(returnedBuffers(), waiting - 1, 'a batch of the same size took a handed-back buffer');
    // Reused memory goes to the worker like fresh memory, and unpacks the same.
    const second = unpackInWorker(dest('reuse-again'), { diffId: sha256(tar) });
    await pushAll(second, blob, size, true);
    assert.equal((await second.result).diffId, sha256(tar));
    assert.deepEqual(diffTrees(describeTree(path.join(t.dir, 'reuse')), describeTree(path.join(t.dir, 'reuse-again'))), []);
  });

  it('hands back a batch that fills only part of its memory (a blob\'s last), whole', async () => {
    const blob = compress(tar, 'gzip');
    const size = 96 * 1024;
    const job = unpackInWorker(dest('partial'), { diffId: sha256(tar) });
    for (let at = 0; at < blob.length; at += size - 1000) {
      const part = blob.subarray(at, at + size - 1000);
      const batch = chunkBuffer(size);
      part.copy(batch);
      const full = job.push(batch.subarray(0, part.length)); // as pull.ts pushes a batch it did not fill
      if (full) await full;
    }
    job.end();
    assert.equal((await job.result).diffId, sha256(tar));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = returnedBuffers();
    assert.ok(waiting > 0, 'no memory came back from the worker');
    assert.equal(chunkBuffer(size).byteLength, size);
    assert.equal(returnedBuffers(), waiting - 1, 'a whole buffer of the batch size came back, not only the part the batch filled');
  });

  it('refuses an unsafe layer with the same typed error, naming the entry, and writes nothing outside', async () => {
    const canary = makeCanary(t.dir);
    const before0 = canary.snapshot();
    const evil = makeTar([{ name: 'ok', content: 'fine' }, { name: '../escaped', content: 'out' }]);
    const job = unpackInWorker(dest('unsafe'), { layer: 'sha256:feed' });
    await pushAll(job, compress(evil, 'gzip'), 4096, true);
    await assert.rejects(job.result, (error: unknown) => {
      assert.ok(error instanceof ImageError, `not an ImageError: ${String(error)}`);
      assert.equal(error.code, 'layer-unsafe-entry');
      assert.equal(error.context.entry, '../escaped');
      assert.equal(error.context.digest, 'sha256:feed');
      assert.match(error.message, /^layer sha256:feed: refusing entry "\.\.\/escaped"/);
      return true;
    });
    assert.equal(fs.existsSync(path.join(t.dir, 'escaped')), false);
    assert.equal(canary.snapshot(), before0);
    const wrong = unpackInWorker(dest('wrong-diffid'), { diffId: sha256('other'), layer: 'sha256:beef' });
    await pushAll(wrong, compress(tar, 'zstd'), 65536, false);
    await assert.rejects(wrong.result, (error: unknown) => error instanceof ImageError && error.code === 'diff-id-mismatch' && /does not match the config's diff ID/.test(error.message));
  });

  it('an idle worker does not keep the process alive (a pull that finds every layer stored)', () => {
    const pool = new URL('../../../../src/image/store/unpack-pool.js', import.meta.url).href;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import { warmUnpackPool } from ${JSON.stringify(pool)}; warmUnpackPool();`], { timeout: 10_000 });
    assert.equal(child.status, 0, `exit ${child.status} ${child.signal ?? ''}: ${child.stderr}`);
    assert.ok(Date.now() - started < 5000);
  });

  it('stopping the idle workers leaves a running job alone, and a later job gets a new worker', async () => {
    const blob = compress(tar, 'gzip');
    const running = unpackInWorker(dest('stop-running'), { diffId: sha256(tar) });
    const half = running.push(blob.subarray(0, 200_000));
    if (half) await half;
    stopIdleUnpackWorkers(); // the one worker has a job: it stays
    await pushAll(running, blob.subarray(200_000), 100_000, false);
    assert.equal((await running.result).diffId, sha256(tar));
    stopIdleUnpackWorkers(); // now idle: ended
    const later = unpackInWorker(dest('stop-later'), { diffId: sha256(tar) });
    await pushAll(later, blob, 100_000, false);
    assert.equal((await later.result).diffId, sha256(tar));
    assert.deepEqual(diffTrees(describeTree(path.join(t.dir, 'stop-running')), describeTree(path.join(t.dir, 'stop-later'))), []);
  });

  for (const where of ['worker', 'here'] as const) it(`an aborted download stops the job (${where}): it fails with the reason and writes no more`, async () => {
    const blob = compress(tar, 'gzip');
    const dir = dest(`aborted-${where}`);
    const job = (where === 'worker' ? unpackInWorker : unpackHere)(dir, { diffId: sha256(tar) });
    const full = job.push(blob.subarray(0, 512 * 1024));
    if (full) await full;
    job.abort('the download stopped');
    await assert.rejects(job.result, /the download stopped/);
    const after = describeTree(dir);
    assert.equal(job.push(blob.subarray(512 * 1024)), undefined, 'pushing after the end is ignored');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(diffTrees(after, describeTree(dir)), []);
  });
});
