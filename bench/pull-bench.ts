/**
 * The pull benchmark (run by bench/pull): a local docker-registry holding a ~200 MB, 5-layer image
 * and a 20-layer image of random (incompressible) data made now; each pulled into an empty store
 * by berth, Podman, `skopeo copy` (to an OCI dir, no unpacking) and "the limit" (every layer
 * fetched by curl in parallel, piped into tar), on ext4 (/var/tmp) and tmpfs (/dev/shm).
 * Wall time and peak RSS from /usr/bin/time -v. Writes the "## pull" section of bench/RESULTS.md.
 *   node dist/bench/pull-bench.js [RUNS]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf, type FileSpec } from '../test/support/images.js';
import { startRegistry } from '../test/support/registry.js';

// Node reads the whole file NODE_EXTRA_CA_CERTS names at every start (~85 ms here, where the
// session's environment points it at the system CA bundle). systemd starts units (a unit's
// `berth run` that pulls) with a clean environment, so berth runs without it; one extra row per
// image shows what it costs where a shell has it.
const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.argv[2] ?? 3);
const WORK = '/var/tmp/berth-bench-pull';
const SHM = '/dev/shm/berth-bench-pull';

interface Measure { wall: number; rssKb: number }

function timed(argv: string[], env: NodeJS.ProcessEnv): Measure {
  const result = spawnSync('/usr/bin/time', ['-v', ...argv], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const wallText = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(result.stderr)?.[1] ?? '0';
  const parts = wallText.split(':').map(Number);
  const wall = parts.reduce((acc, p) => acc * 60 + p, 0);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1] ?? 0);
  return { wall, rssKb };
}

function randomLayers(count: number, filesPerLayer: number, fileSize: number): Record<string, FileSpec>[] {
  return Array.from({ length: count }, (_, l) => {
    const files: Record<string, FileSpec> = {};
    for (let f = 0; f < filesPerLayer; f++) files[`/data/l${l}/f${f}.bin`] = { content: crypto.randomBytes(fileSize) };
    return files;
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  cleanDir(WORK);
  fs.mkdirSync(WORK, { recursive: true });
  const registry = await startRegistry();
  try {
    const images = [
      { name: 'bench/big', label: '~200 MB, 5 layers', layers: randomLayers(5, 8, 5 * 1024 * 1024) },
      { name: 'bench/many', label: '20 layers, ~40 MB', layers: randomLayers(20, 4, 512 * 1024) },
    ];
    const refs: { ref: string; label: string; blobs: { digest: string; size: number }[]; bytes: number }[] = [];
    for (const image of images) {
      const [base, ...rest] = image.layers;
      const layout = await buildImageLayout({ files: base, layers: rest }, { dir: path.join(WORK, image.name.replace('/', '-')), tag: 'latest' });
      const ref = await pushImage(layout, registry.host, image.name);
      const index = JSON.parse(fs.readFileSync(path.join(layout.layout, 'index.json'), 'utf8'));
      const manifest = JSON.parse(fs.readFileSync(path.join(layout.layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
      const blobs = manifest.layers.map((l: { digest: string; size: number }) => ({ digest: l.digest, size: l.size }));
      refs.push({ ref, label: image.label, blobs, bytes: blobs.reduce((a: number, b: { size: number }) => a + b.size, 0) });
      fs.rmSync(layout.layout, { recursive: true, force: true });
    }
    const confDir = path.join(WORK, 'conf');
    const authFile = path.join(confDir, 'auth.json');
    const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: writeInsecureRegistriesConf(confDir, [registry.host]), REGISTRY_AUTH_FILE: authFile };
    fs.writeFileSync(authFile, '{}\n');
    const limitScript = path.join(WORK, 'limit.sh');
    fs.writeFileSync(limitScript, [
      '#!/bin/bash', 'set -euo pipefail', 'host=$1 repo=$2 out=$3; shift 3', 'mkdir -p "$out"',
      'curl -sf -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$host/v2/$repo/manifests/latest" -o "$out/manifest.json" &',
      'i=0; for d in "$@"; do mkdir -p "$out/$i"; (curl -sf "http://$host/v2/$repo/blobs/$d" | tar -xzf - -C "$out/$i") & i=$((i+1)); done', 'wait', '',
    ].join('\n'), { mode: 0o755 });

    const tools: { name: string; run: (ref: { ref: string; blobs: { digest: string }[] }, dir: string) => string[] }[] = [
      { name: 'berth', run: (r, dir) => [process.execPath, path.join(REPO, 'bin/berth.js'), '--root', `${dir}/root`, '--runroot', `${dir}/run`, 'pull', '-q', '--tls-verify=false', r.ref] },
      ...(EXTRA_CA_CERTS ? [{ name: 'berth, with NODE_EXTRA_CA_CERTS', run: (r: { ref: string }, dir: string) => ['env', `NODE_EXTRA_CA_CERTS=${EXTRA_CA_CERTS}`, process.execPath, path.join(REPO, 'bin/berth.js'), '--root', `${dir}/root`, '--runroot', `${dir}/run`, 'pull', '-q', '--tls-verify=false', r.ref] }] : []),
      { name: 'podman 4.3', run: (r, dir) => ['podman', '--root', `${dir}/root`, '--runroot', `${dir}/run`, 'pull', '-q', '--tls-verify=false', r.ref] },
      { name: 'skopeo copy (no unpack)', run: (r, dir) => ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${r.ref}`, `oci:${dir}/oci:latest`] },
      { name: 'limit: curl ‖ tar', run: (r, dir) => [limitScript, registry.host, r.ref.slice(registry.host.length + 1).replace(/:latest$/, ''), `${dir}/out`, ...r.blobs.map((b) => b.digest)] },
    ];
    const rows: string[] = [];
    for (const [fsName, base] of [['ext4', path.join(WORK, 'runs')], ['tmpfs', SHM]] as const) {
      for (const r of refs) {
        const results = new Map<string, Measure[]>();
        for (let run = 0; run < RUNS; run++) {
          // Each run starts with the next tool, so none always runs first (after the sync and the
          // previous tool's cleanup) or last.
          for (const tool of [...tools.slice(run % tools.length), ...tools.slice(0, run % tools.length)]) {
            const dir = path.join(base, tool.name.replace(/[^a-z]/gi, '').slice(0, 24));
            cleanDir(dir);
            fs.mkdirSync(dir, { recursive: true });
            execFileSync('sync');
            const m = timed(tool.run(r, dir), env);
            if (!results.has(tool.name)) results.set(tool.name, []);
            results.get(tool.name)!.push(m);
            cleanDir(dir);
            process.stderr.write(`${fsName} ${r.label} ${tool.name}: ${m.wall.toFixed(2)} s, ${Math.round(m.rssKb / 1024)} MB\n`);
          }
        }
        const med = (name: string): Measure => ({ wall: median(results.get(name)!.map((m) => m.wall)), rssKb: Math.max(...results.get(name)!.map((m) => m.rssKb)) });
        const berth = med('berth');
        const podman = med('podman 4.3');
        const limit = med('limit: curl ‖ tar');
        for (const tool of tools) {
          const m = med(tool.name);
          rows.push(`| ${fsName} | ${r.label} (${(r.bytes / 1048576).toFixed(0)} MB compressed) | ${tool.name} | ${m.wall.toFixed(2)} | ${(m.wall / podman.wall).toFixed(2)} | ${(m.wall / limit.wall).toFixed(2)} | ${Math.round(m.rssKb / 1024)} |`);
        }
        rows.push(`| | | **berth goals** | ${berth.wall <= 0.8 * podman.wall ? '✔' : '✘'} ≤ 0.8 × podman | ${berth.wall <= 1.3 * limit.wall ? '✔' : '✘'} ≤ 1.3 × limit | ${berth.rssKb < 150 * 1024 ? '✔' : '✘'} < 150 MB |`);
      }
    }
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    const section = [
      '## pull', '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`bench/pull ${RUNS}\` (median of ${RUNS} runs, each starting with the next tool; peak RSS: the largest of the runs;`,
      `${os.cpus().length} CPUs, load average at the end ${load}). Each run starts from an empty store (fresh \`--root\`).`,
      'Data is random (incompressible), generated at bench time and served by docker-registry on 127.0.0.1.',
      '"limit" = all layers fetched at once by curl, each piped into `tar -xz` (no verification, no store).',
      '"skopeo copy" only copies the blobs into an OCI directory (no unpacking): a lower bound for the network part.',
      'berth runs without NODE_EXTRA_CA_CERTS, as under systemd (a unit\'s environment is clean); the row marked so shows what',
      'that variable costs where a shell sets it (Node loads the named CA file at every start).', '',
      '| fs | image | tool | wall s | × podman | × limit | peak RSS MB |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows, '',
    ].join('\n');
    writeSection(path.join(REPO, 'bench', 'RESULTS.md'), section);
    process.stdout.write(section);
  } finally {
    await registry.stop();
    cleanDir(WORK);
    cleanDir(SHM);
  }
}

/** Remove a run's dir; Podman leaves its overlay home bind-mounted, so unmount what is under it first. */
function cleanDir(dir: string): void {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
  for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Replace our "## pull" section (up to the next "## "), or append it; other sections stay as they
 * are, and so does a hand-written "### Reading" at the end of ours (it carries its own date).
 */
function writeSection(file: string, section: string): void {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = text.search(/^## pull\s*$/m);
  if (start >= 0) {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    const old = next >= 0 ? rest.slice(0, next) : rest;
    const reading = old.search(/^### Reading/m);
    const kept = reading >= 0 ? `\n${old.slice(reading).replace(/\n+$/, '')}\n` : '';
    text = text.slice(0, start) + section + kept + (next >= 0 ? '\n' + rest.slice(next) : '');
  } else {
    text = `${text.replace(/\n*$/, '\n\n')}${section}`;
  }
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

main().catch((error) => {
  process.stderr.write(`bench/pull: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
