/**
 * Named networks: two "containers" (namespaces) reach each other by IP and by name through
 * aardvark-dns; an --internal network has no route out. Inside a private network namespace.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  createNetwork, parseNetworkOption, setupContainerNetwork, teardownContainerNetwork, type ContainerNetworkResult,
} from '../../../src/network/index.js';
import { curl, insideTestNetns, sh, startHttpd, tempStorage } from '../../support/netns.js';

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-dns');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };
  const www = path.join(storage.dir, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'index.html'), 'beta answers\n');

  /** Runs busybox wget inside the "container" with its own /etc/resolv.conf and /etc/hosts. */
  function wgetInside(result: ContainerNetworkResult, url: string): string | undefined {
    const dir = fs.mkdtempSync(path.join(storage.dir, 'etc-'));
    fs.writeFileSync(path.join(dir, 'resolv.conf'), result.resolvConf);
    fs.writeFileSync(path.join(dir, 'hosts'), result.hostsFile);
    try {
      return sh(`nsenter --net=${result.netnsPath} unshare --mount sh -c 'mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/hosts /etc/hosts && busybox timeout 3 busybox wget -q -O - ${url}'`);
    } catch {
      return undefined;
    }
  }

  test('two containers on a named network reach each other by IP, name and alias', async () => {
    await createNetwork(paths, { name: 'app', subnets: ['10.91.7.0/24'] });
    const alpha = await setupContainerNetwork(paths, { containerId: 'a'.repeat(64), containerName: 'alpha', hostname: 'alpha', mode: parseNetworkOption(['app']), ports: [] });
    const beta = await setupContainerNetwork(paths, { containerId: 'b'.repeat(64), containerName: 'beta', hostname: 'beta', mode: parseNetworkOption(['app'], { aliases: ['web'] }), ports: [] });
    assert.deepEqual(alpha.dnsServers, ['10.91.7.1'], 'aardvark-dns on the gateway');
    assert.ok(alpha.dnsSearch.includes('dns.podman'));
    assert.match(alpha.resolvConf, /^nameserver 10\.91\.7\.1$/m);
    const stop = await startHttpd(beta.netnsPath!, www, 80);
    try {
      assert.equal(wgetInside(alpha, `http://${beta.ips[0]}/`), 'beta answers\n', 'by IP');
      assert.equal(wgetInside(alpha, 'http://beta/'), 'beta answers\n', 'by name');
      assert.equal(wgetInside(alpha, 'http://web/'), 'beta answers\n', 'by alias');
      assert.equal(wgetInside(alpha, `http://${'b'.repeat(12)}/`), 'beta answers\n', 'by short ID');
      assert.equal(wgetInside(alpha, 'http://nosuchname/'), undefined);
    } finally {
      await stop();
    }
    const pidFile = path.join(paths.runroot, 'networks', 'netavark', 'aardvark-dns', 'aardvark.pid');
    const aardvark = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(aardvark > 0 && fs.existsSync(`/proc/${aardvark}`), 'aardvark-dns runs');
    await teardownContainerNetwork(paths, 'a'.repeat(64));
    await teardownContainerNetwork(paths, 'b'.repeat(64));
    // The last container gone, aardvark-dns exits (or is a zombie of our namespace's init).
    for (let i = 0; i < 50 && isLive(aardvark); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(isLive(aardvark), false, 'aardvark-dns stopped after the last container');
  });

  test('an --internal network has no route out; a normal one does', async () => {
    // The "outside world": an address on a dummy interface of this namespace, with a web server.
    sh('ip link add outside0 type veth peer name outside1 && ip addr add 203.0.113.1/24 dev outside0 && ip link set outside0 up && ip link set outside1 up');
    const stopOutside = await startHttpd(`/proc/${process.pid}/ns/net`, www, 8000);
    try {
      await createNetwork(paths, { name: 'sealed', subnets: ['10.91.8.0/24'], internal: true });
      await createNetwork(paths, { name: 'open', subnets: ['10.91.9.0/24'] });
      const sealed = await setupContainerNetwork(paths, { containerId: 'c'.repeat(64), containerName: 'sealed1', hostname: 's', mode: parseNetworkOption(['sealed']), ports: [] });
      const open = await setupContainerNetwork(paths, { containerId: 'd'.repeat(64), containerName: 'open1', hostname: 'o', mode: parseNetworkOption(['open']), ports: [] });
      assert.doesNotMatch(sh(`nsenter --net=${sealed.netnsPath} ip route`), /default/);
      assert.match(sh(`nsenter --net=${open.netnsPath} ip route`), /default via 10\.91\.9\.1/);
      assert.equal(curl('http://203.0.113.1:8000/', { netns: open.netnsPath, timeoutSec: 2 }), 'beta answers\n');
      assert.equal(curl('http://203.0.113.1:8000/', { netns: sealed.netnsPath, timeoutSec: 1 }), undefined);
      await teardownContainerNetwork(paths, 'c'.repeat(64));
      await teardownContainerNetwork(paths, 'd'.repeat(64));
    } finally {
      await stopOutside();
      sh('ip link del outside0');
    }
  });
}

function isLive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}
