import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { NetworkError, UsageError } from '../../../src/errors/index.js';
import { createNetwork, getNetwork, listNetworks, removeNetwork, requireNetwork } from '../../../src/network/config.js';
import { tempStorage } from '../../support/netns.js';

const storage = tempStorage('net-config');
after(() => storage.cleanup());
const paths = { root: storage.root, runroot: storage.runroot, rootless: false };

test('config: the default network exists without a file and cannot be removed', async () => {
  const networks = await listNetworks(paths);
  assert.deepEqual(networks.map((n) => n.name), ['berth']);
  const berth = await requireNetwork(paths, 'berth');
  assert.equal(berth.network_interface, 'berth0');
  assert.deepEqual(berth.subnets, [{ subnet: '10.90.0.0/16', gateway: '10.90.0.1' }]);
  assert.equal(berth.dns_enabled, false);
  await assert.rejects(removeNetwork(paths, 'berth'), /default network "berth" cannot be removed/);
});

test('config: create stores netavark-format JSON; names, interfaces and subnets are unique', async () => {
  const a = await createNetwork(paths, { name: 'front', subnets: ['198.18.0.0/24'], labels: { app: 'x' }, options: { mtu: '1400' } });
  const stored = JSON.parse(fs.readFileSync(path.join(paths.root, 'networks', 'front.json'), 'utf8'));
  assert.deepEqual(stored, a);
  assert.equal(a.driver, 'bridge');
  assert.equal(a.network_interface, 'berth1');
  assert.deepEqual(a.subnets, [{ subnet: '198.18.0.0/24', gateway: '198.18.0.1' }]);
  assert.equal(a.dns_enabled, true);
  assert.match(a.id, /^[0-9a-f]{64}$/);
  assert.deepEqual(a.labels, { app: 'x' });

  const b = await createNetwork(paths, { name: 'back' });
  assert.equal(b.network_interface, 'berth2');
  assert.match(b.subnets[0].subnet, /^10\.9[12]\.\d+\.0\/24$/, 'picked from the default pools');

  await assert.rejects(createNetwork(paths, { name: 'front' }), (e: unknown) => e instanceof NetworkError && e.code === 'network-exists');
  assert.deepEqual(await createNetwork(paths, { name: 'front', ignoreIfExists: true }), a);
  await assert.rejects(createNetwork(paths, { name: 'clash', subnets: ['198.18.0.128/25'] }), (e: unknown) =>
    e instanceof NetworkError && e.code === 'subnet-overlap' && /overlaps subnet 198\.18\.0\.0\/24 of network "front"/.test(e.message));
  await assert.rejects(createNetwork(paths, { name: 'clash2', subnets: ['10.90.5.0/24'] }), /overlaps subnet 10\.90\.0\.0\/16 of network "berth"/);
  assert.equal(await getNetwork(paths, 'clash'), undefined, 'nothing written on failure');
  assert.equal(await getNetwork(paths, a.id.slice(0, 12)).then((n) => n?.name), 'front', 'found by ID prefix');
});

test('config: options are validated and named', async () => {
  const cases: [Parameters<typeof createNetwork>[1], RegExp][] = [
    [{ name: 'bad name' }, /invalid network name/],
    [{ name: 'n1', subnets: ['198.19.0.1/24'] }, /not a subnet in CIDR form/],
    [{ name: 'n2', subnets: ['198.19.1.0/24'], gateways: ['198.19.2.1'] }, /--gateway 198\.19\.2\.1 is not inside subnet/],
    [{ name: 'n3', subnets: ['198.19.3.0/24'], ipRanges: ['198.19.4.0/28'] }, /--ip-range 198\.19\.4\.0\/28 is not inside/],
    [{ name: 'n4', driver: 'overlay' }, /unsupported network driver "overlay"/],
    [{ name: 'n5', options: { color: 'red' } }, /unknown bridge option "color"/],
    [{ name: 'n6', gateways: ['10.0.0.1'] }, /--gateway needs a --subnet/],
    [{ name: 'n7', driver: 'macvlan', options: { parent: 'nosuchif0' } }, /parent interface "nosuchif0"/],
  ];
  for (const [opts, message] of cases) {
    await assert.rejects(createNetwork(paths, opts), (e: unknown) => (e instanceof UsageError || e instanceof NetworkError) && message.test(e.message), String(message));
  }
});

test('config: gateway, ip-range, internal, ipv6, disable-dns', async () => {
  const n = await createNetwork(paths, { name: 'custom', subnets: ['198.19.8.0/24'], gateways: ['198.19.8.254'], ipRanges: ['198.19.8.16/28'], internal: true, disableDns: true, ipv6: true });
  assert.equal(n.internal, true);
  assert.equal(n.dns_enabled, false);
  assert.equal(n.ipv6_enabled, true);
  assert.deepEqual(n.subnets[0], { subnet: '198.19.8.0/24', gateway: '198.19.8.254', lease_range: { start_ip: '198.19.8.16', end_ip: '198.19.8.31' } });
  assert.match(n.subnets[1].subnet, /^fd[0-9a-f:]+\/64$/);
  const range = await createNetwork(paths, { name: 'ranged', subnets: ['198.19.9.0/24'], ipRanges: ['198.19.9.10-198.19.9.20'] });
  assert.deepEqual(range.subnets[0].lease_range, { start_ip: '198.19.9.10', end_ip: '198.19.9.20' });
});

test('config: remove refuses a network in use unless forced', async () => {
  await createNetwork(paths, { name: 'busy', subnets: ['198.19.20.0/24'] });
  const removed: string[][] = [];
  const opts = { usedBy: async () => ['c'.repeat(64)], removeContainers: async (ids: string[]) => { removed.push(ids); } };
  await assert.rejects(removeNetwork(paths, 'busy', opts), /network "busy" is in use by 1 container\(s\): cccccccccccc/);
  assert.ok(await getNetwork(paths, 'busy'));
  await removeNetwork(paths, 'busy', { ...opts, force: true });
  assert.deepEqual(removed, [['c'.repeat(64)]]);
  assert.equal(await getNetwork(paths, 'busy'), undefined);
  await assert.rejects(removeNetwork(paths, 'busy'), (e: unknown) => e instanceof NetworkError && e.code === 'network-not-found');
});

test('config: default subnet comes from berth.toml', async () => {
  const file = path.join(storage.dir, 'berth.toml');
  fs.writeFileSync(file, '[network]\ndefault_subnet = "198.20.0.0/16"\ndefault_subnet_pools = [{ base = "198.21.0.0/16", size = 26 }]\n');
  process.env.BERTH_CONFIG = file;
  try {
    const other = { ...paths, root: path.join(storage.dir, 'root2') };
    assert.deepEqual((await requireNetwork(other, 'berth')).subnets, [{ subnet: '198.20.0.0/16', gateway: '198.20.0.1' }]);
    const n = await createNetwork(other, { name: 'pooled' });
    assert.equal(n.subnets[0].subnet, '198.21.0.0/26');
    fs.writeFileSync(file, '[network]\ndefault_subnet = "nonsense"\n');
    await assert.rejects(createNetwork(other, { name: 'x' }), /berth\.toml: \[network\] default_subnet/);
  } finally {
    delete process.env.BERTH_CONFIG;
  }
});
