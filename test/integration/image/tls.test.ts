/**
 * TLS: verification is on by default (a self-signed registry is refused, naming the problem);
 * `tlsVerify: false` or `insecure = true` in registries.conf accept it. An insecure registry is
 * pinged over both schemes at once, and the first answer as a registry wins.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
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

test('an insecure plain-HTTP registry is not held up by a TLS attempt that gets no answer', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  await pushImage(await buildImageLayout({ files: { '/plain': 'yes' } }), registry.host, 'plain/app');
  // One port: a TLS hello (first byte 0x16) is taken and never answered, anything else goes to the registry.
  const [host, port] = registry.host.split(':');
  const sockets = new Set<net.Socket>();
  let tlsHellos = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('data', (first) => {
      if (first[0] === 0x16) {
        tlsHellos++;
        return;
      }
      const upstream = net.connect(Number(port), host);
      sockets.add(upstream);
      upstream.write(first);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  const front = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const scratch = makeScratch([front]);
  t.after(() => scratch.cleanup());
  t.after(useEnv(scratch.env));
  const started = Date.now();
  const image = await pullImage(`${front}/plain/app:latest`, { paths: scratch.paths, quiet: true });
  const took = Date.now() - started;
  assert.equal(fs.readFileSync(path.join(image.layerDirs[0], 'plain'), 'utf8'), 'yes');
  assert.ok(tlsHellos >= 1, 'the HTTPS attempt was made');
  // Waiting for the HTTPS attempt would take its idle timeout (30 s) first.
  assert.ok(took < 10_000, `the pull took ${took} ms`);
});
