/**
 * A rootless world: the unprivileged user `berthtest` (made by test/setup.sh, with a range in
 * /etc/subuid and /etc/subgid) runs the real berth with its own HOME and XDG_RUNTIME_DIR under
 * /var/tmp, against a real registry. Nothing runs as root except the registry and the checks.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf, type ImageSpec } from '../../support/images.js';

export const USER = 'berthtest';
export const BERTH = fileURLToPath(new URL('../../../../bin/berth.js', import.meta.url));

export interface Run { exitCode: number; stdout: string; stderr: string }
export interface IdInfo { uid: number; gid: number; subUid: number; subGid: number; count: number }

export interface RootlessWorld {
  dir: string;
  home: string;
  runtimeDir: string;
  registry: TestRegistry;
  images: Record<string, string>;
  ids: IdInfo;
  /** berth as the test user (no --root/--runroot: the rootless defaults under HOME and XDG_RUNTIME_DIR). */
  berth(args: string[], options?: { timeoutMs?: number }): Promise<Run>;
  /** Mounts, processes of the user's ids, crun containers and state dirs left behind. */
  leftovers(): Promise<string[]>;
  stop(): Promise<void>;
}

function firstRange(file: string, name: string): { start: number; count: number } {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`${file} has no range for ${name}: run test/setup.sh`);
  const [, start, count] = line.split(':');
  return { start: Number(start), count: Number(count) };
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Every process whose real uid is the user's or one of its subordinate ids. */
export function processesOf(ids: IdInfo): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let status: string;
    try { status = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { continue; }
    if (/^State:\s+Z/m.test(status)) continue;   // a zombie holds nothing; its parent reaps it
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (uid === ids.uid || (uid >= ids.subUid && uid < ids.subUid + ids.count)) out.push(`${pid} (uid ${uid}): ${/^Name:\s+(.*)$/m.exec(status)?.[1]}`);
  }
  return out;
}

export async function startRootlessWorld(name: string, specs: Record<string, ImageSpec>): Promise<RootlessWorld> {
  const uid = Number((await run('id', ['-u', USER])).stdout.trim());
  const gid = Number((await run('id', ['-g', USER])).stdout.trim());
  if (!Number.isInteger(uid) || uid === 0) throw new Error(`user ${USER} is missing: run test/setup.sh`);
  const sub = firstRange('/etc/subuid', USER);
  const subG = firstRange('/etc/subgid', USER);
  const ids: IdInfo = { uid, gid, subUid: sub.start, subGid: subG.start, count: Math.min(sub.count, subG.count) };
  const dir = fs.mkdtempSync(path.join('/var/tmp', `berth-rootless-${name}-`));
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, 'home');
  const runtimeDir = path.join(dir, 'run');
  fs.mkdirSync(home);
  fs.mkdirSync(runtimeDir, { mode: 0o700 });
  fs.chownSync(home, uid, gid);
  fs.chownSync(runtimeDir, uid, gid);
  const registry = await startRegistry();
  try {
    const images: Record<string, string> = {};
    for (const [key, spec] of Object.entries(specs)) images[key] = await pushImage(await buildImageLayout(spec), registry.host, `rootless/${key}`);
    const conf = writeInsecureRegistriesConf(path.join(dir, 'conf'), [registry.host]);
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: home, XDG_RUNTIME_DIR: runtimeDir, CONTAINERS_REGISTRIES_CONF: conf, LANG: 'C' };
    const world: RootlessWorld = {
      dir, home, runtimeDir, registry, images, ids,
      berth: (args, o = {}) => run('runuser', ['-u', USER, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, BERTH, ...args], { timeoutMs: o.timeoutMs }),
      leftovers: async () => {
        const found: string[] = [];
        for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(dir)) found.push(`mount: ${line.split(' ')[4]}`);
        // berth's lock helper (perl) exits on its own right after berth: give it a moment.
        let procs = processesOf(ids);
        for (let i = 0; i < 30 && procs.length > 0; i++) { await new Promise((r) => setTimeout(r, 100)); procs = processesOf(ids); }
        for (const p of procs) found.push(`process: ${p}`);
        const crunRoot = path.join(runtimeDir, 'berth', 'crun');
        for (const e of fs.existsSync(crunRoot) ? fs.readdirSync(crunRoot) : []) found.push(`crun: ${e}`);
        for (const d of [path.join(home, '.local/share/berth/containers'), path.join(runtimeDir, 'berth/containers')]) {
          for (const e of fs.existsSync(d) ? fs.readdirSync(d) : []) if (!e.startsWith('.')) found.push(`dir: ${d}/${e}`);
        }
        // removed containers' dirs are deleted by berth's helper just after berth exits
        const trash = path.join(home, '.local/share/berth/containers/.trash');
        for (let i = 0; i < 100 && fs.existsSync(trash) && fs.readdirSync(trash).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
        for (const e of fs.existsSync(trash) ? fs.readdirSync(trash) : []) found.push(`trash: ${trash}/${e}`);
        return found;
      },
      stop: async () => {
        // A failed test may leave a container running: remove them all as the user first.
        const ids = (await world.berth(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
        if (ids.length > 0) await world.berth(['rm', '-f', '-t', '0', ...ids]);
        await registry.stop();
        // The store holds files of subordinate owners: root removes them.
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    return world;
  } catch (error) {
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Finds `rel` (e.g. "home/tester/f") in the unpacked layers of the user's store. */
export function findInLayers(world: RootlessWorld, rel: string): string[] {
  const layers = path.join(world.home, '.local/share/berth');
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 4) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === 'diff') { if (fs.existsSync(path.join(p, rel))) out.push(path.join(p, rel)); continue; }
      walk(p, depth + 1);
    }
  };
  walk(layers, 0);
  return out;
}
