/**
 * 20 "containers", each publishing a port, set up (5 at a time, several processes' worth of
 * locking in one) and torn down: every one reachable, then no address, rule, veth or namespace left.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { listLeases, parseNetworkOption, parsePublish, setupContainerNetwork, teardownContainerNetwork } from '../../../src/network/index.js';
import { curl, firewallRules, insideTestNetns, interfaces, startHttpd, tempStorage } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-many');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };

  async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
  }

  test('20 containers with published ports: up, reachable, down, nothing leaked', async () => {
    const rulesBefore = firewallRules();
    const ifacesBefore = interfaces();
    const ids = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}`.repeat(32));
    const ips = new Map<string, string>();
    const started = Date.now();
    await inBatches(ids, 5, async (id) => {
      const n = Number(id.slice(0, 2));
      const result = await setupContainerNetwork(paths, { containerId: id, containerName: `c${n}`, hostname: `c${n}`, mode: parseNetworkOption([]), ports: parsePublish(`${9100 + n}:80`) });
      ips.set(id, result.ips[0]);
    });
    const setupMs = Date.now() - started;
    assert.equal(new Set(ips.values()).size, 20, 'twenty different addresses');
    assert.equal(Object.keys(await listLeases(paths, 'berth')).length, 20);

    // Each port leads to its own container: serve a page naming it.
    const stops: (() => Promise<void>)[] = [];
    try {
      for (const id of [ids[0], ids[7], ids[19]]) {
        const n = Number(id.slice(0, 2));
        const www = path.join(storage.dir, `www${n}`);
        fs.mkdirSync(www, { recursive: true });
        fs.writeFileSync(path.join(www, 'index.html'), `c${n}\n`);
        stops.push(await startHttpd(path.join(paths.runroot, 'netns', `netns-${id}`), www, 80));
        assert.equal(curl(`http://127.0.0.1:${9100 + n}/`), `c${n}\n`);
      }
    } finally {
      for (const stop of stops) await stop();
    }

    const down = Date.now();
    await inBatches(ids, 5, (id) => teardownContainerNetwork(paths, id));
    const teardownMs = Date.now() - down;
    assert.deepEqual(await listLeases(paths, 'berth'), {}, 'no lease left');
    assert.doesNotMatch(firewallRules(), /--dport|--to-destination|10\.90\./, 'no rule left');
    assert.ok(firewallRules().split('\n').length <= rulesBefore.split('\n').length + 8);
    assert.deepEqual(interfaces().filter((i) => !ifacesBefore.includes(i)), [], 'no veth or bridge left');
    assert.deepEqual(fs.readdirSync(path.join(paths.runroot, 'netns')), [], 'no namespace left');
    process.stdout.write(`# 20 containers: setup ${setupMs} ms, teardown ${teardownMs} ms\n`);
  });
}
