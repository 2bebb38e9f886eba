import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveUser } from '../../../src/runtime/users.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n';
const group = 'root:x:0:\nwheel:x:10:tester\ntester:x:1000:\nnogroup:x:65534:\n';

test('names and numbers through the image\'s passwd and group', () => {
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root' });
  assert.deepEqual(resolveUser('tester', passwd, group), { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/tester', name: 'tester' });
  assert.deepEqual(resolveUser('1000:nogroup', passwd, group), { uid: 1000, gid: 65534, additionalGids: [], home: '/home/tester', name: 'tester' });
  assert.deepEqual(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, additionalGids: [], home: '/', name: undefined });
  assert.deepEqual(resolveUser('nobody', passwd, group, ['wheel', '99']).additionalGids, [10, 99]);
});

test('unknown user or group: one-line error naming it', () => {
  assert.throws(() => resolveUser('ghost', passwd, group), /unable to find user ghost: no matching entries in passwd file/);
  assert.throws(() => resolveUser('tester:ghosts', passwd, group), /unable to find group ghosts/);
  assert.throws(() => resolveUser('root', '', ''), /unable to find user root/);
});
