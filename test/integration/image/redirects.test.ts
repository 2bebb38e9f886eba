/**
 * Blob redirects, as registries backed by object storage answer: a 307 to another origin is
 * followed without the registry's Authorization header (it must not leak to the storage host);
 * a redirect within the registry's origin keeps it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pullImage } from '../../../src/image/pull.js';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry } from '../../support/registry.js';
import { startRedirectProxy } from './redirect-proxy.js';
import { makeScratch, useEnv } from './scratch.js';

const USER = 'redirect-user';
const PASSWORD = 'redirect-secret';

test('blob GETs answered with 307: followed; the Authorization header goes along only within the same origin', async (t) => {
  const registry = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  t.after(() => registry.stop());
  const layout = await buildImageLayout({ files: { '/r': 'redirected' }, layers: [{ '/r2': 'second' }] });
  const ref = await pushImage(layout, registry.host, 'redirect/img', { creds: { user: USER, password: PASSWORD } });
  const index = JSON.parse(fs.readFileSync(path.join(layout.layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(layout.layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const layerDigests = (manifest.layers as { digest: string }[]).map((l) => l.digest);

  const proxy = await startRedirectProxy(registry, { sameOriginDigests: new Set([manifest.config.digest as string]) });
  t.after(() => proxy.stop());
  const scratch = makeScratch([proxy.host, proxy.storageHost]);
  t.after(() => scratch.cleanup());
  t.after(useEnv(scratch.env));

  const handle = await pullImage(ref.replace(registry.host, proxy.host), { paths: scratch.paths, quiet: true, credentials: { username: USER, password: PASSWORD } });
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[0], 'r'), 'utf8'), 'redirected');
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[1], 'r2'), 'utf8'), 'second');

  // Layers came from the other origin, and without the registry's credentials.
  assert.deepEqual(proxy.storage.map((r) => r.path).sort(), layerDigests.map((d) => `/storage/${d.slice(7)}?sig=other`).sort());
  for (const r of proxy.storage) assert.equal(r.authorization, undefined, `Authorization sent to ${proxy.storageHost}${r.path}`);
  // The config's redirect stayed on the registry's origin: credentials kept (docker-registry checked them).
  assert.equal(proxy.sameOrigin.length, 1);
  assert.equal(proxy.sameOrigin[0]!.authorization, `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
  assert.equal(proxy.sameOrigin[0]!.status, 200);
});
