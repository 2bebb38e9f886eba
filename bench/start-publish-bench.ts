/**
 * bench/start-publish: start latency of a container publishing a port (`-p 18080:80`, default
 * bridge network through netavark), berth against Podman 4.3 (netavark backend) in one hyperfine
 * run, with the --network=none pair and netavark's own setup + teardown of one container as
 * reference. bench/start-publish starts this inside a private network + mount namespace; this
 * refuses to run anywhere else. The engines then run inside the runtime tests' private
 * mount/cgroup/pid namespace (the host's cgroups are hybrid, see DESIGN.md), which keeps that
 * network namespace. Appends the "## start with a published port" section to bench/RESULTS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/support/registry.js';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf } from '../test/support/images.js';
import { startNamespace } from '../test/support/ns.js';

const runs = Number(process.argv[2] ?? 10);
// As under systemd (a unit's environment is clean): Node loads the file NODE_EXTRA_CA_CERTS names at every
// start (~85 ms here), see bench/start.
delete process.env.NODE_EXTRA_CA_CERTS;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const berthBin = path.join(repo, 'bin', 'berth.js');
const NETAVARK = '/usr/lib/podman/netavark';
const PORT = 18080;

interface Row { name: string; median: number; mean: number; min: number; max: number }

function stats(name: string, times: number[]): Row {
  const s = [...times].sort((a, b) => a - b);
  return { name, median: s[Math.floor(s.length / 2)], mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0], max: s[s.length - 1] };
}

function assertPrivateNetns(): void {
  const host = process.env.BERTH_PUBBENCH_HOST_NETNS;
  const mine = fs.readlinkSync('/proc/self/ns/net');
  if (!host || host === mine) throw new Error(`refusing to run in the host's network namespace (${mine}); start it with bench/start-publish`);
}

/** Input for netavark alone: one container on a bridge like both engines' default, one published port. */
function netavarkInput(): string {
  return JSON.stringify({
    container_id: 'b'.repeat(64),
    container_name: 'pubbench',
    networks: { bench: { interface_name: 'eth0', static_ips: ['10.89.77.2'], aliases: [] } },
    network_info: {
      bench: {
        name: 'bench', id: 'c'.repeat(64), driver: 'bridge', network_interface: 'pubbench0',
        subnets: [{ subnet: '10.89.77.0/24', gateway: '10.89.77.1' }],
        ipv6_enabled: false, internal: false, dns_enabled: false, options: {}, ipam_options: { driver: 'host-local' },
      },
    },
    port_mappings: [{ host_ip: '', container_port: 80, host_port: PORT, range: 1, protocol: 'tcp' }],
  });
}

async function main(): Promise<void> {
  assertPrivateNetns();
  fs.mkdirSync('/var/tmp/berth-pubbench', { recursive: true });
  const work = fs.mkdtempSync('/var/tmp/berth-pubbench/run-');
  const registry = await startRegistry();
  const ns = await startNamespace('pubbench');
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    const layout = await buildImageLayout({ busybox: true });
    const image = await pushImage(layout, registry.host, 'bench/busybox');
    const conf = writeInsecureRegistriesConf(work, [registry.host]);
    const containersConf = path.join(work, 'containers.conf');
    fs.writeFileSync(containersConf, '[network]\nnetwork_backend = "netavark"\n');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', CONTAINERS_REGISTRIES_CONF: conf, CONTAINERS_CONF: containersConf };
    const berth = `${process.execPath} ${berthBin} --root=${work}/berth --runroot=${work}/berth-run`;
    const podman = `podman --root=${work}/podman --runroot=${work}/podman-run --cgroup-manager=cgroupfs --events-backend=none --network-backend=netavark`;
    const must = async (cmd: string): Promise<string> => {
      const r = await ns.sh(cmd, { env, timeoutMs: 600000 });
      if (r.exitCode !== 0) throw new Error(`${cmd}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    await must(`${berth} pull ${image} >/dev/null 2>&1 || ${berth} run --rm --network=none ${image} true`);
    await must(`${podman} pull -q --tls-verify=false ${image} >/dev/null`);

    // Both engines really publish: a web server behind -p answers on 127.0.0.1 (then removed).
    for (const [engine, cmd, extra] of [['berth', berth, ''], ['podman', podman, ' --cgroups=disabled']] as const) {
      await must(`${cmd} run -d --name web${extra} -p ${PORT}:80 ${image} httpd -f -p 80 -h /etc >/dev/null`);
      let body = '';
      for (let i = 0; i < 50 && !body.includes('root:'); i++) {
        body = (await ns.sh(`curl -s --max-time 2 http://127.0.0.1:${PORT}/passwd`, { env })).stdout;
        if (!body.includes('root:')) await new Promise((r) => setTimeout(r, 100));
      }
      await must(`${cmd} rm -f -t 0 web >/dev/null`);
      if (!body.includes('root:')) throw new Error(`${engine}: -p ${PORT}:80 does not reach the container's web server`);
      notes.push(`${engine}: \`-p ${PORT}:80\` to busybox httpd answered on 127.0.0.1:${PORT}`);
    }

    const netavarkDir = path.join(work, 'netavark');
    fs.mkdirSync(netavarkDir);
    fs.writeFileSync(path.join(netavarkDir, 'input.json'), netavarkInput());
    const netavarkPair = `unshare --net sh -c 'n=/proc/$$/ns/net; ${NETAVARK} --config ${netavarkDir} setup $n < ${netavarkDir}/input.json >/dev/null && ${NETAVARK} --config ${netavarkDir} teardown $n < ${netavarkDir}/input.json'`;

    const commands: [string, string][] = [
      [`berth run --rm -p ${PORT}:80 IMAGE true`, `${berth} run --rm -p ${PORT}:80 ${image} true`],
      [`berth run --rm -p ${PORT}:80 --cgroups=disabled IMAGE true`, `${berth} run --rm -p ${PORT}:80 --cgroups=disabled ${image} true`],
      [`podman run --rm -p ${PORT}:80 --cgroups=disabled IMAGE true`, `${podman} run --rm -p ${PORT}:80 --cgroups=disabled ${image} true`],
      ['berth run --rm --network=none IMAGE true', `${berth} run --rm --network=none ${image} true`],
      ['podman run --rm --network=none --cgroups=disabled IMAGE true', `${podman} run --rm --network=none --cgroups=disabled ${image} true`],
      [`netavark setup + teardown alone (bridge, 1 port; in a fresh netns)`, netavarkPair],
      ['unshare --net sh -c true (baseline of the row above)', `unshare --net sh -c true`],
    ];
    const json = path.join(work, 'hyperfine.json');
    const hf = ['hyperfine', '--warmup', '2', '--runs', String(runs), '--export-json', json];
    for (const [name, cmd] of commands) hf.push('-n', name, cmd);
    const r = await ns.exec(hf, { env, timeoutMs: 1800000 });
    process.stdout.write(r.stdout);
    if (r.exitCode !== 0) throw new Error(`hyperfine failed:\n${r.stdout}\n${r.stderr}`);
    for (const res of JSON.parse(fs.readFileSync(json, 'utf8')).results as { command: string; times: number[] }[]) {
      rows.push(stats(res.command, res.times.map((t) => t * 1000)));
    }

    // netavark's setup and teardown timed apart (hyperfine above only sees the pair).
    const split = await must(`for i in $(seq ${runs}); do unshare --net sh -c 'n=/proc/$$/ns/net; t0=$(date +%s%N); ${NETAVARK} --config ${netavarkDir} setup $n < ${netavarkDir}/input.json >/dev/null || exit 1; t1=$(date +%s%N); ${NETAVARK} --config ${netavarkDir} teardown $n < ${netavarkDir}/input.json || exit 1; t2=$(date +%s%N); echo $((t1 - t0)) $((t2 - t1))' || exit 1; done`);
    const pairs = split.trim().split('\n').map((l) => l.split(' ').map((n) => Number(n) / 1e6));
    rows.push(stats('netavark setup alone', pairs.map((p) => p[0])), stats('netavark teardown alone', pairs.map((p) => p[1])));

    // Inside each engine's `run -p`: netavark behind a wrapper that logs when setup and teardown
    // start and end, next to when the command itself starts and ends.
    const wrapDir = path.join(work, 'wrap');
    const log = path.join(wrapDir, 'log');
    fs.mkdirSync(wrapDir);
    fs.writeFileSync(path.join(wrapDir, 'netavark'), `#!/bin/sh\nt0=$(date +%s%N)\n${NETAVARK} "$@"\nrc=$?\nfor a; do case "$a" in setup|teardown) echo "$a $t0 $(date +%s%N)" >> ${log};; esac; done\nexit $rc\n`, { mode: 0o755 });
    const wrapConf = path.join(work, 'containers-wrap.conf');
    fs.writeFileSync(wrapConf, `[network]\nnetwork_backend = "netavark"\n[engine]\nhelper_binaries_dir = ["${wrapDir}"]\n`);
    const inside: Record<string, { setup: number[]; teardown: number[]; teardownAfterExit: number; before: number[]; after: number[] }> = {};
    for (const [engine, cmd, extra] of [['berth', berth, ''], ['podman', podman, ' --cgroups=disabled']] as const) {
      fs.writeFileSync(log, '');
      await must(`export BERTH_NETAVARK=${wrapDir}/netavark CONTAINERS_CONF=${wrapConf}; for i in $(seq ${runs}); do echo "run $(date +%s%N)" >> ${log}; ${cmd} run --rm -p ${PORT}:80${extra} ${image} true || exit 1; echo "end $(date +%s%N)" >> ${log}; done; sleep 1`);
      const entry = { setup: [] as number[], teardown: [] as number[], teardownAfterExit: 0, before: [] as number[], after: [] as number[] };
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
      // Per run: command start -> setup start (the engine's work before netavark), teardown end -> exit.
      let runStart = 0;
      let teardownEnd = 0;
      for (const [kind, a, b] of lines) {
        if (kind === 'run') runStart = Number(a);
        if (kind === 'setup') entry.before.push((Number(a) - runStart) / 1e6);
        if (kind === 'teardown') teardownEnd = Number(b);
        if (kind === 'end' && teardownEnd) { entry.after.push((Number(a) - teardownEnd) / 1e6); teardownEnd = 0; }
      }
      for (const [i, [kind, a, b]] of lines.entries()) {
        if (kind === 'setup') entry.setup.push((Number(b) - Number(a)) / 1e6);
        if (kind === 'teardown') {
          entry.teardown.push((Number(b) - Number(a)) / 1e6);
          // Logged when it ends: after an "end" line means after the command had exited.
          if (lines.slice(0, i).reverse().find((l) => l[0] === 'end' || l[0] === 'run')?.[0] === 'end') entry.teardownAfterExit++;
        }
      }
      inside[engine] = entry;
      if (!entry.setup.length || !entry.teardown.length) throw new Error(`${engine} did not run netavark through the wrapper (${wrapDir})`);
      rows.push(
        stats(`${engine} run -p: start → its netavark setup begins`, entry.before),
        stats(`${engine} run -p: its netavark setup`, entry.setup),
        stats(`${engine} run -p: its netavark teardown`, entry.teardown),
        stats(`${engine} run -p: teardown done → exit`, entry.after),
      );
    }
    for (const [engine, e] of Object.entries(inside)) {
      notes.push(`${engine}: ${e.setup.length} netavark setups and ${e.teardown.length} teardowns in ${runs} \`run --rm -p\`; teardowns that ended after the command had exited: ${e.teardownAfterExit}`);
    }

    // Nothing of either engine's containers is left in this namespace: no veth, no DNAT rule.
    const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/\s+/)[0]);
    const dnat = execFileSync('sh', ['-c', `iptables-save -t nat | grep -c -- "--dport ${PORT}" || true`], { encoding: 'utf8' }).trim();
    notes.push(`after ${runs + 2} runs per engine, inside the bench's namespace: interfaces ${links.join(', ')}; DNAT rules for port ${PORT}: ${dnat}`);
  } finally {
    await ns.stop();
    await registry.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const fmt = (r: Row) => `| ${r.name} | ${r.median.toFixed(0)} | ${r.mean.toFixed(0)} | ${r.min.toFixed(0)} | ${r.max.toFixed(0)} |`;
  const med = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!.median;
  const berthPub = med(`berth run --rm -p ${PORT}:80 IMAGE`);
  const berthPubNoCg = med(`berth run --rm -p ${PORT}:80 --cgroups`);
  const podmanPub = med('podman run --rm -p');
  const berthNone = med('berth run --rm --network=none');
  const podmanNone = med('podman run --rm --network=none');
  const netavark = med('netavark setup') - med('unshare --net sh -c true');
  const podmanRest = podmanPub - podmanNone - med('podman run -p: its netavark setup') - med('podman run -p: its netavark teardown');
  const section = [
    '## start with a published port',
    '',
    `\`bench/start-publish ${runs}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (hyperfine, ${runs} runs after 2 warm-ups, all rows in one run on this`,
    `2-core VM, load average at the end: ${load}; compare within this table only; Node runs without NODE_EXTRA_CA_CERTS, as under systemd).`,
    'Image: busybox from a local registry, pulled beforehand by both engines. Default bridge network through',
    'netavark 1.4 (`/usr/lib/podman/netavark`) for both; Podman 4.3.1 with `--network-backend=netavark`. Everything runs in a',
    'network namespace of the bench\'s own (never the host\'s), inside a private mount/cgroup/pid namespace with cgroup2;',
    'Podman needs `--cgroups=disabled` there, so berth is shown both ways.',
    '',
    '| Command | Median [ms] | Mean [ms] | Min [ms] | Max [ms] |',
    '|:---|---:|---:|---:|---:|',
    ...rows.map(fmt),
    '',
    `berth / podman with \`-p\` (medians): ${(berthPub / podmanPub).toFixed(2)} (${(berthPubNoCg / podmanPub).toFixed(2)} with --cgroups=disabled on both; goal ≤ 0.5).`,
    `With --network=none: ${(berthNone / podmanNone).toFixed(2)}.`,
    '',
    `Where the time goes: publishing a port costs berth ${(berthPub - berthNone).toFixed(0)} ms and Podman ${(podmanPub - podmanNone).toFixed(0)} ms over --network=none (medians).`,
    `netavark alone, setup + teardown of one container (bridge, veth, one port's iptables rules) in a fresh namespace, takes ${netavark.toFixed(0)} ms`,
    `(setup ${med('netavark setup alone').toFixed(0)} ms, teardown ${med('netavark teardown alone').toFixed(0)} ms). Timed inside the engines' own \`run --rm -p\` (netavark behind a logging wrapper):`,
    `berth's netavark setup ${med('berth run -p: its netavark setup').toFixed(0)} ms + teardown ${med('berth run -p: its netavark teardown').toFixed(0)} ms, Podman's ${med('podman run -p: its netavark setup').toFixed(0)} ms + ${med('podman run -p: its netavark teardown').toFixed(0)} ms;`,
    `the rest of each engine's extra (its own network namespace, IPAM, state, and what it overlaps) is ${(berthPub - berthNone - med('berth run -p: its netavark setup') - med('berth run -p: its netavark teardown')).toFixed(0)} ms for berth`,
    `and ${podmanRest.toFixed(0)} ms for Podman${podmanRest < 0 ? ' (negative: work overlapped with, or saved against, the --network=none path)' : ''}.`,
    `berth calls netavark setup ${med('berth run -p: start').toFixed(0)} ms after it starts (its whole --network=none run takes ${berthNone.toFixed(0)} ms), Podman after ${med('podman run -p: start').toFixed(0)} ms;`,
    `both then spend about the same time inside netavark, teardown (≈ ${med('netavark teardown alone').toFixed(0)} ms alone) being the larger part of it.`,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const resultsPath = path.join(repo, 'bench', 'RESULTS.md');
  const current = fs.existsSync(resultsPath) ? fs.readFileSync(resultsPath, 'utf8') : '# Benchmark results\n';
  // This section stays last: a rerun replaces it, nothing else in the file changes.
  const re = /\n## start with a published port\n[\s\S]*?(?=\n## |$)/;
  const base = re.test(current) ? current.replace(re, '') : current;
  fs.writeFileSync(resultsPath, `${base.trimEnd()}\n\n${section}`);
  process.stdout.write(`${section}\n`);
}

main().catch((error) => { process.stderr.write(`${error instanceof Error ? error.stack : error}\n`); process.exitCode = 1; });
