/**
 * `berth pod …` and `run --pod` against real crun and netavark, inside a private network
 * namespace (test/support/netns.ts) and the runtime tests' mount/cgroup/pid namespace.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { curl, insideTestNetns } from '../../support/netns.js';
import { startWorld, type World } from '../runtime/harness.js';

// ~80 s on an idle 2-core machine; the limit leaves room for a loaded one (each berth call then costs seconds).
if (await insideTestNetns(import.meta.url, { timeoutMs: 300_000 })) {
  // An httpd that exits on SIGTERM (busybox as PID 1 ignores it) serving /www.
  const WEB = ['sh', '-c', 'trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'];
  const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];
  let w: World;
  test.before(async () => {
    w = await startWorld('pod', { web: { busybox: true, files: { '/www/index.html': 'hello from the pod\n' } } });
  });
  test.after(async () => { await w?.stop(); });

  async function ok(args: string[]): Promise<string> {
    const r = await w.berth(args);
    assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
  const podsDir = (): string[] => (fs.existsSync(`${w.dir}/root/pods`) ? fs.readdirSync(`${w.dir}/root/pods`).filter((e) => /^[0-9a-f]{64}$/.test(e)) : []);
  const containerIds = (): string[] => (fs.existsSync(`${w.dir}/root/containers`) ? fs.readdirSync(`${w.dir}/root/containers`).filter((e) => /^[0-9a-f]{64}$/.test(e)) : []);

  test('a sidecar reaches the web container over localhost; ports are published at the pod; namespaces shared', async (t) => {
    const t0 = Date.now();
    const mark = (label: string): void => t.diagnostic(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const pidfile = path.join(w.dir, 'web.pid');
    const idfile = path.join(w.dir, 'web.pod-id');
    const podId = (await ok(['pod', 'create', '--name', 'web', '-p', '18080:8080', `--infra-conmon-pidfile=${pidfile}`, `--pod-id-file=${idfile}`])).trim();
    assert.match(podId, /^[0-9a-f]{64}$/);
    assert.equal(fs.readFileSync(idfile, 'utf8').trim(), podId);
    assert.equal((await ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}'])).trim(), 'web Created 1');
    assert.equal((await w.berth(['pod', 'exists', 'web'])).exitCode, 0);

    mark('pod created');
    await ok(['pod', 'start', 'web']);
    const infraPid = Number(fs.readFileSync(pidfile, 'utf8'));
    const comm = await w.ns.exec(['cat', `/proc/${infraPid}/comm`]);
    assert.equal(comm.stdout.trim(), 'catatonit', 'the pid file names the running infra');

    mark('pod started');
    await ok(['run', '-d', '--name', 'httpd', '--pod', 'web', w.images.web, ...WEB]);
    mark('web running');
    // The sidecar fetches over 127.0.0.1 (same network namespace), sees the pod's hostname and IPC/UTS.
    let page = '';
    for (let i = 0; i < 50 && !page.includes('hello'); i++) {
      const r = await w.berth(['run', '--rm', '--pod-id-file', idfile, w.images.web, 'wget', '-qO-', 'http://127.0.0.1:8080/']);
      page = r.stdout;
      if (!page.includes('hello')) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(page, 'hello from the pod\n');
    mark('sidecar fetched');
    const NS = 'hostname; for n in ipc uts net; do readlink /proc/self/ns/$n; done';
    const a = await ok(['run', '--rm', '--pod', 'web', w.images.web, 'sh', '-c', NS]);
    const b = await ok(['exec', 'httpd', 'sh', '-c', NS]);
    assert.equal(a, b, 'two containers of the pod share hostname, IPC, UTS and network namespaces');
    assert.equal(a.split('\n')[0], 'web');
    assert.notEqual(a.split('\n')[1], fs.readlinkSync('/proc/self/ns/ipc'), 'the pod has its own IPC namespace, not the host\'s');

    mark('namespaces compared');
    // Published at the pod: reachable from this (test) network namespace through the infra's port.
    assert.equal(curl('http://127.0.0.1:18080/'), 'hello from the pod\n');

    const inspect = JSON.parse(await ok(['pod', 'inspect', 'web'])) as { Id: string; State: string; NumContainers: number; SharedNamespaces: string[]; Containers: { Name: string }[] };
    assert.equal(inspect.Id, podId);
    assert.equal(inspect.State, 'Running');
    assert.deepEqual(inspect.SharedNamespaces, ['net', 'ipc', 'uts']);
    assert.deepEqual(inspect.Containers.map((c) => c.Name).sort(), [`${podId.slice(0, 12)}-infra`, 'httpd']);

    mark('port and inspect checked');
    // stop: the containers, then the infra; the port is gone.
    await ok(['pod', 'stop', '--pod-id-file', idfile, '-t', '2']);
    assert.equal((await ok(['pod', 'ps', '--format', '{{.Status}}'])).trim(), 'Exited');
    assert.equal(curl('http://127.0.0.1:18080/', { timeoutSec: 1 }), undefined);

    mark('pod stopped');
    // start again: infra first, then the stopped member.
    await ok(['pod', 'start', 'web']);
    let again: string | undefined;
    for (let i = 0; i < 50 && !again; i++) { again = curl('http://127.0.0.1:18080/', { timeoutSec: 1 }); if (!again) await new Promise((res) => setTimeout(res, 100)); }
    assert.equal(again, 'hello from the pod\n');

    mark('pod restarted');
    // rm -f: everything goes, nothing is left (mounts, crun state, netns, records).
    await ok(['pod', 'rm', '-f', '-t', '2', 'web']);
    assert.equal((await w.berth(['pod', 'exists', 'web'])).exitCode, 1);
    assert.deepEqual(await w.leftovers(), []);
    assert.deepEqual(podsDir(), []);
    const rm = await w.berth(['pod', 'rm', '--ignore', '--pod-id-file', idfile]);
    assert.equal(rm.exitCode, 0, rm.stderr);
  });

  test('pod volumes reach every container; a container\'s own mount at the same place wins', async () => {
    // --infra-image: the infra runs from an image (catatonit bind-mounted from the host).
    await ok(['pod', 'create', '--name', 'vols', '-v', 'podvol:/data', '--network', 'none', '--infra-image', w.images.web, '--infra-name', 'vols-infra']);
    await ok(['run', '--rm', '--pod', 'vols', w.images.web, 'sh', '-c', 'echo shared > /data/file']);
    assert.equal(await ok(['run', '--rm', '--pod', 'vols', w.images.web, 'cat', '/data/file']), 'shared\n');
    assert.equal((await ok(['ps', '--filter', 'name=vols-infra', '--format', '{{.Image}} {{.State}}'])).trim(), `${w.images.web} running`);
    assert.equal(await ok(['run', '--rm', '--pod', 'vols', '-v', 'other:/data', w.images.web, 'sh', '-c', 'ls /data | wc -l']), '0\n');
    await ok(['pod', 'rm', '-f', 'vols']);
    await ok(['volume', 'rm', 'podvol', 'other']);
    assert.deepEqual(await w.leftovers(), []);
  });

  test('bad input: a pod name clash makes nothing; --pod naming a missing pod fails naming it', async () => {
    await ok(['pod', 'create', '--name', 'dup', '-p', '18090:80']);
    const before = containerIds().sort();
    const clash = await w.berth(['pod', 'create', '--name', 'dup', '-p', '18091:80']);
    assert.notEqual(clash.exitCode, 0);
    assert.match(clash.stderr, /^Error: pod name "dup" is already in use/m);
    assert.deepEqual(containerIds().sort(), before, 'no infra container was made');
    assert.equal(podsDir().length, 1);

    const missing = await w.berth(['run', '--rm', '--pod', 'ghost', w.images.web, 'true']);
    assert.notEqual(missing.exitCode, 0);
    assert.match(missing.stderr, /no pod with name or ID "ghost" found/);
    assert.deepEqual(containerIds().sort(), before);

    const withPort = await w.berth(['run', '--rm', '--pod', 'dup', '-p', '9000:80', w.images.web, 'true']);
    assert.notEqual(withPort.exitCode, 0);
    assert.match(withPort.stderr, /--publish cannot be used for a container in pod dup/);

    // A published port already taken: the start fails naming it; the pod keeps no namespace, no netns.
    await ok(['pod', 'start', 'dup']);
    await ok(['pod', 'create', '--name', 'taken', '-p', '18090:80']);
    const taken = await w.berth(['pod', 'start', 'taken']);
    assert.notEqual(taken.exitCode, 0);
    assert.match(taken.stderr, /18090/);
    assert.equal((await ok(['pod', 'inspect', 'taken', '--format', '{{.State}}'])).trim(), 'Created');
    const dupIds = (await ok(['pod', 'inspect', 'dup', '--format', '{{.Id}} {{.InfraContainerID}}'])).trim().split(' ');
    const mounted = (await w.leftovers()).filter((l) => !l.startsWith('dir: ') && !dupIds.some((id) => l.includes(id)));
    assert.deepEqual(mounted, [], 'only the running pod holds mounts, crun state and a netns');
    await ok(['pod', 'rm', 'taken']);
    await ok(['pod', 'stop', 'dup']);

    const badShare = await w.berth(['pod', 'create', '--name', 'x', '--share', 'pid']);
    assert.match(badShare.stderr, /--share "pid"/);
    await ok(['pod', 'rm', 'dup']);
    assert.deepEqual(podsDir(), []);
    assert.deepEqual(await w.leftovers(), []);
  });

  test('starting a member of a stopped pod starts its infra first; rm of a pod with running containers needs --force', async () => {
    await ok(['pod', 'create', '--name', 'busy', '--network', 'none']);
    await ok(['create', '--name', 'worker', '--pod', 'busy', w.images.web, ...SLEEPER]);
    await ok(['pod', 'stop', 'busy']);
    await ok(['start', 'worker']);
    assert.equal((await ok(['pod', 'inspect', 'busy', '--format', '{{.State}}'])).trim(), 'Running', 'infra and worker both run');
    const refused = await w.berth(['pod', 'rm', 'busy']);
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /pod busy has running containers \(worker\)/);
    await ok(['pod', 'rm', '-f', 'busy']);
    assert.deepEqual(await w.leftovers(), []);
    assert.deepEqual(podsDir(), []);
  });

  test('--exit-policy=stop: removing the last container stops the pod; continue keeps it running', async () => {
    await ok(['pod', 'create', '--name', 'quits', '--exit-policy', 'stop', '--network', 'none']);
    await ok(['pod', 'create', '--name', 'stays', '--network', 'none']);
    for (const pod of ['quits', 'stays']) {
      await ok(['run', '-d', '--name', `${pod}-a`, '--pod', pod, w.images.web, ...SLEEPER]);
      await ok(['run', '-d', '--name', `${pod}-b`, '--pod', pod, w.images.web, ...SLEEPER]);
    }
    const status = async (pod: string): Promise<string> => (await ok(['pod', 'inspect', pod, '--format', '{{.State}}'])).trim();
    await ok(['rm', '-f', 'quits-a', 'stays-a']);
    assert.equal(await status('quits'), 'Running', 'one container is still running');
    await ok(['rm', '-f', 'quits-b', 'stays-b']);
    assert.equal(await status('quits'), 'Exited', 'the last container gone: the infra stopped');
    assert.equal(await status('stays'), 'Running');
    await ok(['pod', 'rm', '-f', 'quits', 'stays']);
    assert.deepEqual(await w.leftovers(), []);
    assert.deepEqual(podsDir(), []);
  });
}
