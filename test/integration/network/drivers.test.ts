/**
 * What else netavark is given: two networks at once (eth0, eth1), static IP and MAC, dual stack,
 * a macvlan network on a parent interface. Inside a private network namespace.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createNetwork, listLeases, parseNetworkOption, setupContainerNetwork, teardownContainerNetwork } from '../../../src/network/index.js';
import { insideTestNetns, interfaces, sh, tempStorage } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-drivers');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };

  test('two networks, static IP and MAC, dual stack', async () => {
    await createNetwork(paths, { name: 'front', subnets: ['10.91.20.0/24', 'fd00:20::/64'] });
    await createNetwork(paths, { name: 'back', subnets: ['10.91.21.0/24'] });
    const id = 'e'.repeat(64);
    const result = await setupContainerNetwork(paths, {
      containerId: id, containerName: 'multi', hostname: 'multi', ports: [],
      mode: parseNetworkOption(['front:ip=10.91.20.50,mac=02:42:ac:11:00:09', 'back']),
    });
    assert.deepEqual(result.attachments.map((a) => [a.network, a.interfaceName]), [['front', 'eth0'], ['back', 'eth1']]);
    assert.deepEqual(result.attachments[0].ips, ['10.91.20.50', 'fd00:20::2']);
    assert.equal(result.attachments[0].macAddress, '02:42:ac:11:00:09');
    assert.match(result.attachments[1].ips[0], /^10\.91\.21\.\d+$/);
    const inside = sh(`nsenter --net=${result.netnsPath} ip -o addr show`);
    assert.match(inside, /eth0\s+inet 10\.91\.20\.50\/24/);
    assert.match(inside, /eth0\s+inet6 fd00:20::2\/64/);
    assert.match(inside, /eth1\s+inet 10\.91\.21\.\d+\/24/);
    assert.match(sh(`nsenter --net=${result.netnsPath} ip link show eth0`), /02:42:ac:11:00:09/);
    assert.match(result.hostsFile, /^10\.91\.20\.50\tmulti$/m);
    await teardownContainerNetwork(paths, id);
    assert.deepEqual(await listLeases(paths, 'front'), {});
    assert.deepEqual(await listLeases(paths, 'back'), {});
  });

  test('macvlan network on a parent interface', async () => {
    sh('ip link add uplink0 type veth peer name uplink1 && ip link set uplink0 up && ip link set uplink1 up');
    try {
      await createNetwork(paths, { name: 'lan', driver: 'macvlan', subnets: ['192.0.2.0/24'], options: { parent: 'uplink0' } });
      const id = 'f'.repeat(64);
      const before = interfaces();
      const result = await setupContainerNetwork(paths, { containerId: id, containerName: 'mv', hostname: 'mv', ports: [], mode: parseNetworkOption(['lan']) });
      const link = sh(`nsenter --net=${result.netnsPath} ip -d link show eth0`);
      assert.match(link, /macvlan mode bridge/);
      assert.match(sh(`nsenter --net=${result.netnsPath} ip -o -4 addr show eth0`), new RegExp(`inet ${result.ips[0].replace(/\./g, '\\.')}/24`));
      assert.deepEqual(interfaces().filter((i) => !before.includes(i)), [], 'nothing added on the host side');
      await teardownContainerNetwork(paths, id);
    } finally {
      sh('ip link del uplink0');
    }
  });
}
