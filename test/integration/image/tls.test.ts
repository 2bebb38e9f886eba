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
import { test, type TestContext } from 'node:test';
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

/**
 * A registry behind one port that takes a TLS hello (first byte 0x16) and never answers it, and
 * passes anything else on, the first plain request's answer `delayMs` late. Counts the TLS hellos.
 */
async function plainFront(t: TestContext, target: string, delayMs: number): Promise<{ host: string; tlsHellos: () => number }> {
  const [host, port] = target.split(':');
  const sockets = new Set<net.Socket>();
  let tlsHellos = 0;
  let delayed = false;
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
      client.pipe(upstream);
      const wait = delayed ? 0 : delayMs;
      delayed = true;
      setTimeout(() => upstream.pipe(client), wait);
      upstream.on('error', () => client.destroy());
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  return { host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, tlsHellos: () => tlsHellos };
}

test('an insecure plain-HTTP registry: no TLS when HTTP answers at once, and not held up by a TLS attempt that gets no answer', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  await pushImage(await buildImageLayout({ files: { '/plain': 'yes' } }), registry.host, 'plain/app');
  for (const delayMs of [0, 300]) {
    const front = await plainFront(t, registry.host, delayMs);
    const scratch = makeScratch([front.host]);
    t.after(() => scratch.cleanup());
    const restore = useEnv(scratch.env);
    const started = Date.now();
    try {
      const image = await pullImage(`${front.host}/plain/app:latest`, { paths: scratch.paths, quiet: true });
      assert.equal(fs.readFileSync(path.join(image.layerDirs[0], 'plain'), 'utf8'), 'yes');
    } finally {
      restore();
    }
    const took = Date.now() - started;
    if (delayMs === 0) assert.equal(front.tlsHellos(), 0, 'HTTPS was tried although HTTP answered at once');
    else {
      assert.ok(front.tlsHellos() >= 1, 'HTTP answered late, and HTTPS was not tried meanwhile');
      // Waiting for the HTTPS attempt would take its idle timeout (30 s) first.
      assert.ok(took < 10_000, `the pull took ${took} ms`);
    }
  }
});
