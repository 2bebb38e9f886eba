/**
 * Pulling from a real docker-registry on 127.0.0.1: the formats and shapes images come in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureImage, lookupLocalImage, ImageStore } from '../../../src/image/index.js';
import { buildImageLayout, buildMultiPlatformLayout, pushImage } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { makeScratch, useEnv, type Scratch } from './scratch.js';

let registry: TestRegistry;
let scratch: Scratch;
let restoreEnv: () => void;

before(async () => {
  registry = await startRegistry();
  scratch = makeScratch([registry.host]);
  restoreEnv = useEnv(scratch.env);
});
after(async () => {
  restoreEnv?.();
  await registry?.stop();
  scratch?.cleanup();
});

function freshPaths(name: string): { root: string; runroot: string; rootless: boolean } {
  return { root: path.join(scratch.dir, name, 'root'), runroot: path.join(scratch.dir, name, 'run'), rootless: false };
}

test('single-platform OCI image: config, layers unpacked bottom to top, recorded under its name', async () => {
  const layout = await buildImageLayout({
    busybox: true, files: { '/etc/app.conf': { content: 'x=1\n', mode: 0o640, uid: 1000, gid: 1000 } },
    layers: [{ '/srv/one': '1' }, { '/srv/two': '2', '/srv/link': { symlink: 'two' } }],
    cmd: ['sh', '-c', 'echo hi'], env: ['A=1'], workdir: '/srv', user: 'tester', labels: { l: 'v' }, exposedPorts: ['8080/tcp'],
  }, { tag: 'v1' });
  const ref = await pushImage(layout, registry.host, 'it/single');
  const paths = freshPaths('single');
  const events: string[] = [];
  const handle = await ensureImage(ref, { paths, policy: 'missing', onProgress: (e) => events.push(e.phase) });
  assert.deepEqual(handle.names, [ref]);
  assert.match(handle.id, /^[0-9a-f]{64}$/);
  assert.match(handle.digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(handle.config.config?.Cmd, ['sh', '-c', 'echo hi']);
  assert.equal(handle.config.config?.User, 'tester');
  assert.equal(handle.layerDirs.length, 3);
  assert.equal(fs.readlinkSync(path.join(handle.layerDirs[0], 'bin/sh')), 'busybox');
  const conf = fs.statSync(path.join(handle.layerDirs[0], 'etc/app.conf'));
  assert.equal(conf.mode & 0o777, 0o640);
  assert.equal(conf.uid, 1000);
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[1], 'srv/one'), 'utf8'), '1');
  assert.equal(fs.readlinkSync(path.join(handle.layerDirs[2], 'srv/link')), 'two');
  assert.ok(events.includes('layer') && events.includes('done'));

  // policy missing: found locally (by full name, short suffix, ID), nothing fetched.
  await registry.stop().catch(() => {});
  const again = await ensureImage(ref, { paths, policy: 'missing', quiet: true });
  assert.equal(again.id, handle.id);
  assert.equal((await lookupLocalImage(paths, 'it/single:v1'))?.id, handle.id);
  assert.equal((await lookupLocalImage(paths, handle.id.slice(0, 12)))?.id, handle.id);
  assert.equal(await lookupLocalImage(paths, 'it/single:v2'), undefined);
  await assert.rejects(ensureImage(`${registry.host}/it/other:1`, { paths, policy: 'never' }), /image not known locally and the pull policy is "never"/);
  registry = await startRegistry({ port: Number(registry.host.split(':')[1]) });
});

test('multi-platform index: this machine\'s platform by default, --platform/--arch to choose another', async () => {
  const layout = await buildMultiPlatformLayout([
    { files: { '/arch': 'amd64' }, architecture: 'amd64' },
    { files: { '/arch': 'arm64' }, architecture: 'arm64', variant: 'v8' },
    { files: { '/arch': 'armv7' }, architecture: 'arm', variant: 'v7' },
  ]);
  const ref = await pushImage(layout, registry.host, 'it/multi');
  const host = await ensureImage(ref, { paths: freshPaths('multi-host'), policy: 'always', quiet: true });
  const expected = process.arch === 'arm64' ? 'arm64' : 'amd64';
  assert.equal(fs.readFileSync(path.join(host.layerDirs[0], 'arch'), 'utf8'), expected);
  const arm = await ensureImage(ref, { paths: freshPaths('multi-arm'), policy: 'always', quiet: true, platform: 'linux/arm/v7' });
  assert.equal(fs.readFileSync(path.join(arm.layerDirs[0], 'arch'), 'utf8'), 'armv7');
  assert.equal(arm.config.architecture, 'arm');
  const a64 = await ensureImage(ref, { paths: freshPaths('multi-arm64'), policy: 'always', quiet: true, arch: 'arm64' });
  assert.equal(fs.readFileSync(path.join(a64.layerDirs[0], 'arch'), 'utf8'), 'arm64');
  await assert.rejects(ensureImage(ref, { paths: freshPaths('multi-none'), policy: 'always', quiet: true, platform: 'linux/s390x' }),
    /it\/multi:latest: no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/);
});

test('Docker schema 2 manifest and zstd layers', async () => {
  const layout = await buildImageLayout({ files: { '/hello': 'docker v2s2' }, layers: [{ '/more': 'm' }] });
  const v2s2 = await pushImage(layout, registry.host, 'it/docker', { format: 'v2s2' });
  const manifest = await (await fetch(`http://${registry.host}/v2/it/docker/manifests/latest`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { mediaType: string };
  assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const d = await ensureImage(v2s2, { paths: freshPaths('docker'), policy: 'always', quiet: true });
  assert.equal(fs.readFileSync(path.join(d.layerDirs[0], 'hello'), 'utf8'), 'docker v2s2');

  // New blobs (skopeo would reuse the gzip ones already in the registry instead of recompressing).
  const zlayout = await buildImageLayout({ files: { '/hello': 'zstd' }, layers: [{ '/more': 'zstd more' }] });
  const zstd = await pushImage(zlayout, registry.host, 'it/zstd', { compress: 'zstd' });
  const zm = await (await fetch(`http://${registry.host}/v2/it/zstd/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { mediaType: string }[] };
  assert.ok(zm.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+zstd'), JSON.stringify(zm.layers));
  const z = await ensureImage(zstd, { paths: freshPaths('zstd'), policy: 'always', quiet: true });
  assert.equal(fs.readFileSync(path.join(z.layerDirs[0], 'hello'), 'utf8'), 'zstd');
  assert.equal(fs.readFileSync(path.join(z.layerDirs[1], 'more'), 'utf8'), 'zstd more');
});

test('21 layers, pulled by digest; a second pull of the same image downloads nothing', async () => {
  const layers = Array.from({ length: 20 }, (_, i) => ({ [`/layer/${i}`]: `content ${i}\n`.repeat(100) }));
  const layout = await buildImageLayout({ files: { '/base': 'b' }, layers });
  const ref = await pushImage(layout, registry.host, 'it/many');
  const paths = freshPaths('many');
  const first = await ensureImage(ref, { paths, policy: 'always', quiet: true });
  assert.equal(first.layerDirs.length, 21);
  for (let i = 0; i < 20; i++) assert.equal(fs.readFileSync(path.join(first.layerDirs[i + 1], `layer/${i}`), 'utf8'), `content ${i}\n`.repeat(100));
  const byDigest = `${registry.host}/it/many@${first.digest}`;
  const skipped: string[] = [];
  const second = await ensureImage(byDigest, { paths, policy: 'always', onProgress: (e) => { if (e.phase === 'layer') skipped.push(e.message); } });
  assert.equal(second.id, first.id);
  assert.equal(skipped.filter((m) => m === 'skipped').length, 21);
  assert.ok(!skipped.includes('downloading'));
  const store = await ImageStore.open(paths);
  const image = await store.findImage(byDigest);
  assert.equal(image?.id, first.id);
});
