/**
 * `.volume` and `.network` units under a real systemd (test/support/sysbox.ts), together with the
 * `.container` units that reference them: a named volume is filled from the image (copy-up), its
 * data survives `systemctl restart` of the container unit, it cannot be removed while in use; two
 * containers on a `.network` reach each other by name through the network's DNS.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildImageLayout } from '../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../support/sysbox.js';

// Scripts live in the image so that the unit files need no shell quoting.
const COUNTER = `#!/bin/sh
echo "seed: $(cat /data/seed.txt)"
n=$(cat /data/count 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > /data/count
echo "count=$n"
trap 'exit 0' TERM
while :; do sleep 0.1; done
`;
const FETCH = `#!/bin/sh
for i in $(seq 1 100); do
  if page=$(wget -qO- http://server:8080/); then echo "fetched: $page"; exit 0; fi
  sleep 0.2
done
echo "server never answered" >&2
exit 1
`;

let box: Sysbox;
let image: string;
const units = '/etc/containers/systemd';

test.before(async () => {
  const layout = await buildImageLayout({
    busybox: true,
    files: {
      '/data/seed.txt': 'from-the-image',
      '/www/index.html': 'hello-from-server',
      '/bin/counter': { content: COUNTER, mode: 0o755 },
      '/bin/fetch': { content: FETCH, mode: 0o755 },
    },
  });
  box = await startSysbox({ name: 'vol-net-units' });
  await installBerthInSysbox(box);
  await box.startRegistry();
  image = await box.pushImage(layout, 'test/volnet:latest');
  await box.exec(['mkdir', '-p', units]);
});
test.after(async () => { await box?.stop(); });

async function writeUnit(name: string, text: string): Promise<void> {
  await box.exec(['tee', `${units}/${name}`], { input: text });
}

async function berth(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return box.exec(['/usr/local/bin/berth', ...args], { check: false });
}

test('.volume unit: copy-up from the image, data survives a restart of the container unit, rm refused while in use', async () => {
  await writeUnit('data.volume', '[Volume]\nLabel=tier=e2e\n');
  await writeUnit('counter.container', `[Container]\nImage=${image}\nNetwork=none\nVolume=data.volume:/data\nExec=/bin/counter\n`);
  await box.systemctl('daemon-reload');

  await box.systemctl('start', 'counter.service');
  await box.waitForState('counter.service', 'active');
  // The volume unit ran first (Requires/After) and made the volume berth's generator named.
  assert.equal((await box.systemctl('is-active', 'data-volume.service')).stdout.trim(), 'active');
  assert.equal((await berth('volume', 'exists', 'systemd-data')).exitCode, 0);
  await box.waitForJournal('counter.service', /seed: from-the-image/);
  await box.waitForJournal('counter.service', /count=1/);

  await box.systemctl('restart', 'counter.service');
  await box.waitForState('counter.service', 'active');
  await box.waitForJournal('counter.service', /count=2/);

  const rm = await berth('volume', 'rm', 'systemd-data');
  assert.notEqual(rm.exitCode, 0, 'a volume in use must not be removed');
  assert.match(rm.stderr, /systemd-data/);

  await box.systemctl('stop', 'counter.service');
  const mountpoint = (await berth('volume', 'inspect', 'systemd-data', '--format', '{{.Mountpoint}}')).stdout.trim();
  assert.equal((await box.exec(['cat', `${mountpoint}/count`])).stdout.trim(), '2', 'the data outlives the container');
  const removed = await berth('volume', 'rm', 'systemd-data');
  assert.equal(removed.exitCode, 0, removed.stderr);
});

test('.network unit: a client container reaches a server container by name', async () => {
  await writeUnit('backend.network', '[Network]\nLabel=tier=e2e\n');
  await writeUnit('server.container', `[Container]\nImage=${image}\nContainerName=server\nNetwork=backend.network\nRunInit=true\nExec=httpd -f -p 8080 -h /www\n`);
  await writeUnit('client.container', `[Unit]\nRequires=server.service\nAfter=server.service\n\n[Container]\nImage=${image}\nNetwork=backend.network\nExec=/bin/fetch\n\n[Service]\nRestart=no\n`);
  await box.systemctl('daemon-reload');

  await box.systemctl('start', 'server.service');
  await box.waitForState('server.service', 'active');
  assert.equal((await box.systemctl('is-active', 'backend-network.service')).stdout.trim(), 'active');
  const nets = await berth('network', 'ls', '--format', '{{.Name}}');
  assert.match(nets.stdout, /^systemd-backend$/m);

  await box.systemctl('start', 'client.service');
  await box.waitForJournal('client.service', /fetched: hello-from-server/);
  const status = await box.exec(['systemctl', 'show', '-p', 'ExecMainStatus', 'client.service']);
  assert.match(status.stdout, /ExecMainStatus=0/);

  await box.systemctl('stop', 'client.service', 'server.service');
  const left = await berth('ps', '-a', '--format', '{{.Names}}');
  assert.equal(left.stdout.trim(), '', `containers left: ${left.stdout}`);
});
