/**
 * Named volumes (-v NAME:/path, --mount type=volume) resolved to host directories through
 * src/volume: created on first use and, when new and empty, filled from the image's content at
 * that path (Podman's copy-up) unless `nocopy` is given.
 * Anonymous volumes (-v /path, --mount type=volume without source, each path of the image's
 * Volumes that no other mount covers) are named at create (64 hex digits, as Podman), created in
 * the volume store marked anonymous, and removed with the container by `rm -v` and `--rm`.
 */
import { randomHex } from './random.js';
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import { RuntimeError } from '../errors/index.js';
import type { ContainerRecord, MountRequest } from './types.js';
import { resolveInRoot } from './command-check.js';
import { warnOnce } from './host.js';

interface VolumeModule {
  ensureVolumeForMount(paths: StoragePaths, name: string): Promise<{ volume: { name: string; mountpoint: string }; created: boolean; needsCopyUp: boolean }>;
  copyUp(sourceDir: string, volume: { name: string; mountpoint: string }): Promise<void>;
  createVolume(paths: StoragePaths, name: string, opts: { anonymous?: boolean }): Promise<unknown>;
  removeVolume(paths: StoragePaths, name: string, opts: { force?: boolean; inUse?: (name: string) => boolean }): Promise<void>;
}

async function volumeModule(): Promise<VolumeModule> {
  try {
    return (await import('../volume/index.js')) as unknown as VolumeModule;
  } catch (cause) {
    throw new RuntimeError('volumes-unavailable', 'named volumes are not available in this build', { cause });
  }
}

/**
 * The mounts a new container gets: its own, each anonymous one named, plus an anonymous volume
 * for each of the image's Volumes no mount covers. The anonymous volumes are created now (so
 * `volume ls` shows them, as Podman); `undo` removes them if the container is not created after all.
 */
export async function assignAnonymousVolumes(paths: StoragePaths, mounts: MountRequest[], imageVolumes: Record<string, object> | null | undefined): Promise<{ mounts: MountRequest[]; undo: () => Promise<void> }> {
  const out: MountRequest[] = mounts.map((m) => (m.kind === 'volume' && m.anonymous ? { ...m, name: anonymousName() } : m));
  const covered = new Set(out.map((m) => m.destination));
  for (const dest of Object.keys(imageVolumes ?? {}).sort()) {
    const destination = path.posix.normalize(dest.startsWith('/') ? dest : `/${dest}`);
    if (covered.has(destination)) continue;
    covered.add(destination);
    out.push({ kind: 'volume', name: anonymousName(), anonymous: true, destination, options: [] });
  }
  const names = out.flatMap((m) => (m.kind === 'volume' && m.anonymous ? [m.name] : []));
  const created: string[] = [];
  const undo = async () => {
    if (created.length === 0) return;
    const mod = await volumeModule();
    for (const name of created) await mod.removeVolume(paths, name, { force: true }).catch(() => undefined);
  };
  if (names.length === 0) return { mounts: out, undo };
  const mod = await volumeModule();
  try {
    for (const name of names) { await mod.createVolume(paths, name, { anonymous: true }); created.push(name); }
  } catch (error) {
    await undo();
    throw error;
  }
  return { mounts: out, undo };
}

function anonymousName(): string {
  return randomHex(32);
}

/** `rm -v`, `--rm`: the container's anonymous volumes, unless another container still names one. */
export async function removeAnonymousVolumes(paths: StoragePaths, record: ContainerRecord, others: ContainerRecord[]): Promise<void> {
  const names = record.options.mounts.flatMap((m) => (m.kind === 'volume' && m.anonymous ? [m.name] : []));
  if (names.length === 0) return;
  const usedElsewhere = (name: string) => others.some((r) => r.id !== record.id && r.options.mounts.some((m) => m.kind === 'volume' && m.name === name));
  const mod = await volumeModule();
  for (const name of names) {
    if (usedElsewhere(name)) continue;
    // The container is gone already: a volume that cannot go now is said, not fatal (`volume prune` takes it later).
    await mod.removeVolume(paths, name, { inUse: usedElsewhere }).catch((error: unknown) => {
      if (!/no such volume/.test((error as Error).message)) warnOnce(`anonymous volume ${name} of container ${record.name} not removed: ${(error as Error).message}`);
    });
  }
}

// src/volume is loaded on demand so a container without named volumes never needs it; a literal
// specifier, so the CLI bundle (package.json "build") carries it as a chunk.

export async function resolveVolumeMounts(paths: StoragePaths, record: ContainerRecord, rootfs: string): Promise<{ source: string; destination: string; options: string[] }[]> {
  const wanted = record.options.mounts.filter((m) => m.kind === 'volume');
  if (wanted.length === 0) return [];
  const mod = await volumeModule();
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
