import test from 'node:test';
import assert from 'node:assert/strict';
import { needsUserNamespace, rootlessMapping, unshareArgs, USERNS_COMMANDS } from '../../../src/runtime/userns.js';
import { rootlessCgroupMode } from '../../../src/runtime/cgroups.js';

const alice = { name: 'alice', uid: 1001, gid: 1002 };

test('the mapping from /etc/subuid and /etc/subgid: own ids to 0, the first range from 1', () => {
  const m = rootlessMapping('alice:100000:65536\nalice:500000:10\n', 'alice:200000:1000\n', alice);
  assert.deepEqual(m.uids, [{ inside: 0, outside: 1001, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]);
  assert.deepEqual(m.gids, [{ inside: 0, outside: 1002, count: 1 }, { inside: 1, outside: 200000, count: 1000 }]);
  assert.deepEqual(unshareArgs(m), ['--user', '--mount', '--map-root-user', '--map-users=100000,1,65536', '--map-groups=200000,1,1000']);
  // A hybrid-cgroup host: a cgroup namespace too, so that cgroup2 can be mounted inside.
  assert.deepEqual(unshareArgs(m, 'hybrid').slice(0, 3), ['--user', '--mount', '--cgroup']);
});

test('no subordinate ids: only the own ids are mapped (no newuidmap needed)', () => {
  const m = rootlessMapping('', '', alice);
  assert.deepEqual(unshareArgs(m), ['--user', '--mount', '--map-root-user']);
});

test('which commands run inside the namespace: storage writers and starters, not the signal senders', () => {
  for (const c of ['pull', 'run', 'create', 'start', 'restart', 'rmi', 'cleanup']) assert.ok(USERNS_COMMANDS.has(c), c);
  for (const c of ['stop', 'kill', 'rm', 'ps', 'exec', 'logs', 'inspect', 'wait']) assert.ok(!USERNS_COMMANDS.has(c), c);
});

test('rootless cgroups: hybrid and v1 hosts run without limits, said once; --cgroups=disabled stays quiet', () => {
  const hybrid = rootlessCgroupMode('enabled', 'hybrid');
  assert.equal(hybrid.mode, 'disabled');
  assert.match(hybrid.warning ?? '', /hybrid mode cannot be used by an unprivileged user/);
  assert.equal(rootlessCgroupMode('split', 'v1').mode, 'disabled');
  assert.deepEqual(rootlessCgroupMode('disabled', 'hybrid'), { mode: 'disabled' });
});

test('the command word after global flags decides; root and the inner run never re-execute', () => {
  assert.equal(needsUserNamespace(['--root', '/x', '--log-level=debug', 'run', 'img'], {}, 1001), true);
  assert.equal(needsUserNamespace(['--runroot', 'pull', 'ps'], {}, 1001), false, '"pull" is the value of --runroot');
  assert.equal(needsUserNamespace(['stop', 'run'], {}, 1001), false);
  assert.equal(needsUserNamespace(['--help'], {}, 1001), false);
  assert.equal(needsUserNamespace(['run', 'img'], { BERTH_ROOTLESS_UID: '1001' }, 0), false);
  assert.equal(needsUserNamespace(['run', 'img'], {}, 0), false);
});
