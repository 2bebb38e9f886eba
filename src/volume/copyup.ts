/**
 * Copy-up: a new, empty volume mounted over a path that has content in the image gets that
 * content first (owners, modes, symlinks, hard links, xattrs kept), as Podman does. Also the
 * ownership rules: a new volume takes the container user's ownership; `:U` chowns recursively.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runProc } from '../runtime/proc.js';
import { VolumeError } from '../errors/index.js';
import { writeJsonAtomic } from '../network/index.js';
import type { Volume } from './store.js';

async function isEmptyDir(dir: string): Promise<boolean> {
  const entries = await fs.readdir(dir).catch(() => ['?']);
  return entries.length === 0;
}

/** The metadata file sits next to _data; copy-up runs once, so it clears the flag there. */
async function clearFlag(volume: Volume, flag: 'needsCopyUp' | 'needsChown'): Promise<void> {
  const file = path.join(path.dirname(volume.mountpoint), 'volume.json');
  const current = JSON.parse(await fs.readFile(file, 'utf8')) as Volume;
  if (current[flag]) await writeJsonAtomic(file, { ...current, [flag]: false });
  volume[flag] = false;
}

/**
 * Fills the volume from `sourceDir` (the image's content at the mount destination) if the volume
 * is still marked for copy-up and empty. Call it whenever ensureVolumeForMount said needsCopyUp,
 * also when the image has nothing at that path: that clears the mark.
 */
export async function copyUp(sourceDir: string, volume: Volume): Promise<void> {
  const source = await fs.lstat(sourceDir).catch(() => undefined);
  if (source?.isDirectory() && (await isEmptyDir(volume.mountpoint)) && !(await isEmptyDir(sourceDir))) {
    const result = await runProc('cp', ['-a', '--no-target-directory', `${sourceDir}/.`, `${volume.mountpoint}/`]);
    if (result.exitCode !== 0) {
      // Leave the volume as it was: empty.
      for (const entry of await fs.readdir(volume.mountpoint)) await fs.rm(path.join(volume.mountpoint, entry), { recursive: true, force: true });
      throw new VolumeError('copy-up', `cannot copy ${sourceDir} into volume "${volume.name}": ${result.stderr.trim()}`, { context: { volume: volume.name } });
    }
  }
  if (source?.isDirectory()) {
    // The volume's root takes the image directory's owner and mode.
    await fs.chown(volume.mountpoint, source.uid, source.gid);
    await fs.chmod(volume.mountpoint, source.mode & 0o7777);
  }
  await clearFlag(volume, 'needsCopyUp');
}

/**
 * Ownership at mount time: `recursive` (the `U` option) chowns everything to uid:gid; otherwise
 * only a volume never used before has its root handed to the container's user.
 */
export async function chownVolume(volume: Volume, uid: number, gid: number, options: { recursive?: boolean } = {}): Promise<void> {
  if (options.recursive) {
    const result = await runProc('chown', ['-R', '-h', `${uid}:${gid}`, volume.mountpoint]);
    if (result.exitCode !== 0) throw new VolumeError('volume-chown', `cannot chown volume "${volume.name}" to ${uid}:${gid}: ${result.stderr.trim()}`, { context: { volume: volume.name } });
  } else if (volume.needsChown) {
    await fs.chown(volume.mountpoint, uid, gid);
  }
  if (volume.needsChown) await clearFlag(volume, 'needsChown');
}
