/**
 * TLS: verification is on by default (a self-signed registry is refused, naming the problem);
 * `tlsVerify: false` or `insecure = true` in registries.conf accept it; HTTPS is tried before HTTP.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pullImage } from '../../../src/image/pull.js';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry } from '../../support/registry.js';
import { makeScratch, useEnv } from './scratch.js';

test('self-signed HTTPS registry: refused by default, accepted with tlsVerify false or insecure', async (t) => {
  fs.mkdirSync('/var/tmp/berth-it-image', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-it-image/tls-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const certificate = path.join(dir, 'reg.crt');
  const key = path.join(dir, 'reg.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const registry = await startRegistry({ tls: { certificate, key } });
  t.after(() => registry.stop());
  const ref = await pushImage(await buildImageLayout({ files: { '/tls': 'yes' } }), registry.host, 'tls/app');

  const strict = makeScratch([]);
  t.after(() => strict.cleanup());
  const restore = useEnv(strict.env);
  t.after(restore);
  await assert.rejects(pullImage(ref, { paths: strict.paths, quiet: true, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.registry.unreachable');
    assert.match(e.message, /tls\/app:latest: cannot reach registry 127\.0\.0\.1:\d+ \(pinging \/v2\/\): .*(self-signed|SELF_SIGNED)/i);
    return true;
  });
  const loose = await pullImage(ref, { paths: strict.paths, quiet: true, tlsVerify: false });
  assert.equal(fs.readFileSync(path.join(loose.layerDirs[0], 'tls'), 'utf8'), 'yes');

  const insecure = makeScratch([registry.host]);
  t.after(() => insecure.cleanup());
  process.env.CONTAINERS_REGISTRIES_CONF = insecure.env.CONTAINERS_REGISTRIES_CONF;
  const viaConf = await pullImage(ref, { paths: insecure.paths, quiet: true });
  assert.equal(viaConf.id, loose.id);
  // An explicit tlsVerify: true wins over `insecure`.
  await assert.rejects(pullImage(ref, { paths: insecure.paths, quiet: true, tlsVerify: true, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } }), /self-signed|SELF_SIGNED/i);
});
