/**
 * `.network` and `.volume` units as Quadlet files: the generator's ExecStart lines, run as systemd
 * would run them (twice: a restarted unit must succeed with --ignore), give the network and the
 * volumes the file describes. (The same under a real systemd is the end-to-end tier's job.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireNetwork } from '../../../src/network/index.js';
import { splitWords } from '../../../src/unit/index.js';
import { requireVolume } from '../../../src/volume/index.js';
import { insideTestNetns, tempStorage } from '../../support/netns.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

if (await insideTestNetns(import.meta.url)) {
  const storage = tempStorage('net-quadlet');
  after(() => storage.cleanup());
  const paths = { root: storage.root, runroot: storage.runroot, rootless: false as const };
  const units = path.join(storage.dir, 'units');
  fs.mkdirSync(units);
  fs.writeFileSync(path.join(units, 'web.network'), '[Network]\nSubnet=10.91.60.0/24\nGateway=10.91.60.254\nIPRange=10.91.60.128/25\nLabel=app=web\nOptions=mtu=1400\nInternal=true\nDNS=192.0.2.53\nIPv6=true\n');
  fs.writeFileSync(path.join(units, 'data.volume'), '[Volume]\nUser=1000\nGroup=1000\nLabel=tier=db\nCopy=false\n');
  fs.writeFileSync(path.join(units, 'named.volume'), '[Volume]\nVolumeName=scratchy\nDevice=tmpfs\nType=tmpfs\nOptions=size=4m\n');

  test('generated ExecStart lines create what the unit files say, idempotently', async () => {
    const { stdout } = await run(path.join(repo, 'generators', 'berth-generator'), ['--dryrun'], { env: { ...process.env, BERTH_UNIT_DIRS: units, BERTH_ENGINE: path.join(repo, 'bin', 'berth.js') } });
    const execStarts = stdout.split('\n').filter((l) => l.startsWith('ExecStart=')).map((l) => splitWords(l.slice('ExecStart='.length)));
    assert.equal(execStarts.length, 3, stdout);
    for (const words of execStarts) {
      // words[0] is the engine (bin/berth.js); the global storage flags come first, as a unit's drop-in would add them.
      const argv = [words[0], `--root=${paths.root}`, `--runroot=${paths.runroot}`, ...words.slice(1)];
      await run(process.execPath, argv);
      // A restarted unit runs it again: --ignore makes that a success (checked once, on the network).
      if (words.includes('network')) await run(process.execPath, argv);
    }
    const web = await requireNetwork(paths, 'systemd-web');
    assert.equal(web.internal, true);
    assert.equal(web.ipv6_enabled, true);
    assert.deepEqual(web.subnets[0], { subnet: '10.91.60.0/24', gateway: '10.91.60.254', lease_range: { start_ip: '10.91.60.128', end_ip: '10.91.60.254' } });
    assert.match(web.subnets[1].subnet, /^fd.*\/64$/);
    assert.deepEqual(web.labels, { app: 'web' });
    assert.deepEqual(web.options, { mtu: '1400' });
    assert.deepEqual(web.network_dns_servers, ['192.0.2.53']);

    const data = await requireVolume(paths, 'systemd-data');
    assert.deepEqual(data.labels, { tier: 'db' });
    assert.equal(data.needsCopyUp, false, 'Copy=false');
    const st = fs.statSync(data.mountpoint);
    assert.deepEqual([st.uid, st.gid], [1000, 1000], 'User=/Group=');

    const scratch = await requireVolume(paths, 'scratchy');
    assert.deepEqual(scratch.options, { device: 'tmpfs', type: 'tmpfs', o: 'size=4m' });
  });
}
