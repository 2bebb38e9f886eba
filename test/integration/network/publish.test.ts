/**
 * A network namespace plays the container: busybox httpd runs in it, published ports are
 * reached through netavark's DNAT from 127.0.0.1 and from a second "host" on a veth.
 * Runs inside a private network namespace (test/support/netns.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { listLeases, parseNetworkOption, parsePublish, setupContainerNetwork, teardownContainerNetwork } from '../../../src/network/index.js';
import { curl, firewallRules, insideTestNetns, interfaces, sh, startHttpd, tempStorage } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-publish');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };
  const www = path.join(storage.dir, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'index.html'), 'hello from the container\n');
  const id = 'a1'.repeat(32);

  test('bridge + published ports: reachable from 127.0.0.1 and from another host; teardown leaves nothing', async () => {
    const rulesBefore = firewallRules();
    const ifacesBefore = interfaces();
    // A second "host" on a veth, to reach the published port from outside.
    const client = path.join(storage.dir, 'client-ns');
    fs.writeFileSync(client, '');
    sh(`unshare --net=${client} ip link set lo up`);
    sh(`nsenter --net=${client} ip link add vclient type veth peer name vpeer netns ${process.pid}`);
    sh('ip addr add 192.0.2.1/24 dev vpeer && ip link set vpeer up');
    sh(`nsenter --net=${client} sh -c 'ip addr add 192.0.2.2/24 dev vclient && ip link set vclient up'`);

    const result = await setupContainerNetwork(paths, {
      containerId: id,
      containerName: 'web',
      hostname: 'web',
      mode: parseNetworkOption([]),
      ports: [...parsePublish('8080:80'), ...parsePublish('127.0.0.1:8081:80'), ...parsePublish('80'), ...parsePublish('5353:53/udp')],
    });
    assert.ok(result.netnsPath && fs.existsSync(result.netnsPath));
    assert.match(result.ips[0], /^10\.90\.\d+\.\d+$/);
    assert.deepEqual(result.gateways, ['10.90.0.1']);
    const random = result.ports[2];
    assert.ok(random.hostPort > 0 && random.containerPort === 80, 'random host port filled in');
    assert.match(result.hostsFile, new RegExp(`^${result.ips[0].replace(/\./g, '\\.')}\\tweb$`, 'm'));
    const inside = sh(`nsenter --net=${result.netnsPath} ip -o -4 addr show dev eth0`);
    assert.match(inside, new RegExp(`inet ${result.ips[0]}/16`));

    const stop = await startHttpd(result.netnsPath!, www, 80);
    try {
      assert.equal(curl('http://127.0.0.1:8080/'), 'hello from the container\n');
      assert.equal(curl('http://127.0.0.1:8081/'), 'hello from the container\n');
      assert.equal(curl(`http://127.0.0.1:${random.hostPort}/`), 'hello from the container\n');
      assert.equal(curl(`http://${result.ips[0]}/`), 'hello from the container\n');
      assert.equal(curl('http://192.0.2.1:8080/', { netns: client }), 'hello from the container\n', 'from another host');
      assert.equal(curl('http://192.0.2.1:8081/', { netns: client, timeoutSec: 1 }), undefined, '127.0.0.1-only port is not reachable from outside');
      assert.match(firewallRules(), /--dport 5353 .*-j DNAT --to-destination 10\.90\.\d+\.\d+:53/);
    } finally {
      await stop();
    }

    await teardownContainerNetwork(paths, id);
    assert.equal(curl('http://127.0.0.1:8080/', { timeoutSec: 1 }), undefined);
    assert.equal(fs.existsSync(result.netnsPath!), false, 'netns file removed');
    assert.equal(sh('grep -c netns- /proc/self/mountinfo || true').trim(), '0', 'netns unmounted');
    assert.deepEqual(await listLeases(paths, 'berth'), {}, 'lease freed');
    const rulesAfter = firewallRules();
    assert.doesNotMatch(rulesAfter, /--dport|--to-destination|10\.90\./, 'no forwarding rule left');
    assert.ok(rulesAfter.split('\n').length <= rulesBefore.split('\n').length + 8, 'only netavark\'s empty base chains remain');
    assert.deepEqual(interfaces().filter((i) => !ifacesBefore.includes(i) && i !== 'vpeer'), [], 'no veth or bridge left');
    assert.equal(fs.readdirSync(path.join(paths.runroot, 'networks', 'containers')).length, 0, 'no state left');

    await teardownContainerNetwork(paths, id); // idempotent
    sh(`umount ${client}`);
  });

  test('none: a namespace with only loopback; host: no namespace at all', async () => {
    const none = await setupContainerNetwork(paths, { containerId: 'b2'.repeat(32), containerName: 'iso', hostname: 'iso', mode: { kind: 'none' }, ports: [] });
    const links = sh(`nsenter --net=${none.netnsPath} ip -o link show`);
    assert.deepEqual(links.trim().split('\n').map((l) => l.split(': ')[1]), ['lo']);
    assert.match(links, /LOOPBACK,UP/);
    assert.match(none.hostsFile, /^127\.0\.1\.1\tiso$/m);
    await teardownContainerNetwork(paths, 'b2'.repeat(32));
    assert.equal(fs.existsSync(none.netnsPath!), false);

    const host = await setupContainerNetwork(paths, { containerId: 'c3'.repeat(32), containerName: 'h', hostname: 'h', mode: { kind: 'host' }, ports: [], dns: ['9.9.9.9'], dnsSearch: ['example.org'] });
    assert.equal(host.netnsPath, undefined);
    assert.equal(host.resolvConf, 'search example.org\nnameserver 9.9.9.9\n');
    await teardownContainerNetwork(paths, 'c3'.repeat(32));
  });
}
