/**
 * Named volumes on disk: <root>/volumes/NAME/_data holds the data, <root>/volumes/NAME/volume.json
 * the metadata. Create and remove run under a lock, and a volume appears only once complete
 * (built under a temporary name, then renamed into place).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VolumeError } from '../errors/index.js';
import { readJson, withFileLock, writeJsonAtomic } from '../network/index.js';
import type { StoragePaths } from '../paths/index.js';
import { parseVolumeOptions } from './options.js';

export interface Volume {
  name: string;
  mountpoint: string;
  driver: 'local';
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: string;
  anonymous?: boolean;
  /** Still empty and never used: the first container mounting it copies the image's content in. */
  needsCopyUp?: boolean;
  /** Still owned by root and never used: the first container chowns it to its user. */
  needsChown?: boolean;
}

export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function volumesDir(paths: StoragePaths): string {
  return path.join(paths.root, 'volumes');
}

export function volumeDir(paths: StoragePaths, name: string): string {
  return path.join(volumesDir(paths), name);
}

function metadataFile(paths: StoragePaths, name: string): string {
  return path.join(volumeDir(paths, name), 'volume.json');
}

export function volumesLock<T>(paths: StoragePaths, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(volumesDir(paths), '.lock'), fn);
}

export interface CreateVolumeOptions {
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ignoreIfExists?: boolean;
  anonymous?: boolean;
}

export async function createVolume(paths: StoragePaths, name: string, opts: CreateVolumeOptions = {}): Promise<Volume> {
  if (!VOLUME_NAME_PATTERN.test(name)) {
    throw new VolumeError('invalid-volume-name', `invalid volume name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit`, { context: { volume: name } });
  }
  const options = opts.options ?? {};
  const parsed = parseVolumeOptions(name, options);
  return volumesLock(paths, async () => {
    const existing = await getVolume(paths, name);
    if (existing) {
      if (opts.ignoreIfExists) return existing;
      throw new VolumeError('volume-exists', `volume "${name}" already exists`, { context: { volume: name } });
    }
    const finalDir = volumeDir(paths, name);
    const temp = path.join(volumesDir(paths), `.new-${name}-${randomBytes(4).toString('hex')}`);
    const volume: Volume = {
      name,
      mountpoint: path.join(finalDir, '_data'),
      driver: 'local',
      labels: opts.labels ?? {},
      options,
      createdAt: new Date().toISOString(),
      needsCopyUp: !parsed.nocopy,
      needsChown: parsed.uid === undefined && parsed.gid === undefined,
    };
    if (opts.anonymous) volume.anonymous = true;
    try {
      await fs.mkdir(path.join(temp, '_data'), { recursive: true, mode: 0o755 });
      await fs.chmod(path.join(temp, '_data'), 0o755);
      if (parsed.uid !== undefined || parsed.gid !== undefined) {
        await fs.chown(path.join(temp, '_data'), parsed.uid ?? 0, parsed.gid ?? 0);
      }
      await writeJsonAtomic(path.join(temp, 'volume.json'), volume);
      await fs.rm(finalDir, { recursive: true, force: true }); // a leftover without metadata
      await fs.rename(temp, finalDir);
    } catch (error) {
      await fs.rm(temp, { recursive: true, force: true });
      throw new VolumeError('volume-create', `cannot create volume "${name}": ${(error as Error).message}`, { context: { volume: name }, cause: error });
    }
    return volume;
  });
}

export async function getVolume(paths: StoragePaths, name: string): Promise<Volume | undefined> {
  if (!VOLUME_NAME_PATTERN.test(name)) return undefined;
  return readJson<Volume>(metadataFile(paths, name));
}

export async function requireVolume(paths: StoragePaths, name: string): Promise<Volume> {
  const volume = await getVolume(paths, name);
  if (!volume) throw new VolumeError('volume-not-found', `no volume with name "${name}" found: no such volume`, { context: { volume: name } });
  return volume;
}

export async function listVolumes(paths: StoragePaths): Promise<Volume[]> {
  let names: string[];
  try {
    names = await fs.readdir(volumesDir(paths));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const volumes: Volume[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const volume = await getVolume(paths, name).catch(() => undefined);
    if (volume) volumes.push(volume);
  }
  return volumes;
}

/** Records that the volume has been used (no more copy-up or chown on later mounts). */
export async function updateVolume(paths: StoragePaths, volume: Volume, changes: Partial<Pick<Volume, 'needsCopyUp' | 'needsChown'>>): Promise<Volume> {
  const current = (await getVolume(paths, volume.name)) ?? volume;
  const next = { ...current, ...changes };
  await writeJsonAtomic(metadataFile(paths, volume.name), next);
  return next;
}
