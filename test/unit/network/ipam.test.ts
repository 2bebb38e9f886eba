import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NetworkError } from '../../../src/errors/index.js';
import { createNetwork } from '../../../src/network/config.js';
import { allocateAddresses, ipamLock, listLeases, releaseAddresses } from '../../../src/network/ipam.js';
import { tempStorage } from '../../support/netns.js';

const storage = tempStorage('net-ipam');
after(() => storage.cleanup());
const paths = { root: storage.root, runroot: storage.runroot, rootless: false };
const alloc = (net: Parameters<typeof allocateAddresses>[1], id: string, ips: string[] = []) => ipamLock(paths, () => allocateAddresses(paths, net, id, ips));

test('ipam: sequential, skips the gateway, static IPs, never twice, no immediate reuse', async () => {
  const net = await createNetwork(paths, { name: 'n1', subnets: ['198.18.1.0/29'] }); // .1 gateway, .2-.6 usable
  assert.deepEqual(await alloc(net, 'a'), ['198.18.1.2']);
  assert.deepEqual(await alloc(net, 'a'), ['198.18.1.2'], 'idempotent for the same container');
  assert.deepEqual(await alloc(net, 'b', ['198.18.1.5']), ['198.18.1.5']);
  await assert.rejects(alloc(net, 'c', ['198.18.1.5']), (e: unknown) => e instanceof NetworkError && e.code === 'ip-in-use' && /198\.18\.1\.5 .* already used by container b/.test(e.message));
  await assert.rejects(alloc(net, 'c', ['198.18.1.1']), /is the gateway/);
  await assert.rejects(alloc(net, 'c', ['198.18.1.7']), /is the broadcast address/);
  await assert.rejects(alloc(net, 'c', ['198.18.2.7']), /not in any subnet of network "n1"/);
  assert.deepEqual(await alloc(net, 'c'), ['198.18.1.3']);
  await ipamLock(paths, () => releaseAddresses(paths, 'a'));
  assert.deepEqual(await alloc(net, 'd'), ['198.18.1.4'], 'the freed .2 is not handed out right away');
  assert.deepEqual(await alloc(net, 'e'), ['198.18.1.6']);
  assert.deepEqual(await alloc(net, 'f'), ['198.18.1.2'], 'wraps around to freed addresses');
  await assert.rejects(alloc(net, 'g'), (e: unknown) => e instanceof NetworkError && e.code === 'subnet-full');
  assert.deepEqual(Object.keys(await listLeases(paths, 'n1')).sort(), ['198.18.1.2', '198.18.1.3', '198.18.1.4', '198.18.1.5', '198.18.1.6']);
  for (const id of ['b', 'c', 'd', 'e', 'f']) await ipamLock(paths, () => releaseAddresses(paths, id));
  assert.deepEqual(await listLeases(paths, 'n1'), {});
});

test('ipam: lease ranges and dual stack', async () => {
  const net = await createNetwork(paths, { name: 'n2', subnets: ['198.18.4.0/24', 'fd00:beef::/64'], ipRanges: ['198.18.4.100-198.18.4.101'] });
  assert.deepEqual(await alloc(net, 'x'), ['198.18.4.100', 'fd00:beef::2']);
  assert.deepEqual(await alloc(net, 'y'), ['198.18.4.101', 'fd00:beef::3']);
  await assert.rejects(alloc(net, 'z'), /no free IP address left in subnet 198\.18\.4\.0\/24/);
  assert.deepEqual(await ipamLock(paths, () => releaseAddresses(paths, 'x')), ['198.18.4.100', 'fd00:beef::2']);
  assert.deepEqual(await ipamLock(paths, () => releaseAddresses(paths, 'x')), [], 'release is idempotent');
});

test('ipam: concurrent allocations from several processes never collide', async () => {
  await createNetwork(paths, { name: 'n3', subnets: ['198.18.8.0/24'] });
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ipamModule = path.resolve(here, '../../../src/network/ipam.js');
  const configModule = path.resolve(here, '../../../src/network/config.js');
  const script = `
    const { allocateAddresses, ipamLock } = await import(${JSON.stringify(ipamModule)});
    const { requireNetwork } = await import(${JSON.stringify(configModule)});
    const paths = JSON.parse(process.argv[1]);
    const net = await requireNetwork(paths, 'n3');
    const out = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => ipamLock(paths, () => allocateAddresses(paths, net, process.argv[2] + i)).then((ips) => out.push(...ips))));
    console.log(JSON.stringify(out));`;
  const run = promisify(execFile);
  const results = await Promise.all(['p', 'q', 'r'].map((prefix) => run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(paths), prefix])));
  const all = results.flatMap((r) => JSON.parse(r.stdout) as string[]);
  assert.equal(all.length, 30);
  assert.equal(new Set(all).size, 30, 'every address once');
  assert.equal(Object.keys(await listLeases(paths, 'n3')).length, 30);
});
