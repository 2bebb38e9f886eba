/**
 * Repair on open: whatever a crash left behind is either unreachable (temps named after their
 * owner process) or never trusted (a layer without layer.json, an image record naming blobs
 * that are gone). Here the leftovers of gone processes are deleted; records are checked by gc.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoreLayout } from './layout.js';
import { isMountPoint } from './mount.js';
import { ownerGone } from './owner.js';

/**
 * The store's dirs. Made, and below looked through, synchronously: each call is microseconds on a
 * local file system, while in a pull's first milliseconds (the registry's round trips, the lock
 * helper's start) a thread-pool round trip costs milliseconds, and one per layer of the store added up.
 */
export async function createDirs(layout: StoreLayout): Promise<void> {
  for (const dir of [layout.blobsDir, layout.partialDir, layout.imagesTmp, layout.pinsDir, layout.linksDir, layout.emptyLayer, layout.layersTmp, layout.locksDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export async function removeLeftovers(layout: StoreLayout): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [layout.imagesTmp, layout.layersTmp]) {
    for (const name of names(dir)) {
      if (!ownerGone(name)) continue;
      await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    }
  }
  // Half-made short links (".<owner>" temps) of gone processes.
  for (const name of names(layout.linksDir)) {
    if (name.startsWith('.') && ownerGone(name.slice(1))) {
      await fs.promises.rm(path.join(layout.linksDir, name), { force: true });
      removed.push(path.join(layout.linksDir, name));
    }
  }
  // Layer dirs without their completion marker (never made by rename; e.g. a disk error).
  for (const name of names(layout.layersDir)) {
    if (!/^[a-f0-9]{64}$/.test(name) || fs.existsSync(path.join(layout.layersDir, name, 'layer.json'))) continue;
    await fs.promises.rm(path.join(layout.layersDir, name), { recursive: true, force: true });
    removed.push(path.join(layout.layersDir, name));
  }
  // Mount bookkeeping whose mount is gone (reboot, or unmounted by hand).
  for (const name of names(layout.mountsDir)) {
    const merged = path.join(layout.mountsDir, name, 'merged');
    if (!(await isMountPoint(merged))) {
      await fs.promises.rm(path.join(layout.mountsDir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
  return removed;
}
