/**
 * Freeing what nothing uses. Run under the store lock (the lock pins are written under), so a
 * concurrent pull's blobs and layers (pinned) survive. A blob or layer is kept while any image
 * record or any live pin names it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { digestHex } from './digest.js';
import type { StoredImage } from './images.js';
import type { StoreLayout } from './layout.js';
import { listLayerChains, removeLayer } from './layers.js';
import { readAllPins } from './pins.js';

export function blobsOf(image: StoredImage): string[] {
  return [...image.digests, image.configDigest, ...image.layers.map((l) => l.digest), ...(image.otherBlobs ?? [])];
}

export interface GcResult { blobs: string[]; layers: string[] }

/**
 * Removes blobs and layers no remaining image or pin uses. With `candidates`, only those are
 * considered (rmi); without, everything in the store (prune).
 */
export async function collectGarbage(layout: StoreLayout, remaining: StoredImage[], candidates?: { blobs: string[]; chains: string[] }): Promise<GcResult> {
  const pins = await readAllPins(layout);
  const usedBlobs = new Set<string>(pins.blobs);
  const usedChains = new Set<string>(pins.chains);
  for (const image of remaining) {
    for (const b of blobsOf(image)) usedBlobs.add(b);
    for (const c of image.chainIds) usedChains.add(c);
  }
  const blobList = candidates?.blobs ?? (await fs.promises.readdir(layout.blobsDir).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  const chainList = candidates?.chains ?? (await listLayerChains(layout));
  const result: GcResult = { blobs: [], layers: [] };
  for (const chain of new Set(chainList)) {
    if (usedChains.has(chain)) continue;
    await removeLayer(layout, chain);
    result.layers.push(chain);
  }
  for (const blob of new Set(blobList)) {
    if (usedBlobs.has(blob)) continue;
    const file = path.join(layout.blobsDir, digestHex(blob));
    try {
      await fs.promises.unlink(file);
      result.blobs.push(blob);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return result;
}
