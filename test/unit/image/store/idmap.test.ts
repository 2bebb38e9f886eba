import test from 'node:test';
import assert from 'node:assert/strict';
import {
  chownError, describeHostRanges, describeRanges, insufficientIdsError, isMapped, parseIdMap, parseSubordinateIds, rootlessRanges, toHost,
} from '../../../../src/image/store/idmap.js';

const SUBUID = '# comment\nalice:100000:65536\nbob:165536:65536\n1003:231072:1000\nalice:300000:10\nbroken:x:1\n';

test('subordinate ranges by user name or uid, in file order; malformed lines ignored', () => {
  assert.deepEqual(parseSubordinateIds(SUBUID, { name: 'alice', id: 1001 }), [{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]);
  assert.deepEqual(parseSubordinateIds(SUBUID, { name: 'carol', id: 1003 }), [{ start: 231072, count: 1000 }]);
  assert.deepEqual(parseSubordinateIds(SUBUID, { name: 'broken', id: 9 }), []);
  assert.deepEqual(parseSubordinateIds('', { name: 'alice', id: 1001 }), []);
});

test("Podman's rootless mapping: own id to 0, subordinate ranges from 1 on", () => {
  const ranges = rootlessRanges(1001, [{ start: 100000, count: 65536 }]);
  assert.deepEqual(ranges, [{ inside: 0, outside: 1001, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]);
  assert.equal(toHost(0, ranges), 1001);
  assert.equal(toHost(1000, ranges), 100999);
  assert.equal(toHost(65536, ranges), 165535);
  assert.equal(toHost(65537, ranges), undefined);
  assert.equal(isMapped(65537, ranges), false);
  assert.deepEqual(rootlessRanges(1001, []), [{ inside: 0, outside: 1001, count: 1 }]);
  assert.equal(describeRanges(ranges), '0-65536');
  assert.equal(describeHostRanges(ranges), '1001, 100000-165535');
  assert.equal(describeRanges(rootlessRanges(1001, [])), '0');
});

test('uid_map text', () => {
  assert.deepEqual(parseIdMap('         0       1001          1\n         1     100000      65536\n'), [
    { inside: 0, outside: 1001, count: 1 }, { inside: 1, outside: 100000, count: 65536 },
  ]);
});

test('an owner outside the mapping: the entry, the id and both views of the range', () => {
  const ranges = rootlessRanges(1001, [{ start: 100000, count: 65536 }]);
  const e = insufficientIdsError('opt/far', 70000, 0, { uids: ranges, gids: ranges }, 'sha256:abc');
  assert.equal(e.code, 'insufficient-ids');
  assert.equal(e.message, 'layer sha256:abc: entry "opt/far" is owned by uid 70000, outside the ids this user can map (0-65536, host 1001, 100000-165535): potentially insufficient UIDs or GIDs available in the user namespace; give this user a larger range in /etc/subuid and /etc/subgid');
  const g = insufficientIdsError('etc/shadow', 0, 80000, { uids: ranges, gids: ranges });
  assert.match(g.message, /^entry "etc\/shadow" is owned by gid 80000,/);
});

test('chownError leaves other errors alone (and EINVAL when this process maps every id)', () => {
  const eperm = Object.assign(new Error('EPERM'), { code: 'EPERM' });
  assert.equal(chownError(eperm, 'x', 1, 1), eperm);
  // The test runs as root in the initial user namespace: every id is mapped, so EINVAL is not about ids.
  const einval = Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
  assert.equal(chownError(einval, 'x', 70000, 0), einval);
});
