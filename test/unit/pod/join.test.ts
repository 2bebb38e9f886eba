import test from 'node:test';
import assert from 'node:assert/strict';
import { joinPodOptions, podNsPath, type PodRecord } from '../../../src/pod/index.js';
import { BerthError } from '../../../src/errors/index.js';
import type { ContainerOptions } from '../../../src/runtime/index.js';

const paths = { root: '/r', runroot: '/run/b', rootless: false };
const pod: PodRecord = {
  id: 'a'.repeat(64), name: 'web', created: '2026-01-01T00:00:00Z', hostname: 'web', labels: {}, share: ['net', 'ipc', 'uts'],
  exitPolicy: 'stop', infraId: 'b'.repeat(64), publish: ['8080:80'], network: [], volumes: ['data:/data', '/srv/conf:/etc/app:ro'],
};
const options = (over: Partial<ContainerOptions> = {}): ContainerOptions => ({
  image: 'img', command: [], env: {}, labels: {}, annotations: {}, groupAdd: [], readOnly: false, readOnlyTmpfs: true, mounts: [],
  capAdd: [], capDrop: [], noNewPrivileges: false, labelDisable: false, ulimits: [], sysctls: {}, init: false, devices: [],
  network: [], publish: [], dns: [], dnsSearch: [], dnsOptions: [], addHosts: [], sdnotify: 'conmon', cgroups: 'enabled',
  logDriver: 'journald', rm: false, ...over,
});

test('a member joins the infra netns, the pod IPC/UTS files, gets the pod hostname, volumes and id', () => {
  const o = joinPodOptions(paths, pod, options(), { kind: 'ns', path: '/run/b/netns/netns-bbb' });
  assert.equal(o.pod, pod.id);
  assert.deepEqual(o.network, ['ns:/run/b/netns/netns-bbb']);
  assert.equal(o.hostname, 'web');
  assert.deepEqual(o.joinNamespaces, { ipc: podNsPath(paths, pod.id, 'ipc'), uts: podNsPath(paths, pod.id, 'uts') });
  assert.equal(podNsPath(paths, pod.id, 'ipc'), `/run/b/pods/${pod.id}/ns/ipc`);
  assert.deepEqual(o.mounts.map((m) => m.destination), ['/data', '/etc/app']);
});

test('a member\'s own mount at a pod volume\'s destination wins', () => {
  const o = joinPodOptions(paths, pod, options({ mounts: [{ kind: 'volume', name: 'mine', destination: '/data', options: [] }] }), { kind: 'ns', path: '/x' });
  assert.deepEqual(o.mounts.map((m) => (m.kind === 'volume' ? m.name : m.kind === 'bind' ? m.source : 'tmpfs')), ['/srv/conf', 'mine']);
});

test('host network pods; pods sharing only IPC keep the container\'s own network and hostname', () => {
  assert.deepEqual(joinPodOptions(paths, pod, options(), { kind: 'host' }).network, ['host']);
  const ipcOnly = { ...pod, share: ['ipc' as const] };
  const o = joinPodOptions(paths, ipcOnly, options({ network: ['none'], hostname: 'own', publish: ['1:1'] }), undefined);
  assert.deepEqual(o.network, ['none']);
  assert.equal(o.hostname, 'own');
  assert.deepEqual(o.joinNamespaces, { ipc: podNsPath(paths, pod.id, 'ipc') });
});

test('conflicts name the flag and the pod', () => {
  const refused = (over: Partial<ContainerOptions>, flag: string): void => {
    assert.throws(() => joinPodOptions(paths, pod, options(over), { kind: 'ns', path: '/x' }),
      (e: unknown) => e instanceof BerthError && e.message.startsWith(`${flag} cannot be used for a container in pod web`));
  };
  refused({ publish: ['8080:80'] }, '--publish');
  refused({ network: ['bridge'] }, '--network');
  refused({ hostname: 'h' }, '--hostname');
});
