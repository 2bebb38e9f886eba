/**
 * Host port reservation: random ports and ranges are free and consecutive, clashes with other
 * processes and with other containers' recorded ports are refused. Inside a private network namespace.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { NetworkError } from '../../../src/errors/index.js';
import { reserveHostPorts } from '../../../src/network/ports.js';
import { parsePublish } from '../../../src/network/publish.js';
import { insideTestNetns } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  test('random host ports: single and ranges, all bindable, consecutive', async () => {
    const [single, range, udp] = await reserveHostPorts([...parsePublish('80'), ...parsePublish('9000-9004'), ...parsePublish('127.0.0.1::53/udp')], []);
    assert.ok(single.hostPort >= 1024);
    assert.equal(range.range, 5);
    assert.ok(range.hostPort >= 32768 && range.hostPort + 4 <= 60999);
    assert.equal(range.containerPort, 9000);
    assert.equal(udp.protocol, 'udp');
    assert.equal(udp.hostIp, '127.0.0.1');
    for (let p = range.hostPort; p < range.hostPort + 5; p++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(p, '0.0.0.0', resolve); });
      await new Promise((r) => server.close(r));
    }
  });

  test('clashes: another process (tcp and udp), another container, the same request twice', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(5300, '0.0.0.0', resolve));
    try {
      await assert.rejects(reserveHostPorts(parsePublish('5300:53/udp'), []), (e: unknown) =>
        e instanceof NetworkError && e.code === 'port-in-use' && /0\.0\.0\.0:5300\/udp is not available: address already in use/.test(e.message));
      assert.equal((await reserveHostPorts(parsePublish('5300:53/tcp'), []))[0].hostPort, 5300, 'tcp is another port space');
    } finally {
      socket.close();
    }
    const claims = [{ containerId: 'x', containerName: 'web', ports: parsePublish('8000-8010:8000-8010') }];
    await assert.rejects(reserveHostPorts(parsePublish('127.0.0.1:8005:80'), claims), /8005\/tcp is already published by container web/);
    assert.equal((await reserveHostPorts(parsePublish('8011:80'), claims))[0].hostPort, 8011);
    await assert.rejects(reserveHostPorts([...parsePublish('7000:80'), ...parsePublish('7000:81')], []), /0\.0\.0\.0:7000\/tcp is published twice by this container/);
    await assert.rejects(reserveHostPorts(parsePublish('192.0.2.55:7001:80'), []), /192\.0\.2\.55 is not an address of this host/);
    // A random port never lands on a port another container claimed.
    const many = await Promise.all(Array.from({ length: 5 }, () => reserveHostPorts(parsePublish('80'), claims)));
    for (const [m] of many) assert.ok(m.hostPort < 8000 || m.hostPort > 8010);
  });
}
