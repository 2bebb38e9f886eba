/**
 * Pins: the blobs and layers an in-flight pull relies on before its image is recorded. Kept in
 * one file per process (<pins>/<pid>-<boot>.json); gc keeps everything a live process pins.
 * Pins are written under the store lock, the same lock gc holds, so gc never deletes a blob
 * between a pull's "it is there" and its recordImage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { StoreLayout } from './layout.js';
import { bootId, ownerGone } from './owner.js';

export interface PinSet { blobs: Set<string>; chains: Set<string> }

export class Pins {
  private readonly blobs = new Map<string, number>();
  private readonly chains = new Map<string, number>();
  constructor(private readonly layout: StoreLayout) {}

  private get file(): string {
    return path.join(this.layout.pinsDir, `${process.pid}-${bootId()}-pins.json`);
  }

  /** Call with the store lock held. */
  async add(blobs: string[], chains: string[]): Promise<void> {
    let changed = false;
    for (const b of blobs) { changed ||= !this.blobs.has(b); this.blobs.set(b, 1); }
    for (const c of chains) { changed ||= !this.chains.has(c); this.chains.set(c, 1); }
    if (changed) await this.save();
  }

  /** Call with the store lock held. */
  async release(blobs: string[], chains: string[]): Promise<void> {
    let changed = false;
    for (const [map, keys] of [[this.blobs, blobs], [this.chains, chains]] as const) {
      for (const k of keys) {
        if (map.delete(k)) changed = true;
      }
    }
    if (changed) await this.save();
  }

  /** Already pinned, all of them (then add() would write nothing). */
  covers(blobs: string[], chains: string[]): boolean {
    return blobs.every((b) => this.blobs.has(b)) && chains.every((c) => this.chains.has(c));
  }

  has(blob: string): boolean {
    return this.blobs.has(blob);
  }

  private async save(): Promise<void> {
    if (this.blobs.size === 0 && this.chains.size === 0) {
      await fs.promises.rm(this.file, { force: true });
      return;
    }
    // Not fsynced: pins only mean something while this process lives (gc drops those of gone ones).
    await writeFileAtomic(this.file, JSON.stringify({ blobs: [...this.blobs.keys()], chains: [...this.chains.keys()] }), this.layout.imagesTmp, 0o644, { durable: false });
  }
}

/** Everything live processes pin (stale pin files of gone processes are removed). Call under the store lock. */
export async function readAllPins(layout: StoreLayout): Promise<PinSet> {
  const result: PinSet = { blobs: new Set(), chains: new Set() };
  let names: string[];
  try {
    names = await fs.promises.readdir(layout.pinsDir);
  } catch {
    return result;
  }
  for (const name of names) {
    const file = path.join(layout.pinsDir, name);
    if (ownerGone(name)) {
      await fs.promises.rm(file, { force: true });
      continue;
    }
    try {
      const data = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { blobs?: string[]; chains?: string[] };
      for (const b of data.blobs ?? []) result.blobs.add(b);
      for (const c of data.chains ?? []) result.chains.add(c);
    } catch {
      // replaced atomically, so unreadable means removed under us: nothing pinned
    }
  }
  return result;
}
