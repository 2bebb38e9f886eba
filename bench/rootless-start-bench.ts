/**
 * bench/rootless-start: `run --rm --network=none IMAGE true` as the unprivileged test user
 * (test/setup.sh's berthtest), berth against rootless Podman 4.3 in one run, plus `node -e 0`
 * and `runuser … true` (the cost of switching user, paid by every row). Twice: on this host
 * (hybrid cgroups, where rootless Podman cannot run) and inside a sysbox (cgroup v2, the user's
 * own systemd --user running), where both engines run. Results go to the "## rootless start"
 * section of bench/RESULTS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRootlessWorld, run, USER, BERTH } from '../test/integration/rootless/harness.js';
import { buildImageLayout } from '../test/support/images.js';
import { installBerthInSysbox, startSysbox } from '../test/support/sysbox.js';

const runs = Number(process.argv[2] ?? 10);

async function main(): Promise<void> {
  const w = await startRootlessWorld('bench', { busybox: { busybox: true } });
  try {
    const image = w.images.busybox!;
    const env = [`HOME=${w.home}`, `XDG_RUNTIME_DIR=${w.runtimeDir}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      `CONTAINERS_REGISTRIES_CONF=${path.join(w.dir, 'conf', 'registries.conf')}`];
    const asUser = (cmd: string) => `runuser -u ${USER} -- env -i ${env.join(' ')} ${cmd}`;
    const podman = `podman --storage-driver=overlay --cgroup-manager=cgroupfs --events-backend=none`;
    const pull = await w.berth(['pull', '-q', image]);
    if (pull.exitCode !== 0) throw new Error(pull.stderr);
    const ppull = await run('sh', ['-c', asUser(`${podman} pull -q --tls-verify=false ${image}`)], { timeoutMs: 300000 });
    const ptry = ppull.exitCode === 0 ? await run('sh', ['-c', asUser(`${podman} run --rm --network=none --cgroups=disabled ${image} true`)]) : ppull;
    const podmanWorks = ptry.exitCode === 0;
    const podmanWhy = ptry.stderr.split('\n').filter((l) => l.trim() && !/level=warning/.test(l)).pop() ?? 'failed';
    const commands: [string, string][] = [
      ['runuser … true (user switch only)', asUser('true')],
      ['node -e 0 (as the user)', asUser(`${process.execPath} -e 0`)],
      ['berth run --rm --network=none IMAGE true (rootless)', asUser(`${process.execPath} ${BERTH} run --rm --network=none ${image} true`)],
    ];
    if (podmanWorks) commands.push(['podman run --rm --network=none --cgroups=disabled IMAGE true (rootless, overlay)', asUser(`${podman} run --rm --network=none --cgroups=disabled ${image} true`)]);
    const json = path.join(w.dir, 'hyperfine.json');
    const hf = ['--warmup', '2', '--runs', String(runs), '--export-json', json];
    for (const [name, cmd] of commands) hf.push('-n', name, cmd);
    const r = await run('hyperfine', hf, { timeoutMs: 1800000 });
    if (r.exitCode !== 0) throw new Error(`hyperfine failed:\n${r.stdout}\n${r.stderr}`);
    const rows: string[] = (JSON.parse(fs.readFileSync(json, 'utf8')).results as { command: string; times: number[] }[]).map((res) => {
      const s = res.times.map((t) => t * 1000).sort((a, b) => a - b);
      return `| ${res.command} | ${s[Math.floor(s.length / 2)]!.toFixed(0)} | ${s[0]!.toFixed(0)} | ${s[s.length - 1]!.toFixed(0)} |`;
    });
    rows.push(...await inSysbox());
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const section = [
      '## rootless start', '',
      `\`bench/rootless-start ${runs}\`, ${new Date().toISOString().slice(0, 16)}Z, load average ${load}. Every command runs as the`,
      'unprivileged user through `runuser` (host) or `setpriv` (sysbox); its cost is the first row of each part. Image already pulled by each engine.', '',
      '| command | median ms | min | max |', '| --- | --- | --- | --- |', ...rows, '',
      podmanWorks ? '' : `Podman 4.3 could not run rootless here (the peer row is missing): \`${podmanWhy.trim()}\`\n`,
    ].join('\n');
    process.stdout.write(section);
    const results = path.join(path.dirname(BERTH), '..', 'bench', 'RESULTS.md');
    const text = fs.readFileSync(results, 'utf8');
    const start = text.indexOf('## rootless start');
    const next = start < 0 ? -1 : text.indexOf('\n## ', start + 3);
    const updated = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next + 1)}`;
    fs.writeFileSync(results, updated.trimEnd() + '\n');
  } finally {
    // Rootless Podman leaves its pause process (catatonit -P) behind: end it by its pid file.
    const pause = path.join(w.runtimeDir, 'libpod', 'tmp', 'pause.pid');
    if (fs.existsSync(pause)) { try { process.kill(Number(fs.readFileSync(pause, 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ } }
    await w.stop();
  }
}

/** Both engines as the user inside a throwaway systemd with cgroup v2 (storage on tmpfs: no overlay on the box's overlay root). */
async function inSysbox(): Promise<string[]> {
  const home = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!.split(':')[5]!;
  const uid = Number(fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!.split(':')[2]);
  const stores = [`${home}/.local/share/berth`, `${home}/.local/share/containers`];
  const box = await startSysbox({ name: 'bench-rootless', tmpfs: stores });
  try {
    await installBerthInSysbox(box);
    await box.startRegistry();
    const image = await box.pushImage(await buildImageLayout({ busybox: true }), 'bench/busybox:latest');
    await box.exec(['chown', `${USER}:`, `${home}/.local`, `${home}/.local/share`, ...stores]);
    await box.exec(['systemctl', 'start', 'dbus.socket', `user@${uid}.service`]);
    const podman = 'podman --cgroup-manager=cgroupfs --events-backend=none';
    await box.exec(['berth', 'pull', '-q', image], { user: USER });
    await box.exec(['sh', '-c', `${podman} pull -q ${image} >/dev/null`], { user: USER });
    const json = '/tmp/bench-rootless.json';
    const commands: [string, string][] = [
      ['sysbox: setpriv … true (user switch only)', 'true'],
      ['sysbox: node -e 0', `${process.execPath} -e 0`],
      ['sysbox: berth run --rm --network=none IMAGE true (rootless, cgroup v2)', `berth run --rm --network=none ${image} true`],
      ['sysbox: podman run --rm --network=none IMAGE true (rootless, cgroup v2)', `${podman} run --rm --network=none ${image} true`],
    ];
    const hf = ['hyperfine', '--warmup', '2', '--runs', String(runs), '--export-json', json];
    for (const [name, cmd] of commands) hf.push('-n', name, cmd);
    await box.exec(hf, { user: USER, timeoutMs: 1800000 });
    const results = JSON.parse((await box.exec(['cat', json])).stdout) as { results: { command: string; times: number[] }[] };
    return results.results.map((res) => {
      const s = res.times.map((t) => t * 1000).sort((a, b) => a - b);
      return `| ${res.command} | ${s[Math.floor(s.length / 2)]!.toFixed(0)} | ${s[0]!.toFixed(0)} | ${s[s.length - 1]!.toFixed(0)} |`;
    });
  } finally {
    await box.stop();
  }
}

main().catch((error) => { process.stderr.write(`${(error as Error).stack}\n`); process.exit(1); });
