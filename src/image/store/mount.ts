/**
 * `berth image mount`: a read-only overlay of an image's layers at
 * <runroot>/image-mounts/<id>/merged, reference-counted (count file next to it) so that two
 * mounts need two unmounts, as Podman does. Mount options use the short relative layer links
 * (mount runs with cwd <root>/layers), so images with many layers fit the mount option limit.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImageError } from '../../errors/index.js';
import { writeFileAtomic } from './atomic.js';
import type { StoreLayout } from './layout.js';
import { overlayLowerdir } from './layers.js';

export function mountDir(layout: StoreLayout, imageId: string): { dir: string; merged: string; countFile: string } {
  const dir = path.join(layout.mountsDir, imageId);
  return { dir, merged: path.join(dir, 'merged'), countFile: path.join(dir, 'count') };
}

export async function isMountPoint(target: string): Promise<boolean> {
  const info = await fs.promises.readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined && unescapeMountinfo(field) === target) return true;
  }
  return false;
}

function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function mountCount(layout: StoreLayout, imageId: string): Promise<number> {
  const { merged, countFile } = mountDir(layout, imageId);
  if (!(await isMountPoint(merged))) return 0;
  const text = await fs.promises.readFile(countFile, 'utf8').catch(() => '1');
  return Math.max(1, Number.parseInt(text, 10) || 1);
}

/** Call with the image's mount lock held. */
export async function mountLayersLocked(layout: StoreLayout, imageId: string, chainIds: string[], rootless: boolean): Promise<string> {
  const { dir, merged, countFile } = mountDir(layout, imageId);
  const count = await mountCount(layout, imageId);
  await fs.promises.mkdir(merged, { recursive: true });
  if (count === 0) {
    const { cwd, lowerdir } = overlayLowerdir(layout, chainIds);
    const options = [`lowerdir=${lowerdir}`, ...(rootless ? ['userxattr'] : [])].join(',');
    await run('mount', ['-t', 'overlay', '-o', options, 'overlay', merged], cwd, `mount image ${imageId.slice(0, 12)}`);
  }
  await writeFileAtomic(countFile, String(count + 1), dir);
  return merged;
}

/** Call with the image's mount lock held. Returns the mount count left. */
export async function unmountLayersLocked(layout: StoreLayout, imageId: string, force = false): Promise<number> {
  const { dir, merged, countFile } = mountDir(layout, imageId);
  const count = await mountCount(layout, imageId);
  if (count === 0) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    if (force) return 0;
    throw new ImageError('image-not-mounted', `image ${imageId.slice(0, 12)} is not mounted`, { context: { image: imageId }, exitCode: 125 });
  }
  if (count > 1 && !force) {
    await writeFileAtomic(countFile, String(count - 1), dir);
    return count - 1;
  }
  await run('umount', [merged], '/', `unmount image ${imageId.slice(0, 12)}`);
  await fs.promises.rm(dir, { recursive: true, force: true });
  return 0;
}

function run(command: string, args: string[], cwd: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd }, (error, _stdout, stderr) => {
      if (error) reject(new ImageError('image-mount-failed', `cannot ${what}: ${String(stderr).trim() || error.message}`, { cause: error }));
      else resolve();
    });
  });
}
