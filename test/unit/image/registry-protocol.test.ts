import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from '../../../src/image/challenge.js';
import { choosePlatform, parseManifest, parsePlatform } from '../../../src/image/manifest.js';
import { MediaType, type ImageIndex } from '../../../src/image/oci.js';
import { parseRetryAfter } from '../../../src/image/retry.js';
import { sha256Digest } from '../../../src/image/registry-client.js';

test('WWW-Authenticate: Bearer with quoted params, Basic, several challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry \\"Realm\\""'), [{ scheme: 'basic', params: { realm: 'Registry "Realm"' } }]);
  assert.deepEqual(parseChallenges(['Basic realm=x', 'Bearer realm="r"']).map((c) => c.scheme), ['basic', 'bearer']);
});

test('Retry-After: seconds or HTTP date, capped', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now()) !== undefined, true);
  assert.equal(parseRetryAfter('999999'), 60000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

const d = (c: string): string => `sha256:${c.repeat(64)}`;
function fetched(doc: unknown, mediaType = ''): { mediaType: string; digest: string; body: Buffer } {
  const body = Buffer.from(JSON.stringify(doc));
  return { mediaType, digest: sha256Digest(body), body };
}

test('manifests: OCI and Docker kinds accepted, schema 1 and unknown types refused clearly', () => {
  const image = { schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: d('a'), size: 2 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: d('b'), size: 3 }] };
  assert.equal(parseManifest(fetched(image, MediaType.ociManifest), 'x').kind, 'image');
  assert.equal(parseManifest(fetched({ ...image, mediaType: MediaType.dockerManifest, config: { ...image.config, mediaType: MediaType.dockerConfig } }), 'x').kind, 'image');
  assert.equal(parseManifest(fetched({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] }), 'x').kind, 'index');
  assert.throws(() => parseManifest(fetched({ schemaVersion: 1, fsLayers: [] }, MediaType.dockerSchema1Signed), 'img:1'), /img:1: Docker schema 1 manifests are not supported/);
  assert.throws(() => parseManifest(fetched({ schemaVersion: 2 }, 'application/vnd.example.thing+json'), 'img'), /unsupported manifest media type "application\/vnd\.example\.thing\+json"/);
  assert.throws(() => parseManifest(fetched({ ...image, config: { ...image.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }, MediaType.ociManifest), 'img'), /not a container image/);
  assert.throws(() => parseManifest(fetched({ ...image, layers: [{ mediaType: 'application/x-foo', digest: d('c'), size: 1 }] }, MediaType.ociManifest), 'img'), /unsupported media type application\/x-foo/);
});

test('platform choice: exact os/arch/variant, arm64 v8 default, clear error listing what exists', () => {
  const index: ImageIndex = { schemaVersion: 2, manifests: [
    { mediaType: MediaType.ociManifest, digest: d('1'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: MediaType.ociManifest, digest: d('2'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: MediaType.ociManifest, digest: d('3'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: MediaType.ociManifest, digest: d('4'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ] };
  assert.equal(choosePlatform(index, parsePlatform('linux/amd64'), 'x').digest, d('1'));
  assert.equal(choosePlatform(index, parsePlatform('linux/arm/v7'), 'x').digest, d('3'));
  assert.equal(choosePlatform(index, parsePlatform('arm64'), 'x').digest, d('4'));
  assert.equal(choosePlatform(index, parsePlatform('linux/aarch64'), 'x').digest, d('4'));
  assert.throws(() => choosePlatform(index, parsePlatform('linux/s390x'), 'img'), /img: no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64\/v8\)/);
  assert.throws(() => parsePlatform('linux//x'), /invalid platform/);
});
