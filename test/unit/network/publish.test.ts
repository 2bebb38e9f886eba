import assert from 'node:assert/strict';
import test from 'node:test';
import { UsageError } from '../../../src/errors/index.js';
import { formatPortMapping, parsePublish } from '../../../src/network/publish.js';

const tcp = (hostIp: string, hostPort: number, containerPort: number, range = 1) => ({ hostIp, hostPort, containerPort, protocol: 'tcp', range });

test('publish: the forms Podman accepts', () => {
  assert.deepEqual(parsePublish('8080:80'), [tcp('', 8080, 80)]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80'), [tcp('127.0.0.1', 8080, 80)]);
  assert.deepEqual(parsePublish('8080:80/udp'), [{ ...tcp('', 8080, 80), protocol: 'udp' }]);
  assert.deepEqual(parsePublish('8000-8010:8000-8010'), [tcp('', 8000, 8000, 11)]);
  assert.deepEqual(parsePublish('80'), [tcp('', 0, 80)]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [tcp('127.0.0.1', 0, 80)]);
  assert.deepEqual(parsePublish('[::1]:8080:80'), [tcp('::1', 8080, 80)]);
  assert.deepEqual(parsePublish('9000-9001'), [tcp('', 0, 9000, 2)]);
  assert.deepEqual(parsePublish('53:53/tcp,udp').map((p) => p.protocol), ['tcp', 'udp']);
  assert.deepEqual(parsePublish('0:80'), [tcp('', 0, 80)]);
});

test('publish: bad specs name the spec and the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['abc', /"abc" is not a number/],
    ['8080:80/icmp', /unknown protocol "icmp"/],
    ['70000:80', /outside 1-65535/],
    ['8080:0', /outside 1-65535/],
    ['8000-8002:80-81', /differ in length/],
    ['8010-8000:80', /ends before it starts/],
    ['1.2.3:8080:80', /not an IPv4 address/],
    ['::1:8080:80', /brackets/],
    ['[::1:8080:80', /missing "]"/],
    ['1:2:3:4', /brackets|too many/],
  ];
  for (const [spec, reason] of cases) {
    assert.throws(() => parsePublish(spec), (error: unknown) => {
      assert.ok(error instanceof UsageError, spec);
      assert.match(error.message, new RegExp(`invalid port mapping "${spec.replace(/[[\]]/g, '\\$&')}"`));
      assert.match(error.message, reason, spec);
      return true;
    });
  }
});

test('publish: formatting for `berth port`', () => {
  assert.equal(formatPortMapping(tcp('', 8080, 80) as never), '0.0.0.0:8080->80/tcp');
  assert.equal(formatPortMapping({ ...tcp('::1', 8000, 80, 3), protocol: 'udp' } as never), '[::1]:8000-8002->80-82/udp');
});
