/**
 * The `.pod` unit kind end to end under a real systemd (test/support/sysbox.ts): a pod with a web
 * container (busybox httpd) and a sidecar that fetches from it over 127.0.0.1, all from unit
 * files. Starting the pod unit starts both (the pod's Wants=); the pod unit's Main PID is the
 * infra (PIDFile= from --infra-conmon-pidfile); the port is published at the pod; stopping the
 * pod unit stops both and leaves nothing behind, as Quadlet does.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildImageLayout } from '../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../support/sysbox.js';

const WEB = ['sh', '-c', 'trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'];
const SIDECAR = ['sh', '-c', 'trap "exit 0" TERM; while :; do wget -qO- http://127.0.0.1:8080/ 2>/dev/null; sleep 0.3; done'];
const UNITS = '/etc/containers/systemd';

let box: Sysbox;
let web: string;
let sidecar: string;
test.before(async () => {
  const files = { '/www/index.html': 'hello from the pod\n' };
  const webLayout = await buildImageLayout({ busybox: true, files, entrypoint: WEB });
  const sidecarLayout = await buildImageLayout({ busybox: true, files, entrypoint: SIDECAR });
  box = await startSysbox({ name: 'pod' });
  await installBerthInSysbox(box);
  await box.startRegistry();
  web = await box.pushImage(webLayout, 'test/pod-web:latest');
  sidecar = await box.pushImage(sidecarLayout, 'test/pod-sidecar:latest');
  await box.exec(['mkdir', '-p', UNITS]);
});
test.after(async () => { await box?.stop(); });

async function writeUnit(name: string, text: string): Promise<void> {
  await box.exec(['tee', `${UNITS}/${name}`], { input: text });
}

async function show(unit: string, props: string): Promise<Record<string, string>> {
  const r = await box.exec(['systemctl', 'show', '-p', props, unit]);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('.pod unit: starting it starts web + sidecar sharing localhost; stopping it stops both, nothing left', async (t) => {
  const t0 = Date.now();
  const mark = (label: string): void => t.diagnostic(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await writeUnit('app.pod', '[Pod]\nPodName=app\nPublishPort=18080:8080\n');
  await writeUnit('web.container', `[Container]\nImage=${web}\nPod=app.pod\n`);
  await writeUnit('sidecar.container', `[Container]\nImage=${sidecar}\nPod=app.pod\n`);
  await box.systemctl('daemon-reload');

  mark('units written');
  await box.systemctl('start', 'app-pod.service');
  mark('pod unit started');
  await box.waitForState('web.service', 'active', { timeoutMs: 60000 });
  await box.waitForState('sidecar.service', 'active', { timeoutMs: 60000 });
  mark('web and sidecar active');
  const pod = await show('app-pod.service', 'ActiveState,MainPID,Type,ControlGroup');
  assert.equal(pod.ActiveState, 'active');
  assert.equal(pod.Type, 'forking');
  const infraComm = (await box.exec(['cat', `/proc/${pod.MainPID}/comm`])).stdout.trim();
  assert.equal(infraComm, 'catatonit', 'the pod unit\'s Main PID is the infra');
  // In the pod unit's cgroup: the infra, and crun in the foreground under a tiny sh (the conmon role); no node.
  const procs = await box.sh(`for f in $(find /sys/fs/cgroup${pod.ControlGroup} -name cgroup.procs); do cat $f; done | xargs -r -n1 sh -c 'cat /proc/$0/comm' 2>/dev/null; true`);
  assert.ok(procs.stdout.split('\n').includes('catatonit'), procs.stdout);
  assert.ok(!/node|berth/.test(procs.stdout), `nothing of berth stays resident:\n${procs.stdout}`);

  // The sidecar reaches the web container over 127.0.0.1: it logs the page to the journal.
  await eventually('the sidecar to log the page', async () => ((await box.journal('sidecar.service')).includes('hello from the pod') ? true : undefined));
  // Ports are published at the pod: reachable on the box's 127.0.0.1.
  const fetched = await eventually('the published port', async () => {
    const r = await box.hostExecInNet(['curl', '-sS', '--max-time', '2', 'http://127.0.0.1:18080/']).catch(() => undefined);
    return r && r.exitCode === 0 ? r.stdout : undefined;
  });
  assert.equal(fetched, 'hello from the pod\n');
  mark('sidecar and published port answered');

  const podPs = await box.exec(['/usr/local/bin/berth', 'pod', 'ps', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}']);
  assert.equal(podPs.stdout, 'app Running 3\n');

  await box.systemctl('stop', 'app-pod.service');
  mark('pod unit stopped');
  for (const unit of ['app-pod.service', 'web.service', 'sidecar.service']) {
    assert.equal((await show(unit, 'ActiveState')).ActiveState, 'inactive', `${unit} stopped with the pod`);
  }
  const left = await box.sh('/usr/local/bin/berth ps -a -q; /usr/local/bin/berth pod ps -q; ls -A /var/lib/berth/pods | grep -v infra-rootfs; grep -c " /var/lib/berth/\\| /run/berth/" /proc/self/mountinfo; true', { check: false });
  assert.equal(left.stdout.trim(), '0', `leftovers:\n${left.stdout}`);

  // And again (pod create --replace in ExecStartPre). This time the containers' units are stopped
  // one by one: with Quadlet's --exit-policy=stop the pod unit stops once the last one is gone.
  await box.systemctl('start', 'app-pod.service');
  await box.waitForState('sidecar.service', 'active', { timeoutMs: 60000 });
  await box.waitForState('web.service', 'active', { timeoutMs: 60000 });
  await box.systemctl('stop', 'sidecar.service');
  assert.equal((await show('app-pod.service', 'ActiveState')).ActiveState, 'active', 'web still runs: the pod stays');
  await box.systemctl('stop', 'web.service');
  await box.waitForState('app-pod.service', 'inactive', { timeoutMs: 30000 });
  mark('second cycle: pod unit stopped by its exit policy');
  const after = await box.sh('/usr/local/bin/berth ps -a -q; /usr/local/bin/berth pod ps -q; grep -c " /var/lib/berth/\\| /run/berth/" /proc/self/mountinfo; true', { check: false });
  assert.equal(after.stdout.trim(), '0', `leftovers:\n${after.stdout}`);
});
