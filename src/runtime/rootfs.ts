/**
 * A container's root file system: an overlay of the image's unpacked layers (shared, read-only)
 * with the container's own upper and work dirs under <root>/containers/<id>/. Nothing is copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runProc } from './proc.js';
import { RuntimeError } from '../errors/index.js';
import { kernelRelease } from './host.js';
import { helperSyscall } from '../image/store/locks.js';
import { warmUpMode } from './warm-up-mode.js';

/**
 * mount(2) and umount2(2) numbers, for the lock helper to call directly (src/image/store/locks.ts):
 * a mount(8) and an umount(8) child cost ~10 ms of every container start. Other architectures
 * use mount(8)/umount(8).
 */
const SYSCALLS: Record<string, { mount: number; umount2: number }> = {
  x64: { mount: 165, umount2: 166 },
  arm64: { mount: 40, umount2: 39 },
  riscv64: { mount: 40, umount2: 39 },
};
const EINVAL = 22, ENOENT = 2, EBUSY = 16, MNT_DETACH = 2;
export interface RootfsDirs { upper: string; work: string; merged: string; empty: string }

export function rootfsDirs(containerDir: string): RootfsDirs {
  return {
    upper: path.join(containerDir, 'upper'),
    work: path.join(containerDir, 'work'),
    merged: path.join(containerDir, 'merged'),
    empty: path.join(containerDir, 'empty'),
  };
}

export function isMounted(target: string, mountinfo: string = fs.readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  const resolved = path.resolve(target);
  return mountinfo.split('\n').some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === resolved);
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** overlayfs' `volatile` option: Linux 5.10 and later. */
export function overlayVolatileSupported(release: string = kernelRelease()): boolean {
  const [major, minor] = release.split('.').map((n) => parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 10);
}

/**
 * `rootless` (inside berth's user namespace): overlay's own markers are user.* xattrs (`userxattr`),
 * as the layers were written.
 * `volatile` (for --rm containers, as Podman does): the overlay skips every sync, so its unmount
 * does not flush the whole upper file system (tens of ms when the disk is busy). A crash then may
 * lose the upper dir's recent writes, which a --rm container throws away anyway. overlayfs refuses
 * to mount a work dir that a volatile mount used until it is emptied (a `create --rm` container
 * started twice), so it is emptied first.
 */
export interface RootfsMountOptions { volatile?: boolean; rootless?: boolean }

export async function mountRootfs(containerDir: string, layerDirs: string[], mountOptions: RootfsMountOptions = {}): Promise<string> {
  if (warmUpMode.rootfs) return warmUpMode.rootfs;   // the build's code-cache warm-up (warm-up.ts)
  const d = rootfsDirs(containerDir);
  // (a new container has no merged dir yet: no need to read the mount table)
  if (fs.existsSync(d.merged) && isMounted(d.merged)) return d.merged;
  // overlayfs leaves work/work/incompat/volatile behind a volatile mount, even a cleanly unmounted one
  if (fs.existsSync(path.join(d.work, 'work', 'incompat'))) fs.rmSync(d.work, { recursive: true, force: true });
  for (const dir of [d.upper, d.work, d.merged]) fs.mkdirSync(dir, { recursive: true });
  let lower = [...layerDirs].reverse();      // overlay wants the top layer first
  if (lower.length === 0) { fs.mkdirSync(d.empty, { recursive: true }); lower = [d.empty]; }
  for (const l of lower) {
    if (/[:,]/.test(l)) throw new RuntimeError('rootfs', `layer path ${l} contains ':' or ',' which overlay cannot take`, { context: { file: l } });
  }
  const volatile = mountOptions.volatile && overlayVolatileSupported() ? ',volatile' : '';
  const userxattr = mountOptions.rootless ? ',userxattr' : '';
  const options = `lowerdir=${lower.join(':')},upperdir=${d.upper},workdir=${d.work}${volatile}${userxattr}`;
  if (options.length > 4000) throw new RuntimeError('rootfs', `too many layers for one overlay mount (${lower.length})`, { context: { layers: lower.length } });
  const nr = SYSCALLS[process.arch];
  const direct = nr && helperSyscall(nr.mount, ['overlay', d.merged, 'overlay', { int: 0 }, options]);
  if (direct) {
    const r = await direct;
    if (!r.ok) throw new RuntimeError('rootfs', `cannot mount the container's root file system: mount(2) of overlay on ${d.merged}: ${r.message}`, { context: { file: d.merged } });
    return d.merged;
  }
  const result = await runProc('mount', ['-t', 'overlay', 'overlay', '-o', options, d.merged]);
  if (result.exitCode !== 0) {
    throw new RuntimeError('rootfs', `cannot mount the container's root file system: ${String(result.stderr).trim()}`, { context: { file: d.merged } });
  }
  return d.merged;
}

export async function unmountRootfs(containerDir: string): Promise<void> {
  if (warmUpMode.rootfs) return;
  const { merged } = rootfsDirs(containerDir);
  const nr = SYSCALLS[process.arch];
  const direct = nr && helperSyscall(nr.umount2, [merged, { int: 0 }]);
  if (direct) {
    const r = await direct;
    // EINVAL: not a mount point (already unmounted); ENOENT: no such directory any more
    if (r.ok || r.errno === EINVAL || r.errno === ENOENT) return;
    // busy: detached now, freed when its last user goes (as `umount -l` below)
    if (r.errno === EBUSY) await helperSyscall(nr.umount2, [merged, { int: MNT_DETACH }]);
    return;
  }
  if (!isMounted(merged)) return;
  const r = await runProc('umount', [merged]);
  if (r.exitCode !== 0 && isMounted(merged)) await runProc('umount', ['-l', merged]);
}
