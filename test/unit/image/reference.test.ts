import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReference, isShortName, normalizeReference, parseReference } from '../../../src/image/reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('normalizes references as Podman does', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['library/nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx:1', 'docker.io/library/nginx:1'],
    ['quay.io/libpod/banner', 'quay.io/libpod/banner:latest'],
    ['host:5000/a/b:tag', 'host:5000/a/b:tag'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    [`nginx@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
    [`nginx:1.25@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
  ];
  for (const [input, expected] of cases) assert.equal(formatReference(normalizeReference(input)), expected, input);
});

test('keeps tag and digest in the parse, registry only when named', () => {
  assert.deepEqual(parseReference(`nginx:1.25@${DIGEST}`), { registry: undefined, repository: 'nginx', tag: '1.25', digest: DIGEST });
  assert.deepEqual(parseReference('host:5000/a/b'), { registry: 'host:5000', repository: 'a/b', tag: undefined, digest: undefined });
  assert.equal(parseReference('Foo/bar').registry, 'Foo', 'an upper-case first component is a host');
  assert.equal(isShortName('library/nginx'), true);
  assert.equal(isShortName('quay.io/x'), false);
  assert.equal(isShortName('localhost/x'), false);
});

test('rejects invalid names with a message naming the input', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Nginx', /must be lowercase/],
    ['nginx:', /bad tag/],
    ['nginx:-x', /bad tag/],
    ['nginx@sha256:abc', /bad digest|bad sha256/],
    [`nginx@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['a//b', /empty path component/],
    ['a/b_', /bad repository path component/],
    ['has space', /white space/],
    [`x/${'a'.repeat(300)}`, /longer than 255/],
    ['-bad.host/x', /bad registry host/],
  ];
  for (const [input, why] of bad) {
    assert.throws(() => parseReference(input), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'image.reference.invalid');
      assert.match(e.message, why, input);
      assert.ok(e.message.includes(`"${input}"`), e.message);
      return true;
    }, input);
  }
});
