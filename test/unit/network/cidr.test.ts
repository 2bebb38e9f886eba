import assert from 'node:assert/strict';
import test from 'node:test';
import { canonicalAddress, formatSubnet, parseAddress, parseSubnet, subnetContains, subnetsOverlap } from '../../../src/network/cidr.js';

test('cidr: addresses round-trip in canonical form', () => {
  assert.equal(canonicalAddress('10.90.0.1'), '10.90.0.1');
  assert.equal(canonicalAddress('fd00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.equal(canonicalAddress('::'), '::');
  assert.equal(canonicalAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalAddress('::ffff:1.2.3.4'), '::ffff:102:304');
  assert.equal(parseAddress('300.1.1.1'), undefined);
});

test('cidr: subnets, containment and overlap', () => {
  assert.equal(parseSubnet('10.0.0.1/24'), undefined, 'host bits set');
  assert.equal(formatSubnet(parseSubnet('10.0.0.1/24', { loose: true })!), '10.0.0.0/24');
  assert.equal(parseSubnet('10.0.0.0/33'), undefined);
  const a = parseSubnet('10.91.0.0/16')!;
  const b = parseSubnet('10.91.5.0/24')!;
  const c = parseSubnet('10.92.0.0/24')!;
  assert.ok(subnetsOverlap(a, b) && subnetsOverlap(b, a));
  assert.ok(!subnetsOverlap(a, c));
  assert.ok(!subnetsOverlap(a, parseSubnet('fd00::/64')!));
  assert.ok(subnetContains(b, 4, parseAddress('10.91.5.255')!.value));
  assert.ok(!subnetContains(b, 4, parseAddress('10.91.6.0')!.value));
});
