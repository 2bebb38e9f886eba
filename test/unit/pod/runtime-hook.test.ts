/** The runtime side of pods (src/runtime, additive): members join the pod's namespace files by path. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildOciConfig } from '../../../src/runtime/index.js';
import { input, record } from '../runtime/fixtures.js';

test('joinNamespaces puts the pod\'s IPC/UTS paths in config.json; other namespaces stay new', () => {
  const { spec } = buildOciConfig(input(record({ joinNamespaces: { ipc: '/run/berth/pods/p/ns/ipc', uts: '/run/berth/pods/p/ns/uts' } }), { network: { kind: 'path', path: '/run/berth/netns/netns-i' } }));
  assert.deepEqual(spec.linux.namespaces, [
    { type: 'pid' },
    { type: 'ipc', path: '/run/berth/pods/p/ns/ipc' },
    { type: 'uts', path: '/run/berth/pods/p/ns/uts' },
    { type: 'mount' },
    { type: 'cgroup' },
    { type: 'network', path: '/run/berth/netns/netns-i' },
  ]);
  const plain = buildOciConfig(input(record())).spec;
  assert.deepEqual(plain.linux.namespaces.slice(0, 3), [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }]);
});
