/**
 * A container's root file system: an overlay of the image's unpacked layers (shared, read-only)
 * with the container's own upper and work dirs under <root>/containers/<id>/. Nothing is copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runProc } from './proc.js';
import { RuntimeError } from '../errors/index.js';

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

/** Rootless (inside berth's user namespace): overlay's own markers are user.* xattrs (`userxattr`), as the layers were written. */
export async function mountRootfs(containerDir: string, layerDirs: string[], rootless = false): Promise<string> {
  const d = rootfsDirs(containerDir);
  for (const dir of [d.upper, d.work, d.merged]) fs.mkdirSync(dir, { recursive: true });
  if (isMounted(d.merged)) return d.merged;
  let lower = [...layerDirs].reverse();      // overlay wants the top layer first
  if (lower.length === 0) { fs.mkdirSync(d.empty, { recursive: true }); lower = [d.empty]; }
  for (const l of lower) {
    if (/[:,]/.test(l)) throw new RuntimeError('rootfs', `layer path ${l} contains ':' or ',' which overlay cannot take`, { context: { file: l } });
  }
  const options = `lowerdir=${lower.join(':')},upperdir=${d.upper},workdir=${d.work}${rootless ? ',userxattr' : ''}`;
  if (options.length > 4000) throw new RuntimeError('rootfs', `too many layers for one overlay mount (${lower.length})`, { context: { layers: lower.length } });
  const result = await runProc('mount', ['-t', 'overlay', 'overlay', '-o', options, d.merged]);
  if (result.exitCode !== 0) {
    throw new RuntimeError('rootfs', `cannot mount the container's root file system: ${String(result.stderr).trim()}`, { context: { file: d.merged } });
  }
  return d.merged;
}

export async function unmountRootfs(containerDir: string): Promise<void> {
  const { merged } = rootfsDirs(containerDir);
  if (!isMounted(merged)) return;
  const r = await runProc('umount', [merged]);
  if (r.exitCode !== 0 && isMounted(merged)) await runProc('umount', ['-l', merged]);
}
