/**
 * Bad input and failures half way: a clear error naming the thing, and nothing left behind
 * (no namespace, no veth, no rule, no lease, no state). Inside a private network namespace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { NetworkError } from '../../../src/errors/index.js';
import {
  createNetwork, listLeases, parseNetworkOption, parsePublish, setupContainerNetwork, teardownContainerNetwork, type ContainerNetworkRequest,
} from '../../../src/network/index.js';
import { firewallRules, insideTestNetns, interfaces, sh, tempStorage } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-errors');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };
  const request = (id: string, extra: Partial<ContainerNetworkRequest> = {}): ContainerNetworkRequest =>
    ({ containerId: id.repeat(64 / id.length), containerName: `n-${id}`, hostname: id, mode: parseNetworkOption([]), ports: [], ...extra });

  const baseline = { rules: '', ifaces: [] as string[] };
  async function assertNothingLeft(network = 'berth'): Promise<void> {
    assert.deepEqual(await listLeases(paths, network), {}, 'no lease');
    assert.doesNotMatch(firewallRules(), /--dport|--to-destination/, 'no forwarding rule');
    assert.deepEqual(interfaces().filter((i) => !baseline.ifaces.includes(i) && !i.startsWith('berth')), [], 'no veth');
    const netnsDir = path.join(paths.runroot, 'netns');
    assert.deepEqual(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [], [], 'no namespace');
    const stateDir = path.join(paths.runroot, 'networks', 'containers');
    assert.deepEqual(fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : [], [], 'no state');
    // aardvark-dns keeps one file per network: a header line, then one line per container.
    const dnsDir = path.join(paths.runroot, 'networks', 'netavark', 'aardvark-dns');
    for (const file of fs.existsSync(dnsDir) ? fs.readdirSync(dnsDir).filter((f) => f !== 'aardvark.pid') : []) {
      assert.deepEqual(fs.readFileSync(path.join(dnsDir, file), 'utf8').split('\n').slice(1).filter(Boolean), [], `no DNS entry left in ${file}`);
    }
  }

  test('a host port taken by another process is refused, nothing left behind', async () => {
    baseline.rules = firewallRules();
    baseline.ifaces = interfaces();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(9090, '0.0.0.0', resolve));
    try {
      await assert.rejects(setupContainerNetwork(paths, request('e1', { ports: parsePublish('9090:80') })), (e: unknown) =>
        e instanceof NetworkError && e.code === 'port-in-use' && /host port 0\.0\.0\.0:9090\/tcp is not available: address already in use/.test(e.message));
      await assert.rejects(setupContainerNetwork(paths, request('e2', { ports: parsePublish('127.0.0.1:9090:80') })), /127\.0\.0\.1:9090\/tcp is not available/);
      // A range that includes it.
      await assert.rejects(setupContainerNetwork(paths, request('e3', { ports: parsePublish('9088-9091:80-83') })), /9090\/tcp is not available/);
    } finally {
      await new Promise((r) => server.close(r));
    }
    await assertNothingLeft();
  });

  test('a host port published by another berth container is refused', async () => {
    await setupContainerNetwork(paths, request('f1', { ports: parsePublish('9191:80') }));
    await assert.rejects(setupContainerNetwork(paths, request('f2', { ports: parsePublish('127.0.0.1:9191:8080') })), (e: unknown) =>
      e instanceof NetworkError && e.code === 'port-in-use' && /127\.0\.0\.1:9191\/tcp is already published by container n-f1/.test(e.message));
    // Same port, other protocol: fine.
    await setupContainerNetwork(paths, request('f3', { ports: parsePublish('9191:80/udp') }));
    await teardownContainerNetwork(paths, 'f1'.repeat(32));
    await teardownContainerNetwork(paths, 'f3'.repeat(32));
    await assertNothingLeft();
  });

  test('unknown network, taken static IP: clear errors, nothing left', async () => {
    await assert.rejects(setupContainerNetwork(paths, request('g1', { mode: parseNetworkOption(['nosuchnet']) })), (e: unknown) =>
      e instanceof NetworkError && e.code === 'network-not-found' && /network "nosuchnet" not found/.test(e.message));
    await setupContainerNetwork(paths, request('g2', { mode: parseNetworkOption(['bridge'], { ips: ['10.90.3.3'] }) }));
    await assert.rejects(setupContainerNetwork(paths, request('g3', { mode: parseNetworkOption(['bridge'], { ips: ['10.90.3.3'] }), ports: parsePublish('9292:80') })),
      /requested IP 10\.90\.3\.3 on network "berth" is already used by container g2g2g2g2g2g2/);
    await teardownContainerNetwork(paths, 'g2'.repeat(32));
    await assertNothingLeft();
  });

  test('netavark failing half way is undone completely', async () => {
    // The bridge name is taken by a veth: netavark refuses after berth made the namespace and the lease.
    sh('ip link add berth9 type veth peer name berth9p');
    try {
      await createNetwork(paths, { name: 'broken', subnets: ['10.91.99.0/24'], interfaceName: 'berth9' });
      await assert.rejects(setupContainerNetwork(paths, request('h1', { mode: parseNetworkOption(['broken']), ports: parsePublish('9393:80') })), (e: unknown) =>
        e instanceof NetworkError && e.code === 'netavark-setup' && /netavark setup failed for container n-h1/.test(e.message));
      await assertNothingLeft('broken');
    } finally {
      sh('ip link del berth9');
    }
  });

  test('a crashed berth: teardown from another process finds the state on disk', async () => {
    // Setup in a child process that exits without tearing down (as if killed after starting).
    const module = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src/network/index.js');
    sh(`${process.execPath} --input-type=module -e '
      const n = await import(${JSON.stringify(module)});
      await n.setupContainerNetwork(${JSON.stringify(paths)}, { containerId: "${'k'.repeat(64)}", containerName: "crashy", hostname: "x", mode: n.parseNetworkOption([]), ports: n.parsePublish("9494:80") });
      process.exit(0);'`);
    assert.match(firewallRules(), /--dport 9494/);
    // And the namespace mount lost too (e.g. someone unmounted it): teardown still clears the rules.
    sh(`umount ${path.join(paths.runroot, 'netns', `netns-${'k'.repeat(64)}`)}`);
    await teardownContainerNetwork(paths, 'k'.repeat(64));
    await assertNothingLeft();
  });

  test('berth killed at any point of setup: teardown afterwards leaves nothing', async () => {
    await createNetwork(paths, { name: 'crashnet', subnets: ['10.91.98.0/24'] });
    const module = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src/network/index.js');
    const stateDir = path.join(paths.runroot, 'networks', 'containers');
    for (const delayMs of [0, 40, 120, 250]) {
      const id = `${delayMs}`.padStart(4, '0').repeat(16);
      const child = spawn(process.execPath, ['--input-type=module', '-e', `
        const n = await import(${JSON.stringify(module)});
        await n.setupContainerNetwork(${JSON.stringify(paths)}, { containerId: "${id}", containerName: "killed${delayMs}", hostname: "x", mode: n.parseNetworkOption(["crashnet"]), ports: n.parsePublish("${9500 + delayMs}:80") });
        setInterval(() => {}, 1000);`], { stdio: 'ignore' });
      // Kill once setup has visibly begun (its state is on disk), after the delay.
      for (let i = 0; i < 1000 && !fs.existsSync(path.join(stateDir, `${id}.json`)); i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, 100)); // netavark gets its parent-death signal
      await teardownContainerNetwork(paths, id);
      await assertNothingLeft('crashnet');
    }
  });

  test('leases of a container whose runroot state vanished (reboot) are freed by ID', async () => {
    await setupContainerNetwork(paths, request('m1'));
    await teardownContainerNetwork(paths, 'm1'.repeat(32));
    // Simulate: lease persisted in root, runroot wiped.
    await setupContainerNetwork(paths, request('m2'));
    fs.rmSync(path.join(paths.runroot, 'networks', 'containers', `${'m2'.repeat(32)}.json`));
    assert.equal(Object.keys(await listLeases(paths, 'berth')).length, 1);
    await teardownContainerNetwork(paths, 'm2'.repeat(32));
    assert.deepEqual(await listLeases(paths, 'berth'), {});
    // Its namespace is orphaned in this simulation; remove it by hand.
    sh(`umount ${path.join(paths.runroot, 'netns', `netns-${'m2'.repeat(32)}`)} && rm ${path.join(paths.runroot, 'netns', `netns-${'m2'.repeat(32)}`)}`);
  });
}
