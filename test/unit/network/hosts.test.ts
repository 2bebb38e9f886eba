import assert from 'node:assert/strict';
import test from 'node:test';
import { UsageError } from '../../../src/errors/index.js';
import { hostsEntries, hostsFile, parseAddHost, parseResolv, resolvConf, withoutLoopback } from '../../../src/network/hosts.js';

test('hosts: own names, --add-host, host.containers.internal', () => {
  const entries = hostsEntries({ hostname: 'web1', containerName: 'web', ips: ['10.90.0.5'], addHosts: ['db:10.0.0.9', 'gw=host-gateway', 'a;b:fd00::1', 'v6:[fd00::2]'], hostGateway: '10.90.0.1' });
  const text = hostsFile(entries);
  assert.match(text, /^127\.0\.0\.1\tlocalhost/m);
  assert.match(text, /^::1\tlocalhost/m);
  assert.match(text, /^10\.0\.0\.9\tdb$/m);
  assert.match(text, /^10\.90\.0\.1\tgw$/m);
  assert.match(text, /^fd00::1\ta b$/m);
  assert.match(text, /^fd00::2\tv6$/m);
  assert.match(text, /^10\.90\.0\.5\tweb1 web$/m);
  assert.match(text, /^10\.90\.0\.1\thost\.containers\.internal/m);
  assert.ok(text.endsWith('\n'));
  // No network of its own: the name still resolves locally.
  assert.match(hostsFile(hostsEntries({ hostname: 'x', containerName: 'x', ips: [] })), /^127\.0\.1\.1\tx$/m);
});

test('hosts: bad --add-host values', () => {
  assert.throws(() => parseAddHost('nocolon'), (e: unknown) => e instanceof UsageError && /invalid --add-host "nocolon"/.test(e.message));
  assert.throws(() => parseAddHost('db:999.1.1.1'), /not an IP address/);
  assert.throws(() => parseAddHost('gw:host-gateway'), /needs a bridge network/);
});

test('resolv.conf: render and parse', () => {
  const text = resolvConf({ nameservers: ['10.90.0.1', 'fd00::1'], search: ['dns.podman', 'example.com'], options: ['ndots:2'] });
  assert.equal(text, 'search dns.podman example.com\nnameserver 10.90.0.1\nnameserver fd00::1\noptions ndots:2\n');
  assert.deepEqual(parseResolv(`# comment\n${text}domain x\n`), { nameservers: ['10.90.0.1', 'fd00::1'], search: ['x'], options: ['ndots:2'] });
  assert.deepEqual(withoutLoopback(['127.0.0.53', '::1', '1.1.1.1']), ['1.1.1.1']);
});
