/**
 * Named volumes (-v NAME:/path, --mount type=volume) resolved to host directories through
 * src/volume: created on first use and, when new and empty, filled from the image's content at
 * that path (Podman's copy-up) unless `nocopy` is given.
 */
import fs from 'node:fs';
import type { StoragePaths } from '../paths/index.js';
import { RuntimeError } from '../errors/index.js';
import type { ContainerRecord } from './types.js';
import { resolveInRoot } from './command-check.js';

interface VolumeModule {
  ensureVolumeForMount(paths: StoragePaths, name: string): Promise<{ volume: { name: string; mountpoint: string }; created: boolean; needsCopyUp: boolean }>;
  copyUp(sourceDir: string, volume: { name: string; mountpoint: string }): Promise<void>;
}

// src/volume is loaded on demand so a container without named volumes never needs it; a literal
// specifier, so the CLI bundle (package.json "build") carries it as a chunk.

export async function resolveVolumeMounts(paths: StoragePaths, record: ContainerRecord, rootfs: string): Promise<{ source: string; destination: string; options: string[] }[]> {
  const wanted = record.options.mounts.filter((m) => m.kind === 'volume');
  if (wanted.length === 0) return [];
  let mod: VolumeModule;
  try {
    mod = (await import('../volume/index.js')) as unknown as VolumeModule;
  } catch (cause) {
    throw new RuntimeError('volumes-unavailable', 'named volumes are not available in this build', { cause });
  }
  const out = [];
  for (const m of wanted) {
    if (m.kind !== 'volume') continue;
    const { volume, needsCopyUp } = await mod.ensureVolumeForMount(paths, m.name);
    if (needsCopyUp && !m.options.includes('nocopy')) {
      const inImage = resolveInRoot(rootfs, m.destination);
      if (inImage && fs.existsSync(inImage) && fs.statSync(inImage).isDirectory()) await mod.copyUp(inImage, volume);
    }
    out.push({ source: volume.mountpoint, destination: m.destination, options: m.options });
  }
  return out;
}
