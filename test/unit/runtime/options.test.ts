import test from 'node:test';
import assert from 'node:assert/strict';
import { parseDevice, parseDuration, parseEnv, parseEnvFile, parseMount, parseSize, parseTmpfs, parseUlimit, parseVolume } from '../../../src/runtime/options.js';

test('sizes, durations, ulimits', () => {
  assert.equal(parseSize('512m', '--memory'), 512 * 1024 * 1024);
  assert.equal(parseSize('1g', '--memory'), 1024 ** 3);
  assert.equal(parseSize('100', '--shm-size'), 100);
  assert.throws(() => parseSize('lots', '--memory'), /invalid value for --memory "lots"/);
  assert.equal(parseDuration('1m30s', '--health-interval'), 90000);
  assert.equal(parseDuration('500ms', 'x'), 500);
  assert.throws(() => parseDuration('soon', '--health-interval'), /--health-interval "soon"/);
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit('core=-1'), { name: 'RLIMIT_CORE', soft: Infinity, hard: Infinity });
  assert.throws(() => parseUlimit('files=1'), /unknown limit type files/);
  assert.throws(() => parseUlimit('nofile=10:5'), /soft limit above hard/);
});

test('volumes, mounts, tmpfs, devices', () => {
  assert.deepEqual(parseVolume('/srv:/data:ro,Z'), { kind: 'bind', source: '/srv', destination: '/data', options: ['ro', 'Z'] });
  assert.deepEqual(parseVolume('cache:/var/cache'), { kind: 'volume', name: 'cache', destination: '/var/cache', options: [] });
  assert.throws(() => parseVolume('/srv:data'), /must be an absolute path/);
  assert.throws(() => parseVolume('/srv:/data:bogus'), /unknown option bogus/);
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,ro'), { kind: 'bind', source: '/a', destination: '/b', options: ['ro'] });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,tmpfs-size=1m'), { kind: 'tmpfs', destination: '/t', options: ['size=1m'] });
  assert.throws(() => parseMount('type=bind,target=/b'), /type=bind needs source/);
  assert.deepEqual(parseTmpfs('/run:size=1m,mode=755'), { kind: 'tmpfs', destination: '/run', options: ['size=1m', 'mode=755'] });
  assert.deepEqual(parseDevice('/dev/fuse'), { hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/fuse:/dev/f:r'), { hostPath: '/dev/fuse', containerPath: '/dev/f', permissions: 'r' });
});

test('env: flags, host passthrough, prefixes, env files with line numbers', () => {
  const host = { HOME: '/root', LC_A: '1', LC_B: '2' };
  assert.deepEqual(parseEnv(['A=1', 'HOME', 'MISSING', 'LC_*', 'E='], host), { A: '1', HOME: '/root', LC_A: '1', LC_B: '2', E: '' });
  assert.deepEqual(parseEnvFile('# c\nA=1\n\nB=two words\nHOME\n', 'f.env', host), { A: '1', B: 'two words', HOME: '/root' });
  assert.throws(() => parseEnvFile('A=1\n=x\n', 'f.env', host), /f.env:2: variable name is empty/);
});
