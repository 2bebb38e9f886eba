import test from 'node:test';
import assert from 'node:assert/strict';
import { parseExitPolicy, parseShare, validatePodOptions, type PodOptions } from '../../../src/pod/index.js';
import { BerthError } from '../../../src/errors/index.js';

const base = (over: Partial<PodOptions> = {}): PodOptions => ({
  labels: {}, infra: true, share: ['net', 'ipc', 'uts'], exitPolicy: 'continue', publish: [], network: [], volumes: [],
  dns: [], dnsSearch: [], dnsOptions: [], addHosts: [], ...over,
});

const fails = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof BerthError && pattern.test(e.message));
};

test('--share: default net,ipc,uts; lists; +kind adds to the default; cgroup accepted; pid refused', () => {
  assert.deepEqual(parseShare([]), ['net', 'ipc', 'uts']);
  assert.deepEqual(parseShare(['net']), ['net']);
  assert.deepEqual(parseShare(['uts,ipc']), ['ipc', 'uts']);
  assert.deepEqual(parseShare(['net', 'ipc']), ['net', 'ipc']);
  assert.deepEqual(parseShare(['+cgroup']), ['net', 'ipc', 'uts']);
  assert.deepEqual(parseShare(['cgroup,ipc']), ['ipc']);
  assert.deepEqual(parseShare(['none']), []);
  fails(() => parseShare(['pid']), /--share "pid": "pid" cannot be shared/);
  fails(() => parseShare(['net,mnt']), /"mnt" cannot be shared/);
});

test('--exit-policy: continue or stop', () => {
  assert.equal(parseExitPolicy('stop'), 'stop');
  assert.equal(parseExitPolicy('continue'), 'continue');
  fails(() => parseExitPolicy('halt'), /--exit-policy "halt"/);
});

test('validation names the bad flag and value before anything is made', () => {
  validatePodOptions(base({ name: 'web', publish: ['8080:80'], network: ['bridge'], volumes: ['data:/data'] }));
  fails(() => validatePodOptions(base({ name: 'bad name' })), /pod name "bad name" is invalid/);
  fails(() => validatePodOptions(base({ publish: ['99999:80'] })), /99999/);
  fails(() => validatePodOptions(base({ volumes: ['data'] })), /--volume "data"/);
  fails(() => validatePodOptions(base({ network: ['container:x'] })), /cannot join another container's network/);
  fails(() => validatePodOptions(base({ share: ['ipc'], publish: ['8080:80'] })), /--publish "8080:80": ports are published at the pod/);
  fails(() => validatePodOptions(base({ infra: false, share: [], publish: ['8080:80'] })), /--publish cannot be used with --infra=false/);
  validatePodOptions(base({ infra: false, share: [], volumes: ['data:/data'] }));
});
