/**
 * Self-test of the shared fixtures: a real docker-registry, an OCI layout written by the test
 * support code, pushed with skopeo and unpacked by umoci (an independent reader).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry } from '../../support/registry.js';

test('fixture image: built, pushed, served and readable by umoci', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  const layout = await buildImageLayout({
    busybox: true,
    files: { '/srv/hello.txt': 'hello\n', '/srv/secret': { content: 'x', mode: 0o600, uid: 1000, gid: 1000 } },
    layers: [{ '/srv/top.txt': 'top\n' }],
    cmd: ['echo', 'hi'], env: ['A=1'], workdir: '/srv', labels: { a: 'b' }, exposedPorts: ['80/tcp'],
  }, { tag: 'v1' });
  const again = await buildImageLayout({
    busybox: true,
    files: { '/srv/hello.txt': 'hello\n', '/srv/secret': { content: 'x', mode: 0o600, uid: 1000, gid: 1000 } },
    layers: [{ '/srv/top.txt': 'top\n' }],
    cmd: ['echo', 'hi'], env: ['A=1'], workdir: '/srv', labels: { a: 'b' }, exposedPorts: ['80/tcp'],
  }, { tag: 'v1' });
  assert.equal(again.layout, layout.layout, 'cached by spec');
  const ref = await pushImage(layout, registry.host, 'test/busybox');
  assert.equal(ref, `${registry.host}/test/busybox:v1`);
  const response = await fetch(`http://${registry.host}/v2/test/busybox/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(response.status, 200);
  const manifest = await response.json() as { layers: unknown[] };
  assert.equal(manifest.layers.length, 2);

  const scratch = fs.mkdtempSync(path.join('/var/tmp', 'berth-support-test-'));
  t.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${scratch}/oci:v1`]);
  execFileSync('umoci', ['unpack', '--image', `${scratch}/oci:v1`, `${scratch}/bundle`]);
  const rootfs = path.join(scratch, 'bundle', 'rootfs');
  assert.equal(fs.readlinkSync(path.join(rootfs, 'bin/sh')), 'busybox');
  assert.equal(fs.readFileSync(path.join(rootfs, 'srv/top.txt'), 'utf8'), 'top\n');
  const secret = fs.statSync(path.join(rootfs, 'srv/secret'));
  assert.equal(secret.mode & 0o777, 0o600);
  assert.equal(secret.uid, 1000);
  assert.match(fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8'), /^tester:x:1000:1000:/m);
  assert.equal(fs.statSync(path.join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
  const config = JSON.parse(fs.readFileSync(path.join(scratch, 'bundle', 'config.json'), 'utf8'));
  assert.deepEqual(config.process.args, ['echo', 'hi']);
  assert.equal(config.process.cwd, '/srv');
  const out = execFileSync(path.join(rootfs, 'bin/busybox'), ['echo', 'runs']).toString();
  assert.equal(out, 'runs\n');
});

test('registry with htpasswd: 401 anonymous, 200 with Basic credentials; stop removes its folder', async () => {
  const registry = await startRegistry({ htpasswd: { user: 'alice', password: 's3cret' } });
  try {
    assert.equal((await fetch(`http://${registry.host}/v2/`)).status, 401);
    const basic = Buffer.from('alice:s3cret').toString('base64');
    assert.equal((await fetch(`http://${registry.host}/v2/`, { headers: { authorization: `Basic ${basic}` } })).status, 200);
    const layout = await buildImageLayout({ files: { '/a': 'a' } });
    await pushImage(layout, registry.host, 'auth/a', { creds: { user: 'alice', password: 's3cret' } });
    await assert.rejects(pushImage(layout, registry.host, 'auth/b'), /skopeo copy/);
  } finally {
    await registry.stop();
  }
  assert.equal(fs.existsSync(registry.dataDir), false);
  await assert.rejects(fetch(`http://${registry.host}/v2/`));
});
