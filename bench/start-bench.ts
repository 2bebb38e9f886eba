/**
 * bench/start: container start latency and resident memory, berth against the floor and
 * Podman 4.3 in one run (same machine, same moment, same image). Runs inside the runtime tests'
 * private mount/cgroup/pid namespace (this host's cgroups are hybrid, see DESIGN.md), and the
 * systemd part under a sysbox. Results go to the "## start" section of bench/RESULTS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/support/registry.js';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf } from '../test/support/images.js';
import { startNamespace } from '../test/support/ns.js';
import { installBerthInSysbox, startSysbox } from '../test/support/sysbox.js';

const runs = Number(process.argv[2] ?? 10);
// Node reads the whole file NODE_EXTRA_CA_CERTS names at start-up (~85 ms here, where the session's
// environment points it at the system CA bundle). A unit's ExecStart never has it (systemd starts
// services with a clean environment), so the main rows run without it, and two rows show its cost.
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const berthBin = path.join(repo, 'bin', 'berth.js');
const work = fs.mkdtempSync('/var/tmp/berth-bench-start-');

/** Rounds of hyperfine runs (see the measuring loop). */
const ROUNDS = 5;

interface Row { name: string; median: number; mean: number; min: number; max: number; cpu?: number }

function stats(name: string, times: number[]): Row {
  const s = [...times].sort((a, b) => a - b);
  return { name, median: s[Math.floor(s.length / 2)], mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0], max: s[s.length - 1] };
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const ns = await startNamespace('bench-start');
  const rows: Row[] = [];
  const memory: string[] = [];
  try {
    const layout = await buildImageLayout({ busybox: true });
    const image = await pushImage(layout, registry.host, 'bench/busybox');
    const conf = writeInsecureRegistriesConf(work, [registry.host]);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', CONTAINERS_REGISTRIES_CONF: conf };
    // Run roots (volatile state) on a tmpfs, as /run is on a real system (berth: /run/berth, Podman:
    // /run/containers/storage, crun: /run/crun); this machine's /run is not one. Mounted inside the
    // bench's private mount namespace, for all three alike. Persistent roots stay on /var/tmp (ext4).
    const run = `${work}/run`;
    fs.mkdirSync(run);
    const berth = `${process.execPath} ${berthBin} --root=${work}/berth --runroot=${run}/berth`;
    const podman = `podman --root=${work}/podman --runroot=${run}/podman --cgroup-manager=cgroupfs --events-backend=none`;
    const must = async (cmd: string) => {
      const r = await ns.sh(cmd, { env, timeoutMs: 600000 });
      if (r.exitCode !== 0) throw new Error(`${cmd}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    await must(`mount -t tmpfs -o mode=0755 tmpfs ${run}`);
    // Pre-pull for both engines; a floor bundle: busybox rootfs + crun's default spec running `true`.
    await must(`${berth} pull ${image} >/dev/null 2>&1 || ${berth} run --rm --network=none ${image} true`);
    await must(`${podman} pull -q --tls-verify=false ${image} >/dev/null`);
    const bundle = path.join(work, 'floor');
    fs.mkdirSync(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(bundle, 'rootfs', 'bin', 'busybox'));
    fs.chmodSync(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'true'));
    await must(`cd ${bundle} && crun spec`);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['/bin/true'];
    delete spec.linux.resources;   // crun's eBPF device filter cannot load here (RLIMIT_MEMLOCK)
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));

    const commands: [string, string][] = [
      ['floor: crun run (prepared bundle, `true`)', `crun --root=${run}/crun run --bundle ${bundle} floor`],
      ['node -e 0', `${process.execPath} -e 0`],
      ['berth run --rm --network=none IMAGE true', `${berth} run --rm --network=none ${image} true`],
      ['berth run --rm --network=none --cgroups=disabled IMAGE true', `${berth} run --rm --network=none --cgroups=disabled ${image} true`],
      ['podman run --rm --network=none --cgroups=disabled IMAGE true', `${podman} run --rm --network=none --cgroups=disabled ${image} true`],
    ];
    if (extraCaCerts) {
      commands.push(
        ['node -e 0, with NODE_EXTRA_CA_CERTS (this shell\'s environment)', `env NODE_EXTRA_CA_CERTS=${extraCaCerts} ${process.execPath} -e 0`],
        ['berth run --rm --network=none IMAGE true, with NODE_EXTRA_CA_CERTS', `env NODE_EXTRA_CA_CERTS=${extraCaCerts} ${berth} run --rm --network=none ${image} true`],
      );
    }
    // In rounds: hyperfine runs each command's runs back to back, so a burst of load on this shared
    // 2-core machine would land on one command only; ROUNDS rounds of runs/ROUNDS each, all commands
    // in every round, spread it over all of them. Times of all rounds are pooled per command.
    const rounds = Math.min(ROUNDS, runs);
    const pooled = new Map<string, { times: number[]; cpu: number[] }>();
    for (let round = 0; round < rounds; round++) {
      const json = path.join(work, `hyperfine-${round}.json`);
      const perRound = Math.floor(runs / rounds) + (round < runs % rounds ? 1 : 0);
      // -N: no shell between hyperfine and the command (a shell's start-up, subtracted by estimate
      // otherwise, only adds noise at this scale); the command lines need no shell.
      const hf = ['hyperfine', '-N', '--warmup', round === 0 ? '2' : '1', '--runs', String(perRound), '--export-json', json];
      for (const [name, cmd] of commands) hf.push('-n', name, cmd);
      const r = await ns.exec(hf, { env, timeoutMs: 1800000 });
      if (r.exitCode !== 0) throw new Error(`hyperfine failed:\n${r.stdout}\n${r.stderr}`);
      // CPU time (user + system, the command and its children) moves far less with the load of the
      // shared machine than wall time does.
      for (const res of JSON.parse(fs.readFileSync(json, 'utf8')).results as { command: string; times: number[]; user: number; system: number }[]) {
        const entry = pooled.get(res.command) ?? { times: [], cpu: [] };
        entry.times.push(...res.times.map((t) => t * 1000));
        entry.cpu.push(...res.times.map(() => (res.user + res.system) * 1000));
        pooled.set(res.command, entry);
      }
    }
    for (const [name, { times, cpu }] of pooled) rows.push({ ...stats(name, times), cpu: cpu.reduce((a, b) => a + b, 0) / cpu.length });

    // Memory of what stays resident next to one running container (outside systemd).
    await must(`${berth} run -d --name mem --network=none ${image} sleep 1000 >/dev/null`);
    const berthMon = await must(`ps -eo rss=,comm=,args= | grep -E "berth-monitor|crun .*run" | grep -v grep | awk '{s+=$1} END {print s+0}'`);
    await must(`${podman} run -d --name mem --network=none --cgroups=disabled ${image} sleep 1000 >/dev/null`);
    const conmon = await must(`ps -eo rss=,comm= | awk '$2=="conmon" {s+=$1} END {print s+0}'`);
    memory.push(`| berth outside systemd (monitor: sh + log writer (python3) + crun run) | ${berthMon.trim()} kB |`);
    memory.push(`| podman: conmon | ${conmon.trim()} kB |`);
    await must(`${berth} rm -f -t 0 mem >/dev/null; ${podman} rm -f -t 0 mem >/dev/null`);
  } finally {
    await ns.stop();
    await registry.stop();
  }

  // systemctl start -> active of a berth unit, and what berth leaves resident under systemd.
  const box = await startSysbox({ name: 'bench-start' });
  let systemdRow: Row | undefined;
  try {
    await installBerthInSysbox(box);
    await box.startRegistry();
    const image = await box.pushImage(await buildImageLayout({ busybox: true, entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] }), 'bench/svc:latest');
    await box.exec(['mkdir', '-p', '/etc/containers/systemd']);
    await box.exec(['tee', '/etc/containers/systemd/bench.container'], { input: `[Container]\nImage=${image}\nNetwork=none\n` });
    await box.systemctl('daemon-reload');
    await box.systemctl('start', 'bench.service');   // first start pulls the image
    await box.systemctl('stop', 'bench.service');
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await box.systemctl('start', 'bench.service');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (i === 0) {
        const cg = (await box.exec(['systemctl', 'show', '-p', 'ControlGroup', '--value', 'bench.service'])).stdout.trim();
        const procs = await box.sh(`cat $(find /sys/fs/cgroup${cg} -name cgroup.procs) | while read p; do echo "$(cat /proc/$p/comm) $(awk '/VmRSS/ {print $2}' /proc/$p/status)"; done`);
        const others = procs.stdout.trim().split('\n').filter((l) => l && !/^(sh|sleep) /.test(l));
        memory.unshift(`| berth under systemd (the unit's processes besides the container's own: ${others.length ? others.join(', ') : 'none'}) | ${others.reduce((s, l) => s + Number(l.split(' ')[1] ?? 0), 0)} kB |`);
      }
      await box.systemctl('stop', 'bench.service');
    }
    systemdRow = stats('systemctl start → active (berth unit, sysbox)', times);
  } finally {
    await box.stop();
  }
  fs.rmSync(work, { recursive: true, force: true });

  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const fmt = (r: Row) => `| ${r.name} | ${r.median.toFixed(0)} | ${r.mean.toFixed(0)} | ${r.min.toFixed(0)} | ${r.max.toFixed(0)} | ${r.cpu === undefined ? '' : r.cpu.toFixed(0)} |`;
  const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix) && !r.name.includes('NODE_EXTRA_CA_CERTS'))!;
  const floor = byName('floor').median;
  const nodeZero = byName('node -e 0').median;
  const berthMed = byName('berth run --rm --network=none IMAGE').median;
  const podmanMed = byName('podman').median;
  const cpuOf = (prefix: string) => byName(prefix).cpu?.toFixed(0) ?? '?';
  const section = [
    '## start',
    '',
    `\`bench/start ${runs}\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; hyperfine -N, ${runs} runs of each command in ${Math.min(ROUNDS, runs)} rounds that take turns, after warm-ups, all in one run on this 2-core VM, load average at the end: ${load};`,
    'compare within this table only). Image: busybox from a local registry,',
    'pulled beforehand by both engines. Inside a private mount/cgroup/pid namespace with cgroup2 (the host is hybrid);',
    'Podman needs `--cgroups=disabled` here (its device cgroup needs RLIMIT_MEMLOCK), so berth is shown that way too.',
    'Node processes run without NODE_EXTRA_CA_CERTS, as under systemd (a unit\'s environment is clean); where the caller has it,',
    'the two rows marked so show what it costs every Node start (Node loads that CA file eagerly).',
    '',
    '| Command | Median [ms] | Mean [ms] | Min [ms] | Max [ms] | CPU, mean [ms] |',
    '|:---|---:|---:|---:|---:|---:|',
    ...rows.map(fmt),
    ...(systemdRow ? [fmt(systemdRow)] : []),
    '',
    `berth / podman (medians): ${(berthMed / podmanMed).toFixed(2)} (goal ≤ 0.5); berth − (floor + node -e 0): ${(berthMed - floor - nodeZero).toFixed(0)} ms (goal ≤ 60 ms).`,
    `CPU time (user + system, means): berth ${cpuOf('berth run --rm --network=none IMAGE')} ms, Podman ${cpuOf('podman')} ms, node -e 0 ${cpuOf('node -e 0')} ms, floor ${cpuOf('floor')} ms.`,
    'CPU counts the command and the children it waited for: berth\'s perl helper, and the `crun run` that helper starts, end after',
    'berth has exited and are not counted in berth\'s rows (crun alone is about the floor\'s CPU; the helper a few ms).',
    '',
    'Resident memory next to one running container (RSS):',
    '',
    '| What stays resident | RSS |',
    '|:---|---:|',
    ...memory,
    '',
  ].join('\n');
  const resultsPath = path.join(repo, 'bench', 'RESULTS.md');
  const current = fs.existsSync(resultsPath) ? fs.readFileSync(resultsPath, 'utf8') : '# Benchmark results\n';
  const re = /## start\n[\s\S]*?(?=\n## |$)/;
  // A hand-written "### Reading" at the end of the section is kept (it says which sitting it reads).
  const reading = /\n### Reading[\s\S]*$/.exec(re.exec(current)?.[0] ?? '')?.[0] ?? '';
  const whole = `${section.trimEnd()}\n${reading ? `${reading.trimEnd()}\n` : ''}`;
  const next = re.test(current) ? current.replace(re, whole) : `${current.trimEnd()}\n\n${whole}`;
  fs.writeFileSync(resultsPath, next);
  process.stdout.write(`${section}\n`);
}

main().catch((error) => { process.stderr.write(`${error instanceof Error ? error.stack : error}\n`); process.exitCode = 1; });
