/**
 * The seed example with real containers: `berth run -d -p 8080:80 IMAGE httpd`, `curl 127.0.0.1:8080`,
 * `berth port`/`ps`, a named volume filled from the image (copy-up) and refused removal while used,
 * `rm` leaving no rule, lease, veth or namespace; then five containers publishing ports at once.
 * The image is pulled from a registry on 127.0.0.1 first; everything else runs under
 * `unshare --net --mount --cgroup --pid` with cgroup2 mounted, rooted at a child cgroup we create.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { tempStorage } from '../../support/netns.js';

const BERTH = fileURLToPath(new URL('../../../../bin/berth.js', import.meta.url));
const run = promisify(execFile);

/** Runs `script` (bash) in fresh net/mount/cgroup/pid namespaces; returns its output. */
async function inNamespaces(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const base = fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
  const cgroup = path.join(base, `berth-test-publish-${process.pid}`);
  fs.mkdirSync(cgroup, { recursive: true });
  const prelude = 'set -u; mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && ip link set lo up || exit 99\n';
  const child = spawn('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec unshare --net --mount --cgroup --pid --fork --mount-proc --kill-child bash -c "$0"`, prelude + script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // The engine made child cgroups inside; remove the tree bottom-up once its processes are gone.
  for (let i = 0; i < 100 && fs.existsSync(cgroup); i++) {
    for (const dir of cgroupTree(cgroup).reverse()) {
      try { fs.rmdirSync(dir); } catch { /* still busy */ }
    }
    if (fs.existsSync(cgroup)) await new Promise((r) => setTimeout(r, 20));
  }
  return { code, output };
}

function cgroupTree(root: string): string[] {
  const dirs = [root];
  for (let i = 0; i < dirs.length; i++) {
    for (const entry of fs.readdirSync(dirs[i], { withFileTypes: true })) if (entry.isDirectory()) dirs.push(path.join(dirs[i], entry.name));
  }
  return dirs;
}

/** The value printed after "KEY=" on its own line. */
function field(output: string, key: string): string {
  const line = output.split('\n').find((l) => l.startsWith(`${key}=`));
  assert.ok(line !== undefined, `no ${key}= in output:\n${output}`);
  return line.slice(key.length + 1);
}

let registry: TestRegistry;
const storage = tempStorage('net-containers');
let env: NodeJS.ProcessEnv;
let image: string;
let berth: string;

before(async () => {
  registry = await startRegistry();
  image = await pushImage(await buildImageLayout({ busybox: true, files: { '/www/index.html': 'hello from web\n' } }), registry.host, 'test/web');
  env = { ...process.env, CONTAINERS_REGISTRIES_CONF: writeInsecureRegistriesConf(storage.dir, [registry.host]) };
  berth = `${process.execPath} ${BERTH} --root=${storage.root} --runroot=${storage.runroot}`;
  await run(process.execPath, [BERTH, `--root=${storage.root}`, `--runroot=${storage.runroot}`, 'pull', '-q', image], { env });
});

after(async () => {
  await registry?.stop();
  storage.cleanup();
});

test('run -d -p 8080:80: curl answers, port/ps show it, rm leaves no rule, lease or namespace', async () => {
  const { code, output } = await inNamespaces(`
    ${berth} run -d -p 8080:80 -p 127.0.0.1::80 -v webdata:/www --name web ${image} httpd -f -p 80 -h /www >/dev/null || exit 10
    for i in $(seq 50); do body=$(curl -sS --max-time 2 http://127.0.0.1:8080/ 2>/dev/null) && break; sleep 0.1; done
    echo "BODY=$body"
    echo "PORTS=$(${berth} port web | tr '\\n' ';')"
    echo "PS=$(${berth} ps | tail -n 1)"
    echo "VOLRM=$(${berth} volume rm webdata 2>&1)"
    ${berth} rm -f -t 0 web >/dev/null || exit 11
    echo "RULES=$(iptables-save | grep -cE -- '--dport|--to-destination')"
    echo "NETNS=$(ls ${storage.runroot}/netns | wc -l)"
    echo "VETH=$(ip -o link show type veth | wc -l)"
    echo "CURL_AFTER=$(curl -sS --max-time 1 http://127.0.0.1:8080/ >/dev/null 2>&1 && echo answered || echo refused)"
  `, env);
  assert.equal(code, 0, output);
  assert.equal(field(output, 'BODY'), 'hello from web', 'served from the volume, filled from the image');
  assert.match(field(output, 'PORTS'), /^80\/tcp -> 0\.0\.0\.0:8080;80\/tcp -> 127\.0\.0\.1:\d+;$/);
  assert.match(field(output, 'PS'), /0\.0\.0\.0:8080->80\/tcp/);
  assert.match(field(output, 'VOLRM'), /volume "webdata" is being used by container\(s\) web/);
  assert.equal(field(output, 'RULES'), '0');
  assert.equal(field(output, 'NETNS'), '0');
  assert.equal(field(output, 'VETH'), '0');
  assert.equal(field(output, 'CURL_AFTER'), 'refused');
  const leases = JSON.parse(fs.readFileSync(path.join(storage.root, 'networks', 'ipam', 'berth.json'), 'utf8'));
  assert.deepEqual(leases.leases, {});
});

test('five containers publishing ports at once: each answers, all gone after rm', async () => {
  const { code, output } = await inNamespaces(`
    for i in 1 2 3 4 5; do
      ${berth} run -d -p 810$i:80 --name c$i ${image} sh -c "echo c$i > /tmp/index.html; exec httpd -f -p 80 -h /tmp" >/dev/null &
    done
    wait
    for i in 1 2 3 4 5; do
      for t in $(seq 50); do b=$(curl -sS --max-time 2 http://127.0.0.1:810$i/ 2>/dev/null) && break; sleep 0.1; done
      echo "C$i=$b"
    done
    echo "IPS=$(cat ${storage.root}/networks/ipam/berth.json | grep -c containerId)"
    ${berth} rm -f -t 0 c1 c2 c3 c4 c5 >/dev/null || exit 12
    echo "RULES=$(iptables-save | grep -cE -- '--dport|--to-destination')"
    echo "NETNS=$(ls ${storage.runroot}/netns | wc -l)"
    echo "LEASES=$(grep -c containerId ${storage.root}/networks/ipam/berth.json)"
  `, env);
  assert.equal(code, 0, output);
  for (let i = 1; i <= 5; i++) assert.equal(field(output, `C${i}`), `c${i}`, output);
  assert.equal(field(output, 'IPS'), '5');
  assert.equal(field(output, 'RULES'), '0');
  assert.equal(field(output, 'NETNS'), '0');
  assert.equal(field(output, 'LEASES'), '0');
});
