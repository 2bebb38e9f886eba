import test from 'node:test';
import assert from 'node:assert/strict';
import { buildOciConfig, computeCapabilities, DEFAULT_CAPABILITIES, resolveArgs, INIT_PATH_IN_CONTAINER } from '../../../src/runtime/oci-config.js';
import { host, input, record } from './fixtures.js';

test('args: image Entrypoint + Cmd; command replaces Cmd; --entrypoint drops the image Cmd', () => {
  const cfg = { Entrypoint: ['/entry'], Cmd: ['default'] };
  assert.deepEqual(resolveArgs(record({}, cfg)), ['/entry', 'default']);
  assert.deepEqual(resolveArgs(record({ command: ['x', 'y'] }, cfg)), ['/entry', 'x', 'y']);
  assert.deepEqual(resolveArgs(record({ entrypoint: ['/other'] }, cfg)), ['/other']);
  assert.deepEqual(resolveArgs(record({ entrypoint: [], command: ['ls'] }, cfg)), ['ls']);
  assert.throws(() => resolveArgs(record({ entrypoint: [] }, {})), /no command or entrypoint/);
});

test('env: defaults, image env, HOSTNAME/HOME, then -e overrides in that order', () => {
  const { spec } = buildOciConfig(input(record({ env: { FOO: 'flag', BAR: '1' } })));
  assert.deepEqual(spec.process.env, ['PATH=/usr/bin:/bin', 'container=podman', 'FOO=flag', 'HOSTNAME=aaaaaaaaaaaa', 'HOME=/root', 'BAR=1']);
});

test('Podman defaults: 11 capabilities, masked and read-only paths, namespaces, standard mounts', () => {
  const { spec } = buildOciConfig(input(record()));
  assert.equal(DEFAULT_CAPABILITIES.length, 11);
  assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(spec.process.capabilities.effective, DEFAULT_CAPABILITIES);
  assert.ok(spec.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(spec.linux.readonlyPaths.includes('/proc/sys'));
  assert.deepEqual(spec.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network']);
  const dests = spec.mounts.map((m) => m.destination);
  for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/.containerenv']) assert.ok(dests.includes(d), d);
  assert.equal(spec.process.noNewPrivileges, false);
  assert.equal(spec.root.readonly, false);
  assert.deepEqual(spec.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
  assert.deepEqual(spec.linux.resources.pids, { limit: 2048 });
});

test('capabilities: add, drop, ALL; non-root keeps only the bounding set unless added', () => {
  assert.deepEqual(computeCapabilities(['net_admin'], ['CAP_CHOWN']), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN']);
  assert.deepEqual(computeCapabilities(['NET_RAW'], ['ALL']), ['CAP_NET_RAW']);
  assert.ok(computeCapabilities(['ALL'], []).includes('CAP_SYS_ADMIN'));
  assert.throws(() => computeCapabilities(['BOGUS'], []), /unknown capability BOGUS/);
  const { spec } = buildOciConfig(input(record({ capAdd: ['NET_RAW'] }), { user: { uid: 1000, gid: 1000, additionalGids: [], home: '/home/t' } }));
  assert.deepEqual(spec.process.capabilities.effective, ['CAP_NET_RAW']);
  assert.ok(spec.process.capabilities.bounding.includes('CAP_CHOWN'));
});

test('rlimits are capped at the engine\'s hard limits, with one warning for explicit ulimits', () => {
  const { spec, warnings } = buildOciConfig(input(record({ ulimits: [{ name: 'RLIMIT_NOFILE', soft: 50000, hard: 60000 }] })));
  assert.deepEqual(spec.process.rlimits.find((r) => r.type === 'RLIMIT_NOFILE'), { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /RLIMIT_NOFILE lowered .*20000/);
  const quiet = buildOciConfig(input(record()));
  assert.deepEqual(quiet.spec.process.rlimits.find((r) => r.type === 'RLIMIT_NOFILE'), { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 });
  assert.deepEqual(quiet.warnings, []);
});

test('device cgroup dropped when crun cannot load its eBPF filter; missing controllers warn', () => {
  const { spec, warnings } = buildOciConfig(input(record({ memory: 1 << 20, pidsLimit: 10 }), { host: host({ deviceCgroupUsable: false, controllers: [] }) }));
  assert.equal(spec.linux.resources.devices, undefined);
  assert.equal(spec.linux.resources.memory, undefined);
  assert.match(warnings.join('\n'), /--memory.*--pids-limit/);
  const ok = buildOciConfig(input(record({ memory: 1 << 20, pidsLimit: 10 })));
  assert.deepEqual(ok.spec.linux.resources.memory, { limit: 1 << 20 });
  assert.deepEqual(ok.spec.linux.resources.pids, { limit: 10 });
});

test('read-only with tmpfs on /run /tmp /var/tmp; --read-only-tmpfs=false leaves them out', () => {
  const { spec } = buildOciConfig(input(record({ readOnly: true })));
  assert.equal(spec.root.readonly, true);
  for (const d of ['/run', '/tmp', '/var/tmp']) assert.equal(spec.mounts.find((m) => m.destination === d)?.type, 'tmpfs');
  const none = buildOciConfig(input(record({ readOnly: true, readOnlyTmpfs: false }))).spec;
  assert.equal(none.mounts.find((m) => m.destination === '/tmp'), undefined);
});

test('binds, tmpfs and volumes; a user mount replaces the default at the same place', () => {
  const rec = record({ mounts: [
    { kind: 'bind', source: '/srv/data', destination: '/data', options: ['ro', 'Z'] },
    { kind: 'tmpfs', destination: '/scratch', options: ['size=1m'] },
    { kind: 'bind', source: '/srv/hosts', destination: '/etc/hosts', options: [] },
  ] });
  const { spec } = buildOciConfig(input(rec, { volumes: [{ source: '/vol/x', destination: '/x', options: ['nocopy'] }] }));
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/data'), { destination: '/data', type: 'bind', source: '/srv/data', options: ['ro', 'rbind', 'rprivate'] });
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/scratch')?.options, ['size=1m', 'rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup']);
  assert.deepEqual(spec.mounts.filter((m) => m.destination === '/etc/hosts').map((m) => m.source), ['/srv/hosts']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/x'), { destination: '/x', type: 'bind', source: '/vol/x', options: ['rbind', 'rprivate'] });
});

test('--init runs catatonit as PID 1; host network has no netns and binds /sys', () => {
  const { spec } = buildOciConfig(input(record({ init: true, command: ['sleep', '1'] }), { initBinary: '/usr/bin/catatonit', network: { kind: 'host' } }));
  assert.deepEqual(spec.process.args, [INIT_PATH_IN_CONTAINER, '--', 'sleep', '1']);
  assert.equal(spec.mounts.find((m) => m.destination === INIT_PATH_IN_CONTAINER)?.source, '/usr/bin/catatonit');
  assert.ok(!spec.linux.namespaces.some((n) => n.type === 'network'));
  assert.equal(spec.mounts.find((m) => m.destination === '/sys')?.type, 'bind');
  const ns = buildOciConfig(input(record(), { network: { kind: 'path', path: '/run/netns/x' } })).spec;
  assert.deepEqual(ns.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.equal(ns.mounts.find((m) => m.destination === '/sys')?.type, 'sysfs');
});

test('rootless: sysfs in a new network namespace; /sys bound read-only when joining one', () => {
  const own = buildOciConfig(input(record(), { rootless: true, network: { kind: 'none' } })).spec;
  assert.equal(own.mounts.find((m) => m.destination === '/sys')?.type, 'sysfs');
  const joined = buildOciConfig(input(record(), { rootless: true, network: { kind: 'path', path: '/proc/42/ns/net' } })).spec;
  const sys = joined.mounts.find((m) => m.destination === '/sys');
  assert.equal(sys?.type, 'bind');
  assert.ok(sys?.options.includes('ro'));
});

test('sysctls, devices, shm size, no-new-privileges, workdir, user, annotations', () => {
  const rec = record({ sysctls: { 'net.ipv4.ip_forward': '1' }, shmSize: 1024 * 1024, noNewPrivileges: true, workdir: '/srv', annotations: { a: 'b' }, stopSignal: 'SIGINT' });
  const { spec } = buildOciConfig(input(rec, {
    devices: [{ containerPath: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0, permissions: 'rwm' }],
    user: { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/t' },
  }));
  assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')?.options.includes('size=1048576'));
  assert.equal(spec.process.noNewPrivileges, true);
  assert.equal(spec.process.cwd, '/srv');
  assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, umask: 0o022, additionalGids: [10] });
  assert.deepEqual(spec.linux.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }]);
  assert.deepEqual(spec.linux.resources.devices?.[1], { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.equal(spec.annotations.a, 'b');
});

test('seccomp profile converted when given; absent when unconfined', () => {
  const profile = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  const { spec } = buildOciConfig(input(record(), { host: host({ seccompProfile: profile }) }));
  assert.deepEqual(spec.linux.seccomp, { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(buildOciConfig(input(record())).spec.linux.seccomp, undefined);
});
