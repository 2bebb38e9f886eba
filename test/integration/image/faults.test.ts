/**
 * Failures on the way from the registry: each ends with a clear error naming the image, and the
 * store keeps no new image or layer (an interrupted download may stay in partial/ for a resume).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ImageStore } from '../../../src/image/index.js';
import { pullImage } from '../../../src/image/pull.js';
import { buildImageLayout, pushImage, type ImageLayout } from '../../support/images.js';
import { registryBlobPath, startRegistry, type TestRegistry } from '../../support/registry.js';
import { imageBlobs, writeOciLayout } from '../../unit/image/store/store-fixtures.js';
import { makeTar, sha256 } from '../../unit/image/store/tar-fixtures.js';
import { startCutProxy } from './cut-proxy.js';
import { makeScratch, storeFiles, useEnv, type Scratch } from './scratch.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 };

/** Deterministic incompressible bytes (so the fixture cache still works). */
function pseudoRandom(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = crypto.createHash('sha256').update(seed).digest();
  for (let offset = 0; offset < size; offset += 32) {
    block.copy(out, offset, 0, Math.min(32, size - offset));
    block = crypto.createHash('sha256').update(block).digest();
  }
  return out;
}

let registry: TestRegistry;
let scratch: Scratch;
let restore: () => void;
let layout: ImageLayout;
const BIG = pseudoRandom(2 * 1024 * 1024, 'berth-faults');

before(async () => {
  registry = await startRegistry();
  scratch = makeScratch([registry.host, '127.0.0.1']);
  restore = useEnv(scratch.env);
  layout = await buildImageLayout({ files: { '/small': 'small' }, layers: [{ '/big': { content: BIG } }, { '/top': 'top' }] });
});
after(async () => {
  restore?.();
  await registry?.stop();
  scratch?.cleanup();
});

interface Snapshot { images: string; files: string[] }
async function snapshot(root: string): Promise<Snapshot> {
  const store = await ImageStore.open({ root, runroot: `${root}-run`, rootless: false });
  return { images: JSON.stringify(await store.listImages()), files: storeFiles(root).filter((f) => !/^(images\/partial|locks|pins)\//.test(f) && !f.includes('/partial/')) };
}

async function storeWithOneImage(name: string): Promise<string> {
  const root = path.join(scratch.dir, name);
  const ok = await buildImageLayout({ files: { '/already': 'here' } });
  const ref = await pushImage(ok, registry.host, `faults/${name}-base`);
  await pullImage(ref, { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true });
  return root;
}

test('connection cut mid-blob: the download resumes with Range and the pull succeeds', async (t) => {
  const ref = await pushImage(layout, registry.host, 'faults/cut');
  const proxy = await startCutProxy(registry.host, 700 * 1024, 1);
  t.after(() => proxy.stop());
  const root = path.join(scratch.dir, 'cut');
  const unpackedFromFile: string[] = [];
  const handle = await pullImage(ref.replace(registry.host, proxy.host), {
    paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true, retry: FAST_RETRY,
    onProgress: (e) => { if (e.phase === 'unpacking' && e.layer) unpackedFromFile.push(e.layer); },
  });
  assert.equal(proxy.cutsDone, 1);
  const resumed = proxy.requests.filter((r) => /\/blobs\/sha256:[0-9a-f]{64} range=bytes=\d+-$/.test(r));
  assert.equal(resumed.length, 1, proxy.requests.join('\n'));
  assert.ok(BIG.equals(fs.readFileSync(path.join(handle.layerDirs[1], 'big'))));
  // The other layers were unpacked while they downloaded; only the resumed one from its file afterwards.
  assert.deepEqual(unpackedFromFile, [/\/blobs\/(sha256:[0-9a-f]{64})/.exec(resumed[0]!)![1]]);
  assert.deepEqual(fs.readdirSync(path.join(root, 'layers', 'tmp')), [], 'no temp layer left by the cut stream');
});

test('keep-alive: the ping\'s connection serves the manifest and then a blob; the config and the layer are requested at once', async (t) => {
  const one = await buildImageLayout({ files: { '/one': 'one' } });
  const ref = await pushImage(one, registry.host, 'faults/keepalive');
  const proxy = await startCutProxy(registry.host, Number.MAX_SAFE_INTEGER, 0);
  t.after(() => proxy.stop());
  const root = path.join(scratch.dir, 'keepalive');
  await pullImage(ref.replace(registry.host, proxy.host), { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true });
  assert.deepEqual(proxy.requests.map((r) => r.replace(/sha256:[0-9a-f]{64}/, 'D')), ['GET /v2/', 'GET /v2/faults/keepalive/manifests/latest', 'GET /v2/faults/keepalive/blobs/D', 'GET /v2/faults/keepalive/blobs/D']);
  // 1 for the ping, the manifest and one of the blobs, 1 for the other blob (both are requested as
  // soon as the manifest is read); and an HTTPS try only if the plain ping took longer than its grace
  // (insecure: both schemes are asked, registry-client.ts).
  assert.equal(proxy.connections - proxy.tlsConnections, 2, proxy.requests.join('\n'));
});

test('connection cut every time: clear error, store unchanged, and a later pull resumes the kept part', async (t) => {
  const ref = await pushImage(layout, registry.host, 'faults/cut-always');
  const root = await storeWithOneImage('cut-always');
  const before = await snapshot(root);
  const proxy = await startCutProxy(registry.host, 100 * 1024, 1000);
  t.after(() => proxy.stop());
  const viaProxy = ref.replace(registry.host, proxy.host);
  await assert.rejects(pullImage(viaProxy, { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.blob.download');
    assert.ok(e.message.startsWith(`${viaProxy}: downloading blob sha256:`), e.message);
    assert.match(e.message, /failed after 3 attempt\(s\)/);
    return true;
  });
  assert.deepEqual(await snapshot(root), before);
  const partial = storeFiles(root).filter((f) => f.includes('partial/'));
  assert.equal(partial.length, 1, 'the interrupted download is kept for a resume');
  const watcher = await startCutProxy(registry.host, Number.MAX_SAFE_INTEGER, 0);
  t.after(() => watcher.stop());
  const handle = await pullImage(ref.replace(registry.host, watcher.host), { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true });
  assert.ok(watcher.requests.some((r) => /range=bytes=\d+-$/.test(r)), watcher.requests.join('\n'));
  assert.ok(BIG.equals(fs.readFileSync(path.join(handle.layerDirs[1], 'big'))));
});

// A layer is streamed into the store; the config is read into memory (and stored beside the layers,
// with the manifest: those writes settle, and the failed pull takes them back).
for (const which of ['layer', 'config'] as const) {
  test(`a corrupted ${which} blob in the registry: refused, named, store unchanged`, async () => {
    const corrupt = await buildImageLayout({ files: { '/c': `corrupt ${which}` }, layers: [{ '/data': { content: pseudoRandom(64 * 1024, which) } }] });
    const ref = await pushImage(corrupt, registry.host, `faults/corrupt-${which}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(corrupt.layout, 'blobs/sha256', JSON.parse(fs.readFileSync(path.join(corrupt.layout, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
    const victim = (which === 'layer' ? manifest.layers[1].digest : manifest.config.digest) as string;
    const file = registryBlobPath(registry, victim);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x01;
    fs.writeFileSync(file, bytes);
    const root = await storeWithOneImage(`corrupt-${which}`);
    const before = await snapshot(root);
    await assert.rejects(pullImage(ref, { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'image.blob.corrupt');
      assert.ok(e.message.startsWith(`${ref}: blob ${victim}`), e.message);
      assert.match(e.message, /does not match its digest/);
      return true;
    });
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(storeFiles(root).filter((f) => f.includes(victim.slice(7))), [], 'no bytes of the bad blob kept');
  });
}

test('a manifest naming a missing blob: clear error naming image and digest, store unchanged', async () => {
  const missing = await buildImageLayout({ files: { '/m': 'missing blob' }, layers: [{ '/gone': 'gone' }] });
  const ref = await pushImage(missing, registry.host, 'faults/missing');
  const manifest = JSON.parse(fs.readFileSync(path.join(missing.layout, 'blobs/sha256', JSON.parse(fs.readFileSync(path.join(missing.layout, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
  const victim = manifest.layers[1].digest as string;
  fs.rmSync(path.dirname(registryBlobPath(registry, victim)), { recursive: true });
  const root = await storeWithOneImage('missing');
  const before = await snapshot(root);
  await assert.rejects(pullImage(ref, { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true, retry: FAST_RETRY }), (e: Error) => {
    assert.ok(e.message.startsWith(`${ref}: blob ${victim}`), e.message);
    assert.match(e.message, /not found in 127\.0\.0\.1:\d+ \(HTTP 404\)|HTTP 5\d\d/);
    return true;
  });
  assert.deepEqual(await snapshot(root), before);
});

test('an unknown name, and a registry that is down: clear errors, store unchanged', async () => {
  const root = await storeWithOneImage('names');
  const before = await snapshot(root);
  const paths = { root, runroot: `${root}-run`, rootless: false };
  const unknown = `${registry.host}/faults/does-not-exist:1.0`;
  await assert.rejects(pullImage(unknown, { paths, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.registry.not-found');
    assert.match(e.message, new RegExp(`^${unknown.replace(/[.]/g, '\\.')}: manifest 1\\.0: not found in 127\\.0\\.0\\.1:\\d+ \\(HTTP 404\\): (NAME|MANIFEST)_UNKNOWN`));
    return true;
  });
  const down = await startRegistry();
  await down.stop();
  const gone = `${down.host}/faults/x:latest`;
  await assert.rejects(pullImage(gone, { paths, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.registry.unreachable');
    assert.match(e.message, new RegExp(`^${gone.replace(/[.]/g, '\\.')}: cannot reach registry ${down.host.replace(/[.]/g, '\\.')} \\(pinging /v2/\\): .*ECONNREFUSED`));
    return true;
  });
  assert.deepEqual(await snapshot(root), before);
});

/** Pushes an image made of these layer tars; `diffIds` overrides what the config claims. */
async function pushTars(name: string, tars: Buffer[], diffIds?: string[]): Promise<string> {
  const built = imageBlobs(tars, 'gzip', name);
  if (diffIds) {
    built.blobs.delete(built.configDigest);
    built.blobs.delete(built.manifestDigest);
    const config = Buffer.from(JSON.stringify({ ...built.config, rootfs: { type: 'layers', diff_ids: diffIds } }));
    built.configDigest = sha256(config);
    built.blobs.set(built.configDigest, config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: built.configDigest, size: config.length }, layers: built.layers,
    }));
    built.manifestDigest = sha256(manifest);
    built.blobs.set(built.manifestDigest, manifest);
  }
  const dir = path.join(scratch.dir, `layout-${name.replace(/\W/g, '-')}`);
  writeOciLayout(dir, built);
  return pushImage({ layout: dir, tag: 'latest' }, registry.host, name);
}

test('streaming unpack: a layer refused mid-download (unsafe entry, wrong diff ID) commits neither blob nor layer', async () => {
  const root = await storeWithOneImage('stream-refused');
  const before = await snapshot(root);
  const paths = { root, runroot: `${root}-run`, rootless: false };
  const good = makeTar([{ name: 'ok/', type: 'dir' }, { name: 'ok/file', content: 'fine' }]);
  // 1.5 MiB of content first, so the refusal comes while later bytes are still on the way.
  const unsafe = makeTar([{ name: 'pad', content: pseudoRandom(1536 * 1024, 'pad') }, { name: '../escaped', content: 'out' }]);
  const escapeRef = await pushTars('faults/stream-unsafe', [good, unsafe]);
  await assert.rejects(pullImage(escapeRef, { paths, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'layer-unsafe-entry');
    assert.ok(e.message.startsWith(`${escapeRef}: layer sha256:`), e.message);
    assert.match(e.message, /refusing entry "\.\.\/escaped"/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(root, 'layers', 'escaped')), false);
  assert.equal(fs.existsSync(path.join(root, 'layers', 'tmp', 'escaped')), false);

  const big = makeTar([{ name: 'data', content: pseudoRandom(1536 * 1024, 'diffid') }]);
  const wrongRef = await pushTars('faults/stream-diffid', [good, big], [sha256(good), sha256(Buffer.from('not this layer'))]);
  await assert.rejects(pullImage(wrongRef, { paths, quiet: true, retry: FAST_RETRY }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'diff-id-mismatch');
    assert.ok(e.message.startsWith(`${wrongRef}: layer sha256:`), e.message);
    assert.match(e.message, /does not match the config's diff ID/);
    return true;
  });
  assert.deepEqual(await snapshot(root), before);
  assert.deepEqual(storeFiles(root).filter((f) => f.includes('partial/') || f.startsWith('layers/tmp/')), [], 'no partial download or temp layer kept');
});

/** An HTTP proxy that answers the first blob requests with a status (429/503) and Retry-After, then forwards. */
async function startFlakyProxy(target: string, failures: { status: number; retryAfter?: string }[]): Promise<{ host: string; log: string[]; stop(): Promise<void> }> {
  const [hostname, port] = target.split(':');
  const log: string[] = [];
  // The failures go to one blob, the first one asked for (blobs may be requested at once), and the
  // log follows that blob only: its attempts, in order.
  let failing: string | undefined;
  const server = http.createServer((req, res) => {
    const isBlob = req.url?.includes('/blobs/') ?? false;
    if (isBlob) failing ??= req.url;
    if (isBlob && req.url === failing && failures.length > 0) {
      const f = failures.shift()!;
      log.push(`${Date.now()} ${f.status} ${req.url}`);
      res.writeHead(f.status, f.retryAfter ? { 'retry-after': f.retryAfter } : {}).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    if (isBlob && req.url === failing) log.push(`${Date.now()} pass ${req.url}`);
    const upstream = http.request({ hostname, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, log, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('429 and 503 from the registry: retried, honouring Retry-After', async (t) => {
  const small = await buildImageLayout({ files: { '/retry': 'after' } });
  const ref = await pushImage(small, registry.host, 'faults/retry');
  const proxy = await startFlakyProxy(registry.host, [{ status: 429, retryAfter: '1' }, { status: 503 }]);
  t.after(() => proxy.stop());
  const root = path.join(scratch.dir, 'retry');
  const started = Date.now();
  const handle = await pullImage(ref.replace(registry.host, proxy.host), { paths: { root, runroot: `${root}-run`, rootless: false }, quiet: true, retry: FAST_RETRY });
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[0], 'retry'), 'utf8'), 'after');
  const [first, second, third] = proxy.log.map((l) => Number(l.split(' ')[0]));
  assert.match(proxy.log.join('\n'), /429 .*\n.*503 .*\n.*pass /);
  assert.ok(second - first >= 950, `waited ${second - first} ms after "Retry-After: 1"`);
  assert.ok(third - second < 900, 'without Retry-After: the short backoff');
  assert.ok(Date.now() - started >= 1000);
});
