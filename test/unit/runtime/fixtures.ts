/** A container record and host facts for pure tests. */
import type { ContainerOptions, ContainerRecord } from '../../../src/runtime/types.js';
import type { HostFacts, OciConfigInput } from '../../../src/runtime/oci-config.js';

export function options(over: Partial<ContainerOptions> = {}): ContainerOptions {
  return {
    image: 'test/busybox', command: [], env: {}, labels: {}, annotations: {}, groupAdd: [], readOnly: false, readOnlyTmpfs: true,
    mounts: [], capAdd: [], capDrop: [], noNewPrivileges: false, labelDisable: false, ulimits: [], sysctls: {}, init: false,
    devices: [], network: [], publish: [], dns: [], dnsSearch: [], dnsOptions: [], addHosts: [], sdnotify: 'conmon', cgroups: 'enabled',
    logDriver: 'journald', rm: false, ...over,
  };
}

export function record(over: Partial<ContainerOptions> = {}, imageConfig: ContainerRecord['image']['config']['config'] = { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin', 'FOO=image'] }): ContainerRecord {
  return {
    id: 'a'.repeat(64), name: 'web', created: '2026-01-01T00:00:00.000Z',
    image: { id: 'b'.repeat(64), digest: `sha256:${'c'.repeat(64)}`, name: 'localhost/test/busybox:latest', layerDirs: ['/layers/1'], config: { config: imageConfig } },
    options: options(over), stopSignal: 'SIGTERM', stopTimeout: 10,
  };
}

export function host(over: Partial<HostFacts> = {}): HostFacts {
  return { rlimitHard: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: Infinity }, deviceCgroupUsable: true, controllers: ['memory', 'pids'], cgroupV2: true, arch: 'SCMP_ARCH_X86_64', kernel: '6.1.0', ...over };
}

export function input(rec: ContainerRecord, over: Partial<OciConfigInput> = {}): OciConfigInput {
  return {
    record: rec, rootfs: '/c/merged', user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, hostname: 'aaaaaaaaaaaa',
    etc: { hosts: '/r/hosts', hostname: '/r/hostname', resolvConf: '/r/resolv.conf', containerEnv: '/r/.containerenv' },
    network: { kind: 'none' }, devices: [], volumes: [], host: host(), ...over,
  };
}
