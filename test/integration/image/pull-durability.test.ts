/**
 * Whole pulls (the berth executable against a real registry) of an image large enough to be
 * unpacked in the worker thread, with its layer requests sent early: what other processes and a
 * crash see. Two pulls of one image at once; a pull killed mid-download; and, under strace, the
 * order of the real system calls that makes a pull durable (every blob fsynced before its rename,
 * blobs/ fsynced after the last blob rename and before the image index names them).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ImageStore } from '../../../src/image/index.js';
import { buildImageLayout, pushImage, type FileSpec } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { BERTH, berth } from './cli.js';
import { makeScratch, type Scratch } from './scratch.js';

let registry: TestRegistry;
let scratch: Scratch;
let ref: string;
const files: Record<string, Buffer> = {};

before(async () => {
  registry = await startRegistry();
  scratch = makeScratch([registry.host]);
  // 20 layers of 1 MiB of random data (~20 MiB compressed: over WORKER_MIN_IMAGE, so every layer
  // is unpacked in the worker) on top of a small base.
  const layers: Record<string, FileSpec>[] = [];
  for (let i = 0; i < 20; i++) {
    const content = crypto.randomBytes(1024 * 1024);
    files[`/data/${i}.bin`] = content;
    layers.push({ [`/data/${i}.bin`]: { content } });
  }
  const layout = await buildImageLayout({ files: { '/base': 'base' }, layers });
  ref = await pushImage(layout, registry.host, 'durability/many');
});
after(async () => {
  await registry?.stop();
  scratch?.cleanup();
});

function storeArgs(name: string): string[] {
  const root = path.join(scratch.dir, name);
  return ['--root', `${root}/root`, '--runroot', `${root}/run`];
}

/** The pulled image is complete: every layer's file as pushed, each layer unpacked once, nothing half-made left. */
async function assertComplete(name: string, imageId: string): Promise<void> {
  const root = path.join(scratch.dir, name, 'root');
  const store = await ImageStore.open({ root, runroot: path.join(scratch.dir, name, 'run'), rootless: false });
  const image = await store.findImage(ref);
  assert.equal(image?.id, imageId);
  const dirs = await store.layerDirs(image!);
  assert.equal(dirs.length, 21);
  for (let i = 0; i < 20; i++) assert.ok(fs.readFileSync(path.join(dirs[i + 1]!, `data/${i}.bin`)).equals(files[`/data/${i}.bin`]!), `layer ${i + 1}`);
  const layersDir = store.layout.layersDir;
  assert.equal(fs.readdirSync(layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).length, 21);
  assert.deepEqual(fs.readdirSync(path.join(layersDir, 'tmp')), [], 'no temp layer dir left');
  assert.deepEqual(fs.readdirSync(store.layout.partialDir), [], 'no partial download left');
  assert.equal(fs.readdirSync(store.layout.blobsDir).length, 23, 'manifest, config and 21 layer blobs');
}

test('two processes pulling the same image into one store at once: both succeed, one copy of everything', { timeout: 120_000 }, async () => {
  const env = scratch.env;
  const args = [...storeArgs('twice'), 'pull', '-q', '--tls-verify=false', ref];
  const [a, b] = await Promise.all([berth(args, { env }), berth(args, { env })]);
  assert.equal(a.exitCode, 0, a.stderr);
  assert.equal(b.exitCode, 0, b.stderr);
  assert.equal(a.stdout.trim(), b.stdout.trim());
  await assertComplete('twice', a.stdout.trim());
});

/** A TCP proxy that passes `limit` bytes of each connection's responses, then holds the rest back. */
async function startStallProxy(target: string, limit: number): Promise<{ host: string; stalled: number; stop(): Promise<void> }> {
  const [targetHost, targetPort] = target.split(':');
  const sockets = new Set<net.Socket>();
  const state = { host: '', stalled: 0, stop: async () => {} };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), targetHost);
    sockets.add(client).add(upstream);
    let down = 0;
    client.on('data', (data) => upstream.write(data));
    upstream.on('data', (data) => {
      if (down >= limit) return;
      const pass = data.subarray(0, limit - down);
      down += pass.length;
      client.write(pass);
      if (down >= limit) state.stalled++;
    });
    const close = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  state.stop = () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  return state;
}

test('a pull killed mid-download leaves a store the next pull completes', { timeout: 120_000 }, async () => {
  // Each connection carries 700 KB (more than one 512 KiB download batch) and then stalls: several
  // layers are mid-download (partial files and temp layer dirs half-written, the worker unpacking)
  // when the process is killed.
  const proxy = await startStallProxy(registry.host, 700 * 1024);
  try {
    const args = [...storeArgs('killed'), 'pull', '-q', '--tls-verify=false', ref.replace(registry.host, proxy.host)];
    const child = spawn(process.execPath, [BERTH, ...args], { env: { ...process.env, ...scratch.env }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      const partial = path.join(scratch.dir, 'killed', 'root', 'images', 'partial');
      const deadline = Date.now() + 30_000;
      // Layer downloads of the killed pull have begun: their partial files hold bytes. (A small
      // layer's partial file may be committed, renamed away, between the listing and its stat.)
      const started = (): number => fs.readdirSync(partial).filter((f) => (fs.statSync(path.join(partial, f), { throwIfNoEntry: false })?.size ?? 0) > 0).length;
      while ((fs.existsSync(partial) ? started() : 0) < 3) {
        assert.ok(Date.now() < deadline, 'the pull did not start downloading layers');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      child.kill('SIGKILL'); // also when the wait failed: no pull outlives the test
    }
    assert.equal(await exited, 'SIGKILL');
  } finally {
    await proxy.stop();
  }
  const root = path.join(scratch.dir, 'killed', 'root');
  assert.ok(fs.readdirSync(path.join(root, 'layers', 'tmp')).length > 0, 'the killed pull left temp layer dirs (what the next pull must cope with)');
  const again = await berth([...storeArgs('killed'), 'pull', '-q', '--tls-verify=false', ref], { env: scratch.env });
  assert.equal(again.exitCode, 0, again.stderr);
  await assertComplete('killed', again.stdout.trim());
});

/**
 * strace's record of one pull, as events in the order they happened: an fsync/fdatasync finished
 * (the path its fd was opened with), a rename started (from -> to). Lines are per thread (-f); the
 * threads of berth's process share one fd table. The lock helper (perl) opens only lock files:
 * those are left out, so its descriptors never shadow berth's.
 */
function durabilityEvents(log: string): { kind: 'fsync' | 'rename'; path: string; to?: string }[] {
  const events: { kind: 'fsync' | 'rename'; path: string; to?: string }[] = [];
  const fds = new Map<string, string>();
  const pending = new Map<string, string>(); // tid -> the unfinished call's text
  for (const raw of log.split('\n')) {
    const m = /^(\d+) +(.*)$/.exec(raw);
    if (!m) continue;
    const [, tid, rest] = m;
    let text = rest!;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(text);
    if (resumed) {
      text = `${pending.get(tid!) ?? `${resumed[1]}(`}${resumed[2]}`;
      pending.delete(tid!);
    } else if (text.endsWith('<unfinished ...>')) {
      const call = text.slice(0, -'<unfinished ...>'.length).trimEnd();
      pending.set(tid!, call);
      const rename = /^rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(call);
      if (rename) events.push({ kind: 'rename', path: rename[1]!, to: rename[2]! });
      continue;
    }
    const open = /^openat\(AT_FDCWD, "([^"]+)", [^)]*\)\s*= (\d+)/.exec(text);
    if (open && !open[1]!.includes('/locks/')) fds.set(open[2]!, open[1]!);
    const sync = /^f(?:data)?sync\((\d+)\)\s*= 0/.exec(text);
    if (sync && fds.has(sync[1]!)) events.push({ kind: 'fsync', path: fds.get(sync[1]!)! });
    const rename = /^rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(text);
    if (rename && !resumed) events.push({ kind: 'rename', path: rename[1]!, to: rename[2]! });
  }
  return events;
}

test('durability order under strace: each blob fsynced before its rename, blobs/ fsynced before the index names them', { timeout: 120_000 }, async () => {
  const trace = path.join(scratch.dir, 'strace.txt');
  const args = [...storeArgs('traced'), 'pull', '-q', '--tls-verify=false', ref];
  const run = spawnSync('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=openat,fsync,fdatasync,rename,renameat,renameat2', process.execPath, BERTH, ...args],
    { env: { ...process.env, ...scratch.env }, encoding: 'utf8', timeout: 100_000 });
  assert.equal(run.status, 0, run.stderr);
  await assertComplete('traced', run.stdout.trim());
  const events = durabilityEvents(fs.readFileSync(trace, 'utf8'));
  const blobsDir = path.join(scratch.dir, 'traced', 'root', 'images', 'blobs', 'sha256');
  const blobRenames = events.map((e, i) => ({ e, i })).filter(({ e }) => e.kind === 'rename' && path.dirname(e.to!) === blobsDir);
  assert.equal(blobRenames.length, 23, 'every blob renamed into blobs/');
  for (const { e, i } of blobRenames) {
    const synced = events.slice(0, i).some((x) => x.kind === 'fsync' && x.path === e.path);
    assert.ok(synced, `${path.basename(e.to!)} renamed into blobs/ before its fsync finished`);
  }
  const indexRename = events.findIndex((e) => e.kind === 'rename' && e.to!.endsWith(path.join('images', 'images.json')));
  assert.ok(indexRename > 0, 'the image index was written');
  const lastBlob = blobRenames[blobRenames.length - 1]!.i;
  assert.ok(lastBlob < indexRename, 'every blob is in blobs/ before the index names it');
  const dirSynced = events.slice(lastBlob, indexRename).some((e) => e.kind === 'fsync' && e.path === blobsDir);
  assert.ok(dirSynced, 'blobs/ fsynced after the last blob rename and before the index rename');
  const indexTemp = events[indexRename]!.path;
  assert.ok(events.slice(0, indexRename).some((e) => e.kind === 'fsync' && e.path === indexTemp), 'the index temp file fsynced before its rename');
});
