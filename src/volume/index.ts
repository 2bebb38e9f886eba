/**
 * Named volumes (local driver): create, inspect, list, remove, prune; what the runtime needs at
 * mount time (ensure, copy-up, ownership, mounting typed volumes).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VolumeError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { unmountVolumeDir } from './mount.js';
import { createVolume, getVolume, listVolumes, requireVolume, volumeDir, volumesDir, volumesLock, type Volume } from './store.js';

export { createVolume, getVolume, listVolumes, requireVolume, VOLUME_NAME_PATTERN, type Volume, type CreateVolumeOptions } from './store.js';
export { copyUp, chownVolume } from './copyup.js';
export { acquireVolume, releaseVolume } from './mount.js';
export { parseVolumeOptions, type VolumeOptions } from './options.js';

/** The volume a `-v NAME:/path` needs, created if missing. */
export async function ensureVolumeForMount(paths: StoragePaths, name: string): Promise<{ volume: Volume; created: boolean; needsCopyUp: boolean }> {
  let volume = await getVolume(paths, name);
  let created = false;
  if (!volume) {
    volume = await createVolume(paths, name, { ignoreIfExists: true });
    created = true;
  }
  let needsCopyUp = volume.needsCopyUp === true;
  if (needsCopyUp) needsCopyUp = (await fs.readdir(volume.mountpoint).catch(() => [])).length === 0;
  return { volume, created, needsCopyUp };
}

export interface RemoveVolumeOptions {
  force?: boolean;
  /** True when a container (running or not) refers to the volume; the runtime knows. */
  inUse?: (name: string) => boolean;
}

export async function removeVolume(paths: StoragePaths, name: string, opts: RemoveVolumeOptions = {}): Promise<void> {
  const volume = await requireVolume(paths, name);
  const mountedFor = await fs.readdir(path.join(paths.runroot, 'volumes', name, 'users')).catch(() => [] as string[]);
  if (!opts.force && (opts.inUse?.(name) || mountedFor.length > 0)) {
    throw new VolumeError('volume-in-use', `volume "${name}" is being used by a container (remove it first, or use -f)`, { context: { volume: name } });
  }
  await volumesLock(paths, async () => {
    await unmountVolumeDir(volume);
    // Rename first so a crash half way through never leaves a half-deleted volume listed.
    const trash = path.join(volumesDir(paths), `.trash-${name}-${randomBytes(4).toString('hex')}`);
    await fs.rename(volumeDir(paths, name), trash);
    await fs.rm(trash, { recursive: true, force: true });
    await fs.rm(path.join(paths.runroot, 'volumes', name), { recursive: true, force: true });
  });
}

/** Removes every volume no container uses (optionally only those whose labels match). */
export async function pruneVolumes(paths: StoragePaths, opts: { inUse?: (name: string) => boolean; labels?: Record<string, string | undefined> } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const volume of await listVolumes(paths)) {
    if (opts.labels && !matchesLabels(volume.labels, opts.labels)) continue;
    if (opts.inUse?.(volume.name)) continue;
    try {
      await removeVolume(paths, volume.name, { inUse: opts.inUse });
      removed.push(volume.name);
    } catch (error) {
      if (!(error instanceof VolumeError && error.code === 'volume-in-use')) throw error;
    }
  }
  return removed;
}

export function matchesLabels(labels: Record<string, string>, wanted: Record<string, string | undefined>): boolean {
  return Object.entries(wanted).every(([key, value]) => key in labels && (value === undefined || labels[key] === value));
}
