/**
 * A quicker look at one berth pull than bench/pull: starts docker-registry with the same
 * ~200 MB / 5-layer image of random data, then pulls it N times into fresh stores with
 * `--cpu-prof` (profiles in DIR/prof) and prints wall time, CPU time, the whole machine's idle CPU
 * time and peak RSS of each run.
 *   node dist/bench/pull-profile.js DIR [RUNS] [--strace | --perf] [--no-prof] [--many]
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf, type FileSpec } from '../test/support/images.js';
import { startRegistry } from '../test/support/registry.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = process.argv[2];
const RUNS = Number(process.argv[3] ?? 3);
const PROFILE = !process.argv.includes('--no-prof');
/** Several berth builds to compare, alternating runs (comma-separated bin/berth.js paths). */
const BINS = (process.env.PULL_PROFILE_BERTH ?? path.join(REPO, 'bin/berth.js')).split(',');
const STRACE = process.argv.includes('--strace');

async function main(): Promise<void> {
  if (!DIR) throw new Error('usage: pull-profile DIR [RUNS] [--strace]');
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(DIR, 'prof'), { recursive: true });
  const registry = await startRegistry();
  try {
    // --many: bench/pull's 20-layer image (4 files of 512 KiB per layer) instead of the 200 MB one
    const many = process.argv.includes('--many');
    const layers = Array.from({ length: many ? 20 : 5 }, (_, l) => {
      const files: Record<string, FileSpec> = {};
      for (let f = 0; f < (many ? 4 : 8); f++) files[`/data/l${l}/f${f}.bin`] = { content: crypto.randomBytes(many ? 512 * 1024 : 5 * 1024 * 1024) };
      return files;
    });
    const [base, ...rest] = layers;
    const layout = await buildImageLayout({ files: base, layers: rest }, { dir: path.join(DIR, 'layout'), tag: 'latest' });
    const ref = await pushImage(layout, registry.host, 'bench/big');
    fs.rmSync(layout.layout, { recursive: true, force: true });
    const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: writeInsecureRegistriesConf(path.join(DIR, 'conf'), [registry.host]), REGISTRY_AUTH_FILE: path.join(DIR, 'auth.json') };
    fs.writeFileSync(env.REGISTRY_AUTH_FILE, '{}\n');
    for (let i = 0; i < RUNS * BINS.length; i++) {
      const run = i;
      const bin = BINS[i % BINS.length];
      const root = path.join(DIR, `store${run}`);
      const berth = [process.execPath, ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(DIR, 'prof')] : []), bin, '--root', `${root}/root`, '--runroot', `${root}/run`, 'pull', '-q', '--tls-verify=false', ref];
      const PERF = process.argv.includes('--perf');
      const argv = STRACE ? ['strace', '-f', '-c', '-o', path.join(DIR, `strace${run}.txt`), ...berth]
        : PERF ? ['perf', 'record', '-g', '-F', '499', '-o', path.join(DIR, `perf${run}.data`), '--', berth[0], '--perf-basic-prof', ...berth.slice(1)] : berth;
      spawnSync('sync');
      const idleBefore = machineIdleMs();
      const result = spawnSync('/usr/bin/time', ['-v', ...argv], { env, encoding: 'utf8' });
      const idle = machineIdleMs() - idleBefore;
      if (result.status !== 0) throw new Error(`pull failed: ${result.stderr.slice(-2000)}`);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(result.stderr)?.[1];
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1] ?? 0);
      const user = /User time \(seconds\): (.*)/.exec(result.stderr)?.[1];
      const sys = /System time \(seconds\): (.*)/.exec(result.stderr)?.[1];
      process.stdout.write(`${bin} run ${run}: wall ${wall}, user ${user} s, sys ${sys} s, machine CPU idle ${(idle / 1000).toFixed(2)} s, peak RSS ${Math.round(rss / 1024)} MB\n`);
      fs.rmSync(root, { recursive: true, force: true });
    }
  } finally {
    await registry.stop();
  }
}

/**
 * CPU time all cores spent idle so far (/proc/stat, idle + iowait), in ms. Over a pull it shows
 * how much of the machine a tool leaves unused: the limit (curl ‖ tar) leaves almost none.
 */
function machineIdleMs(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const ticks = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (ticks * 1000) / 100;   // USER_HZ is 100 on Linux
}

main().catch((error) => {
  process.stderr.write(`pull-profile: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
