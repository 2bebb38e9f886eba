/**
 * Compiled seccomp filters, kept between container starts.
 *
 * crun turns the OCI `linux.seccomp` section into a BPF program with libseccomp at every start:
 * for containers-common's default profile that is ~20 ms of the ~35 ms a `crun run` takes here
 * (bench/start). crun also accepts the finished program in the annotation
 * `run.oci.seccomp_bpf_data` (base64; the seccomp section is then not compiled). So the first
 * start of a profile lets crun compile it once (`crun create` of a throwaway bundle that is never
 * started; crun writes the program to <state>/<id>/seccomp.bpf) and later starts pass that program.
 *
 * What the program depends on is the key, compared in full, never by a hash alone: the exact
 * seccomp section (caps, arch and kernel are already resolved into it), the crun binary (path,
 * size, mtime, inode: a crun or libseccomp upgrade through a new crun build recompiles) and the
 * kernel release (libseccomp probes the kernel's seccomp features). An entry that does not match,
 * or cannot be read, is compiled again; a failed compile leaves the start as before (crun compiles).
 * The cache lives in the store (<root>/cache/seccomp, as private as the store itself).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import type { OciSeccomp } from './seccomp.js';
import { spawn } from 'node:child_process';
import { crunBinary } from './crun.js';
import { warmUpMode } from './warm-up-mode.js';

export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

interface CacheEntry { crun: string; kernel: string; seccomp: string; bpf: string }

export function seccompCacheDir(paths: StoragePaths): string {
  return path.join(paths.root, 'cache', 'seccomp');
}

/**
 * A short name for the entry's file, from a sample of the key (every 16th character and the length;
 * hashing all ~8 kB costs ~2 ms in a one-shot process): two keys that share a name only replace
 * each other's entry, as equality of the full key is checked after reading it.
 */
function fileName(key: string): string {
  let h1 = 0x811c9dc5 ^ key.length, h2 = 0x01000193;
  for (let i = 0; i < key.length; i += 16) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}.json`;
}

function onPath(binary: string): string | undefined {
  if (binary.includes('/')) return binary;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir || '.', binary);
    if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  return undefined;
}

function crunIdentity(): string | undefined {
  const file = onPath(crunBinary());
  if (!file) return undefined;
  try {
    const st = fs.statSync(file);
    return `${path.resolve(file)}:${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch { return undefined; }
}

/** A filter can only be cached when it is the whole story: no flags, no notify listener. */
export function cacheableSeccomp(seccomp: OciSeccomp & { listenerPath?: string }): boolean {
  return !seccomp.flags?.length && !seccomp.listenerPath;
}

function readEntry(file: string, key: Omit<CacheEntry, 'bpf'>): string | undefined {
  let entry: CacheEntry;
  try { entry = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheEntry; } catch { return undefined; }
  if (entry.crun !== key.crun || entry.kernel !== key.kernel || entry.seccomp !== key.seccomp) return undefined;
  // A BPF program is a whole number of 8-byte instructions; anything else is a damaged entry.
  if (typeof entry.bpf !== 'string' || entry.bpf.length === 0 || Buffer.from(entry.bpf, 'base64').length % 8 !== 0) return undefined;
  return entry.bpf;
}

/**
 * No pipes: the created init inherits crun's stdio and lives until `delete`, so a reader of its
 * output would wait for it forever.
 */
function crunQuiet(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(crunBinary(), args, { stdio: 'ignore' });
    child.on('error', () => resolve(127));
    child.on('exit', (code) => resolve(code ?? 128));
  });
}

/** crun compiles the section for a container that is created and deleted, never started. */
async function compileWithCrun(paths: StoragePaths, seccomp: OciSeccomp): Promise<Buffer | undefined> {
  if (warmUpMode.rootfs) return undefined;   // the build's code-cache warm-up runs no crun
  fs.mkdirSync(paths.runroot, { recursive: true });
  const dir = fs.mkdtempSync(path.join(paths.runroot, 'seccomp-compile-'));
  const id = path.basename(dir);
  const state = path.join(dir, 'state');
  const global = ['--root', state, '--cgroup-manager=disabled'];
  try {
    fs.mkdirSync(path.join(dir, 'rootfs', 'dev'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'rootfs', 'never-run'), '', { mode: 0o755 });
    const config = {
      ociVersion: '1.0.2',
      process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['/never-run'], cwd: '/', env: [] },
      root: { path: 'rootfs' },
      mounts: [],
      linux: { namespaces: [{ type: 'mount' }], seccomp },
    };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    if (await crunQuiet([...global, 'create', '--bundle', dir, id]) !== 0) return undefined;
    try {
      const bpf = fs.readFileSync(path.join(state, id, 'seccomp.bpf'));
      return bpf.length > 0 && bpf.length % 8 === 0 ? bpf : undefined;
    } catch { return undefined; } finally {
      // `delete --force` alone leaves an init that has no cgroup (crun kills through the cgroup)
      await crunQuiet([...global, 'kill', id, 'KILL']);
      await crunQuiet([...global, 'delete', '--force', id]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The compiled program for `seccomp` (base64, as the annotation takes it), from the cache or
 * compiled now and cached; undefined when it cannot be had (crun then compiles as usual).
 */
export async function compiledSeccomp(paths: StoragePaths, seccomp: OciSeccomp, kernel: string): Promise<string | undefined> {
  if (!cacheableSeccomp(seccomp)) return undefined;
  const crun = crunIdentity();
  if (!crun) return undefined;
  const key = { crun, kernel, seccomp: JSON.stringify(seccomp) };
  const dir = seccompCacheDir(paths);
  const file = path.join(dir, fileName(`${key.crun}\n${key.kernel}\n${key.seccomp}`));
  const cached = readEntry(file, key);
  if (cached) return cached;
  const bpf = await compileWithCrun(paths, seccomp).catch(() => undefined);
  if (!bpf) return undefined;
  const entry: CacheEntry = { ...key, bpf: bpf.toString('base64') };
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch { /* a read-only store still starts containers, only without the cache */ }
  return entry.bpf;
}
