/**
 * `berth volume …` and `berth network …` through the real binary; typed volumes (tmpfs, bind)
 * mounted at use and unmounted by the last user. Inside private namespaces (mounts stay there).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseNetworkOption, setupContainerNetwork, teardownContainerNetwork } from '../../../src/network/index.js';
import { acquireVolume, releaseVolume, removeVolume, requireVolume } from '../../../src/volume/index.js';
import { main } from '../../../src/cli/main.js';
import { insideTestNetns, sh, tempStorage } from '../../support/netns.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bin/berth.js');

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('volume-cli');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };
  /**
   * Most calls run the CLI in this process (same parser and handlers, no 1-2 s node start on a busy
   * machine); `berthBinary` runs the real executable for exit codes and stderr.
   */
  const berth = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
    process.stdout.write = ((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => { err.push(String(chunk)); return true; }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['--root', paths.root, '--runroot', paths.runroot, ...args]);
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      process.exitCode = undefined;
    }
    return { stdout: out.join(''), stderr: err.join(''), code };
  };
  const berthBinary = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, '--root', paths.root, '--runroot', paths.runroot, ...args], { encoding: 'utf8' });
    // berth exits 0, 1 (exists: no) or 125; anything else is a crash worth seeing in full.
    if (r.status !== 0 && r.status !== 125 && !(r.status === 1 && args.includes('exists'))) {
      throw new Error(`berth ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
    }
    return { stdout: r.stdout, stderr: r.stderr, code: r.status };
  };

  test('berth volume: create, ls, inspect, exists, rm, prune', async () => {
    // The real executable: output, exit codes and one-line errors.
    assert.deepEqual(berthBinary('volume', 'create', '--label', 'app=web', '--opt', 'o=uid=1000,gid=1000', 'data'), { stdout: 'data\n', stderr: '', code: 0 });
    assert.deepEqual(berthBinary('volume', 'create', 'data'), { stdout: '', stderr: 'Error: volume "data" already exists\n', code: 125 });
    assert.equal(berthBinary('volume', 'exists', 'nope').code, 1);

    assert.equal((await berth('volume', 'create', '--ignore', 'data')).code, 0);
    const anon = (await berth('volume', 'create')).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.equal((await berth('volume', 'ls', '-q')).stdout, [anon, 'data'].sort().join('\n') + '\n');
    assert.match((await berth('volume', 'ls')).stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+/);
    const [info] = JSON.parse((await berth('volume', 'inspect', 'data')).stdout);
    assert.equal(info.Name, 'data');
    assert.equal(info.Mountpoint, path.join(paths.root, 'volumes', 'data', '_data'));
    assert.deepEqual(info.Labels, { app: 'web' });
    assert.equal(fs.statSync(info.Mountpoint).uid, 1000);
    assert.equal((await berth('volume', 'inspect', '--format', '{{.Name}} {{.Labels.app}}', 'data')).stdout, 'data web\n');
    assert.equal((await berth('volume', 'ls', '--filter', 'label=app=web', '--format', '{{.Name}}')).stdout, 'data\n');
    assert.equal((await berth('volume', 'exists', 'data')).code, 0);
    const missing = await berth('volume', 'inspect', 'nope');
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /no volume with name "nope" found/);
    assert.equal((await berth('volume', 'create', '--opt', 'type=ext4', 'x')).stderr, 'Error: volume "x": type=ext4 needs device=\n');
    // Quadlet's spellings: bare --opt nocopy, User=/Group= as o=uid=,gid=.
    assert.equal((await berth('volume', 'create', '--opt', 'nocopy', '--opt', 'o=uid=7,gid=8', 'quadlet-style')).code, 0);
    const [q] = JSON.parse((await berth('volume', 'inspect', 'quadlet-style')).stdout);
    assert.equal(q.NeedsCopyUp, false);
    assert.equal(fs.statSync(q.Mountpoint).gid, 8);
    assert.equal((await berth('volume', 'prune', '--filter', 'label=app=web')).stdout, 'data\n');
    assert.equal((await berth('volume', 'rm', anon, 'quadlet-style')).stdout, `${anon}\nquadlet-style\n`);
    assert.equal((await berth('volume', 'ls', '-q')).stdout, '');
  });

  test('berth network: create, ls, inspect, exists, rm, prune', async () => {
    assert.deepEqual(berthBinary('network', 'create', '--subnet', '10.91.50.0/24', '--label', 'team=a', 'front'), { stdout: 'front\n', stderr: '', code: 0 });
    assert.deepEqual(berthBinary('network', 'create', '--subnet', '10.91.50.128/25', 'back'),
      { stdout: '', stderr: 'Error: subnet 10.91.50.128/25 overlaps subnet 10.91.50.0/24 of network "front"\n', code: 125 });
    assert.equal(berthBinary('network', 'exists', 'nope').code, 1);

    assert.equal((await berth('network', 'create', '--internal', '--disable-dns', 'back')).code, 0);
    assert.equal((await berth('network', 'ls', '-q')).stdout, 'berth\nback\nfront\n');
    const list = JSON.parse((await berth('network', 'ls', '--format', 'json')).stdout);
    assert.deepEqual(list.map((n: { name: string }) => n.name), ['berth', 'back', 'front']);
    const [front] = JSON.parse((await berth('network', 'inspect', 'front')).stdout);
    assert.deepEqual(front.subnets, [{ subnet: '10.91.50.0/24', gateway: '10.91.50.1' }]);
    assert.equal(front.network_interface, 'berth1');
    assert.equal((await berth('network', 'inspect', '--format', '{{.Name}} {{.Internal}} {{.DNSEnabled}}', 'back')).stdout, 'back true false\n');
    assert.equal((await berth('network', 'ls', '--filter', 'label=team=a', '-q')).stdout, 'front\n');
    assert.equal((await berth('network', 'exists', 'front')).code, 0);
    assert.equal((await berth('network', 'rm', 'nope')).stderr, 'Error: network "nope" not found\n');
    assert.equal((await berth('network', 'create', '--ignore', 'front')).code, 0);
    // In use by a container whose network is set up: refused, named.
    await setupContainerNetwork(paths, { containerId: 'd'.repeat(64), containerName: 'user1', hostname: 'u', mode: parseNetworkOption(['front']), ports: [] });
    assert.deepEqual(await berth('network', 'rm', 'front'),
      { stdout: '', stderr: 'Error: network "front" is in use by 1 container(s): dddddddddddd (use -f to remove them too)\n', code: 125 });
    assert.equal((await berth('network', 'prune')).stdout, 'back\n', 'prune keeps networks in use');
    const [inspected] = JSON.parse((await berth('network', 'inspect', 'front')).stdout);
    assert.deepEqual(Object.keys(inspected.containers), ['d'.repeat(64)]);
    await teardownContainerNetwork(paths, 'd'.repeat(64));
    assert.equal((await berth('network', 'prune')).stdout, 'front\n');
    assert.equal((await berth('network', 'ls', '-q')).stdout, 'berth\n');
  });

  test('typed volumes: tmpfs and bind mounted by the first user, unmounted by the last', async () => {
    assert.equal((await berth('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m,mode=0700', 'scratch')).code, 0);
    const scratch = await requireVolume(paths, 'scratch');
    const mounted = () => sh(`findmnt -n -o FSTYPE,OPTIONS ${scratch.mountpoint} || true`).trim();
    assert.equal(mounted(), '', 'not mounted before use');
    assert.equal(await acquireVolume(paths, scratch, 'c1'), scratch.mountpoint);
    await acquireVolume(paths, scratch, 'c2');
    assert.match(mounted(), /^tmpfs .*size=2048k.*mode=700/);
    fs.writeFileSync(path.join(scratch.mountpoint, 'f'), 'x');
    await releaseVolume(paths, scratch, 'c1');
    assert.match(mounted(), /^tmpfs/, 'still used by c2');
    await assert.rejects(removeVolume(paths, 'scratch'), /volume "scratch" is being used/);
    await releaseVolume(paths, scratch, 'c2');
    assert.equal(mounted(), '', 'last user unmounts');
    assert.equal(fs.existsSync(path.join(scratch.mountpoint, 'f')), false);

    const source = path.join(storage.dir, 'bind-src');
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'hello'), 'from the host\n');
    assert.equal((await berth('volume', 'create', '--opt', 'type=bind', '--opt', `device=${source}`, 'hostdir')).code, 0);
    const hostdir = await requireVolume(paths, 'hostdir');
    await acquireVolume(paths, hostdir, 'c3');
    assert.equal(fs.readFileSync(path.join(hostdir.mountpoint, 'hello'), 'utf8'), 'from the host\n');
    const rm = await berth('volume', 'rm', '-f', 'hostdir');
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(fs.readFileSync(path.join(source, 'hello'), 'utf8'), 'from the host\n', 'removing a bind volume keeps the source');

    assert.equal((await berth('volume', 'create', '--opt', 'type=ext4', '--opt', `device=${path.join(storage.dir, 'no-such-device')}`, 'broken')).code, 0);
    await assert.rejects(acquireVolume(paths, await requireVolume(paths, 'broken'), 'c4'), /cannot mount volume "broken"/);
  });
}
