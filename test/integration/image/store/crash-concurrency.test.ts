import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ImageStore } from '../../../../src/image/store/index.js';
import { ownedTempName } from '../../../../src/image/store/owner.js';
import { imageBlobs, openTestStore, tempDir } from '../../../unit/image/store/store-fixtures.js';
import { makeTar, sha256, type FixtureEntry } from '../../../unit/image/store/tar-fixtures.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'store-child.js');

function child(job: string, args: string[]): { proc: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const proc = spawn(process.execPath, [CHILD, ...args], { env: { ...process.env, BERTH_STORE_CHILD: job }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
  return { proc, done };
}

function manyFiles(count: number): FixtureEntry[] {
  const entries: FixtureEntry[] = [];
  for (let d = 0; d < count / 100; d++) {
    entries.push({ name: `d${d}/`, type: 'dir' });
    for (let f = 0; f < 100; f++) entries.push({ name: `d${d}/f${f}`, content: `file ${d}/${f}\n`.repeat(20) });
  }
  return entries;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? 1 + countFiles(path.join(dir, e.name)) : 1;
  return n;
}

describe('crash safety and concurrency across processes', { timeout: 180_000 }, () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  const children: ChildProcess[] = [];
  before(async () => { t = tempDir('crash'); store = await openTestStore(t.dir); });
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    t.cleanup();
  });

  it('a process killed mid-unpack leaves nothing in use; the next open cleans up and the layer is unpacked again', async () => {
    const built = imageBlobs([makeTar(manyFiles(4000))], 'zstd');
    for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
    const jobFile = path.join(t.dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify({ config: built.config, layers: built.layers }));
    const c = child('unpack', [store.paths.root, store.paths.runroot, jobFile]);
    children.push(c.proc);
    // Wait until the child is well into the layer, then kill it without warning.
    const deadline = Date.now() + 60_000;
    let partial: string | undefined;
    while (Date.now() < deadline) {
      const tmp = fs.readdirSync(store.layout.layersTmp);
      if (tmp.length === 1 && fs.existsSync(path.join(store.layout.layersTmp, tmp[0]!, 'diff'))) {
        const diff = path.join(store.layout.layersTmp, tmp[0]!, 'diff');
        if (fs.readdirSync(diff).length >= 3) { partial = tmp[0]; break; }
      }
      await sleep(5);
    }
    assert.ok(partial, 'the child never started unpacking');
    c.proc.kill('SIGKILL');
    const result = await c.done;
    assert.equal(result.code, null, `child finished before the kill: ${result.stdout}${result.stderr}`);
    // Killed mid-way: a temp dir is left, no layer is complete.
    assert.deepEqual(fs.readdirSync(store.layout.layersTmp), [partial]);
    assert.equal(fs.readdirSync(store.layout.layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).length, 0);
    // The next command repairs and works.
    const reopened = await ImageStore.open(store.paths);
    assert.deepEqual(fs.readdirSync(store.layout.layersTmp), []);
    const [dir] = await reopened.ensureLayers(built.config, built.layers);
    assert.equal(countFiles(dir!), 4040);
  });

  it('leftover temps of dead processes are removed on open, those of live ones kept; half-made layer dirs are removed', async () => {
    const dead = path.join(store.layout.imagesTmp, '999999999-ffffffffffff-abcdef-images.json');
    fs.writeFileSync(dead, '{"version":1,"images":[{"id":');
    const live = path.join(store.layout.layersTmp, ownedTempName('live'));
    const otherBoot = path.join(store.layout.layersTmp, `${process.pid}-000000000000-abcdef-old`);
    fs.mkdirSync(live);
    fs.mkdirSync(otherBoot);
    const half = path.join(store.layout.layersDir, 'a'.repeat(64));
    fs.mkdirSync(path.join(half, 'diff'), { recursive: true });
    const before0 = await store.listImages();
    const reopened = await ImageStore.open(store.paths);
    assert.ok(!fs.existsSync(dead));
    assert.ok(!fs.existsSync(half));
    assert.ok(!fs.existsSync(otherBoot), 'a temp from another boot is stale');
    assert.ok(fs.existsSync(live), 'a live process keeps its temp');
    fs.rmdirSync(live);
    assert.deepEqual(await reopened.listImages(), before0);
  });

  it('two processes writing the same blob at once end with one verified blob and no partial file', async () => {
    const data = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const file = path.join(t.dir, 'big.bin');
    fs.writeFileSync(file, data);
    const digest = sha256(data);
    const a = child('write', [store.paths.root, store.paths.runroot, digest, file, '1']);
    const b = child('write', [store.paths.root, store.paths.runroot, digest, file, '1']);
    children.push(a.proc, b.proc);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual(await store.readBlob(digest), data);
    assert.deepEqual(fs.readdirSync(store.layout.partialDir), []);
  });

  it('two processes unpacking the same image share one unpack of each layer', async () => {
    const built = imageBlobs([makeTar(manyFiles(500)), makeTar([{ name: 'top', content: 'top' }])], 'gzip', 'shared');
    for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
    const jobFile = path.join(t.dir, 'job2.json');
    fs.writeFileSync(jobFile, JSON.stringify({ config: built.config, layers: built.layers }));
    const a = child('unpack', [store.paths.root, store.paths.runroot, jobFile]);
    const b = child('unpack', [store.paths.root, store.paths.runroot, jobFile]);
    children.push(a.proc, b.proc);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual(JSON.parse(ra.stdout), JSON.parse(rb.stdout));
    const dirs = JSON.parse(ra.stdout) as string[];
    assert.equal(countFiles(dirs[0]!), 505);
    assert.deepEqual(fs.readdirSync(store.layout.layersTmp), []);
  });
});
