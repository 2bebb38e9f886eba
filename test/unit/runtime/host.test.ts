import test from 'node:test';
import assert from 'node:assert/strict';
import { deviceCgroupUsable, readRlimitHard } from '../../../src/runtime/host.js';
import { ownCgroup, containerCgroupPath } from '../../../src/runtime/cgroups.js';

const limits = `Limit                     Soft Limit           Hard Limit           Units
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
Max processes             unlimited            unlimited            processes
`;

test('hard limits from /proc/self/limits', () => {
  assert.deepEqual(readRlimitHard(limits), { RLIMIT_NOFILE: 20000, RLIMIT_MEMLOCK: 8388608, RLIMIT_NPROC: Infinity });
});

test('eBPF device filter usable only with CAP_SYS_RESOURCE or an unlimited memlock', () => {
  const r = readRlimitHard(limits);
  assert.equal(deviceCgroupUsable('CapEff:\t000001fffeffffff\n', r), false);   // this VM: bit 24 missing
  assert.equal(deviceCgroupUsable('CapEff:\t000001ffffffffff\n', r), true);
  assert.equal(deviceCgroupUsable('CapEff:\t0000000000000000\n', { RLIMIT_MEMLOCK: Infinity }), true);
});

test('own cgroup is the 0:: line only; split puts the container under it', () => {
  assert.equal(ownCgroup('9:name=systemd:/\n1:cpu:/x\n0::/system.slice/web.service\n'), '/system.slice/web.service');
  assert.equal(containerCgroupPath('0123456789abcdef', 'split', '/system.slice/web.service'), '/system.slice/web.service/berth-0123456789ab');
  assert.equal(containerCgroupPath('0123456789abcdef', 'disabled'), undefined);
});
