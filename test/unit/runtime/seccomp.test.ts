import test from 'node:test';
import assert from 'node:assert/strict';
import { convertSeccompProfile, kernelAtLeast, DEFAULT_SECCOMP_PROFILE, loadSeccompProfile } from '../../../src/runtime/seccomp.js';

const ctx = { caps: ['CAP_CHOWN'], arch: 'SCMP_ARCH_X86_64', kernel: '6.1.0-13-amd64' };

test('includes by capability, Go arch name and kernel version; excludes by capability', () => {
  const out = convertSeccompProfile({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: [] }],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chown'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN'] } },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['new'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
      { names: ['old'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    ],
  }, ctx);
  assert.deepEqual(out.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(out.syscalls.map((s) => s.names[0]), ['read', 'arch_prctl', 'chown', 'mount', 'old']);
  assert.equal(out.syscalls[3].errnoRet, 1);
});

test('kernel version comparison', () => {
  assert.ok(kernelAtLeast('6.1.0-13-amd64', '5.8'));
  assert.ok(kernelAtLeast('5.8.0', '5.8'));
  assert.ok(!kernelAtLeast('4.19.0', '5.8'));
});

test('containers-common profile (test/setup.sh installs it): arch_prctl and execve allowed on x86_64, default errno', () => {
  const out = convertSeccompProfile(loadSeccompProfile(DEFAULT_SECCOMP_PROFILE), ctx);
  const allowed = new Set(out.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  for (const s of ['arch_prctl', 'read', 'execve', 'clone']) assert.ok(allowed.has(s), s);
  assert.ok(!allowed.has('kexec_load'));
  assert.ok(!allowed.has('bpf'));   // only with CAP_SYS_ADMIN
  assert.equal(out.defaultAction, 'SCMP_ACT_ERRNO');
});
