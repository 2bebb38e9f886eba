/**
 * Volumes with type= are mounted on their _data directory while containers use them, and
 * unmounted when the last user lets go. Users are files under <runroot>/volumes/NAME/users/,
 * so the count survives berth exiting (there is no daemon).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runProc } from '../runtime/proc.js';
import { VolumeError } from '../errors/index.js';
import { withFileLock } from '../network/index.js';
import type { StoragePaths } from '../paths/index.js';
import { parseVolumeOptions } from './options.js';
import type { Volume } from './store.js';

function usersDir(paths: StoragePaths, name: string): string {
  return path.join(paths.runroot, 'volumes', name, 'users');
}

function lockFor(paths: StoragePaths, name: string): string {
  return path.join(paths.runroot, 'volumes', name, '.lock');
}

export async function isMountPoint(dir: string): Promise<boolean> {
  const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const escaped = dir.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === escaped);
}

/** Makes the volume's content available at its mountpoint for `user` (a container ID). */
export async function acquireVolume(paths: StoragePaths, volume: Volume, user: string): Promise<string> {
  const parsed = parseVolumeOptions(volume.name, volume.options);
  if (!parsed.type) return volume.mountpoint;
  return withFileLock(lockFor(paths, volume.name), async () => {
    await fs.mkdir(usersDir(paths, volume.name), { recursive: true });
    if (!(await isMountPoint(volume.mountpoint))) {
      const args = ['-t', parsed.type === 'bind' ? 'none' : parsed.type!];
      const options = [...parsed.mountOptions];
      if (parsed.type === 'bind' && !options.includes('bind') && !options.includes('rbind')) options.unshift('bind');
      if (options.length > 0) args.push('-o', options.join(','));
      args.push(parsed.device ?? parsed.type!, volume.mountpoint);
      const result = await runProc('mount', args);
      if (result.exitCode !== 0) {
        throw new VolumeError('volume-mount', `cannot mount volume "${volume.name}" (mount ${args.join(' ')}): ${result.stderr.trim()}`, { context: { volume: volume.name } });
      }
    }
    await fs.writeFile(path.join(usersDir(paths, volume.name), user), '');
    return volume.mountpoint;
  });
}

/** Drops `user`; the last one out unmounts. Idempotent. */
export async function releaseVolume(paths: StoragePaths, volume: Volume, user: string): Promise<void> {
  const parsed = parseVolumeOptions(volume.name, volume.options);
  if (!parsed.type) return;
  await withFileLock(lockFor(paths, volume.name), async () => {
    await fs.rm(path.join(usersDir(paths, volume.name), user), { force: true });
    const left = await fs.readdir(usersDir(paths, volume.name)).catch(() => [] as string[]);
    if (left.length === 0) await unmountVolumeDir(volume);
  });
}

export async function unmountVolumeDir(volume: Volume): Promise<void> {
  if (!(await isMountPoint(volume.mountpoint))) return;
  const result = await runProc('umount', [volume.mountpoint]);
  if (result.exitCode !== 0) {
    const lazy = await runProc('umount', ['-l', volume.mountpoint]);
    if (lazy.exitCode !== 0) throw new VolumeError('volume-unmount', `cannot unmount volume "${volume.name}": ${lazy.stderr.trim()}`, { context: { volume: volume.name } });
  }
}
