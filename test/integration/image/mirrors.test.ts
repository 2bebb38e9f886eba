/**
 * registries.conf [[registry]] entries against real registries: mirrors tried in order (a mirror
 * without the image falls through), location rewriting by prefix, blocked registries.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pullImage } from '../../../src/image/pull.js';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { makeScratch, useEnv, type Scratch } from './scratch.js';

let primary: TestRegistry;
let emptyMirror: TestRegistry;
let mirror: TestRegistry;
let scratch: Scratch;
let restore: () => void;

before(async () => {
  [primary, emptyMirror, mirror] = await Promise.all([startRegistry(), startRegistry(), startRegistry()]);
  await pushImage(await buildImageLayout({ files: { '/from': 'primary' } }), primary.host, 'team/app');
  await pushImage(await buildImageLayout({ files: { '/from': 'mirror' } }), mirror.host, 'cache/team/app');
  scratch = makeScratch([primary.host, emptyMirror.host, mirror.host], { extraConf: `
[[registry]]
prefix = "mirrored.test"
location = "${primary.host}"
insecure = true
[[registry.mirror]]
location = "${emptyMirror.host}"
insecure = true
[[registry.mirror]]
location = "${mirror.host}/cache"
insecure = true

[[registry]]
prefix = "rewritten.test/apps"
location = "${primary.host}/team"
insecure = true

[[registry]]
location = "blocked.test"
blocked = true
` });
  restore = useEnv(scratch.env);
});
after(async () => {
  restore?.();
  await Promise.all([primary?.stop(), emptyMirror?.stop(), mirror?.stop()]);
  scratch?.cleanup();
});

function paths(name: string) {
  return { root: path.join(scratch.dir, name), runroot: path.join(scratch.dir, `${name}-run`), rootless: false };
}

test('mirrors in order: the first lacks the image, the second serves it; recorded under the asked name', async () => {
  const tried: string[] = [];
  const handle = await pullImage('mirrored.test/team/app', { paths: paths('m'), onProgress: (e) => { if (e.phase === 'resolving') tried.push(e.message); } });
  assert.deepEqual(tried, [`Trying to pull ${emptyMirror.host}/team/app:latest...`, `Trying to pull ${mirror.host}/cache/team/app:latest...`]);
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[0], 'from'), 'utf8'), 'mirror');
  assert.deepEqual(handle.names, ['mirrored.test/team/app:latest']);
});

test('when every mirror fails, the registry itself is used', async () => {
  await mirror.stop();
  const handle = await pullImage('mirrored.test/team/app', { paths: paths('p'), quiet: true, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[0], 'from'), 'utf8'), 'primary');
});

test('prefix rewriting, and a blocked registry refused naming the file', async () => {
  const handle = await pullImage('rewritten.test/apps/app', { paths: paths('r'), quiet: true });
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[0], 'from'), 'utf8'), 'primary');
  assert.deepEqual(handle.names, ['rewritten.test/apps/app:latest']);
  await assert.rejects(pullImage('blocked.test/x/y', { paths: paths('b'), quiet: true }),
    new RegExp(`registry blocked\\.test is blocked in ${scratch.env.CONTAINERS_REGISTRIES_CONF.replace(/[.]/g, '\\.')} \\(pulling blocked\\.test/x/y:latest\\)`));
  // The store is opened while the registry is asked; a pull that failed first still leaves nothing
  // going on: what it made of the store is all there when it returns, and nothing comes later.
  const list = (): string[] => fs.readdirSync(paths('b').root, { recursive: true }).map(String).sort();
  const atReturn = list();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(list(), atReturn);
});
