/**
 * Unpacked layers, shared between images by chain ID: <layers>/<chainhex>/diff. A layer is
 * unpacked into <layers>/tmp/<owner>-<chainhex>/diff, its diff ID verified, layer.json written,
 * and only then the whole dir renamed into place, so a crash never leaves a half layer in use
 * (a final dir always holds layer.json; leftovers in tmp/ are removed by repair).
 * Each layer also gets a short symlink <layers>/l/<short> -> ../<chainhex>/diff so that an
 * overlay of many layers fits the one-page limit of mount options (mount from cwd <layers>).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImageError } from '../../errors/index.js';
import { readJson } from './atomic.js';
import { shortName } from './chain.js';
import { digestHex } from './digest.js';
import { layerDiffDir, layerDir, type StoreLayout } from './layout.js';
import { ownedTempName } from './owner.js';
import { unpackLayerFile } from './unpack.js';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** Digest of the blob it came from (compressed). */
  digest: string;
  compression: string;
  /** Bytes of file content. */
  size: number;
  entries: number;
  short: string;
  unpackedAt: string;
  warnings?: string[];
}

export async function readLayerRecord(layout: StoreLayout, chainId: string): Promise<LayerRecord | undefined> {
  try {
    return await readJson<LayerRecord>(path.join(layerDir(layout, digestHex(chainId)), 'layer.json'));
  } catch {
    return undefined;
  }
}

export interface UnpackRequest {
  chainId: string;
  diffId: string;
  digest: string;
  blobFile: string;
  keepOwnership: boolean;
  /** Overlay markers in user.* xattrs (mounted with userxattr), as an unprivileged user must. */
  rootless?: boolean;
}

/** Call with the layer's lock held. Returns the diff dir. */
export async function ensureLayerLocked(layout: StoreLayout, request: UnpackRequest): Promise<string> {
  const chainHex = digestHex(request.chainId);
  const final = layerDir(layout, chainHex);
  const record = await readLayerRecord(layout, request.chainId);
  if (record) {
    await ensureShortLink(layout, chainHex, record.short);
    return layerDiffDir(layout, chainHex);
  }
  // A final dir without layer.json cannot come from our rename; remove whatever it is.
  await fs.promises.rm(final, { recursive: true, force: true });
  const tmp = path.join(layout.layersTmp, ownedTempName(chainHex.slice(0, 12)));
  await fs.promises.mkdir(path.join(tmp, 'diff'), { recursive: true });
  try {
    const result = await unpackLayerFile(request.blobFile, path.join(tmp, 'diff'), {
      diffId: request.diffId,
      keepOwnership: request.keepOwnership,
      opaqueXattr: request.keepOwnership && !request.rootless ? 'trusted.overlay.opaque' : 'user.overlay.opaque',
      layer: request.digest,
    });
    const layerRecord: LayerRecord = {
      chainId: request.chainId,
      diffId: result.diffId,
      digest: request.digest,
      compression: result.compression,
      size: result.size,
      entries: result.entries,
      short: shortName(request.chainId),
      unpackedAt: new Date().toISOString(),
      ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    };
    // No fsync: the dir becomes visible only by the rename below, so a killed process never leaves
    // a half layer in use. (Like containers/storage, layer files are not fsynced: after a power
    // loss an unreadable layer.json makes the layer count as missing, and it is unpacked again.)
    await fs.promises.writeFile(path.join(tmp, 'layer.json'), JSON.stringify(layerRecord, null, 2));
    await fs.promises.rename(tmp, final);
    await ensureShortLink(layout, chainHex, layerRecord.short);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return layerDiffDir(layout, chainHex);
}

export async function ensureShortLink(layout: StoreLayout, chainHex: string, short: string): Promise<void> {
  const link = path.join(layout.linksDir, short);
  const target = `../${chainHex}/diff`;
  try {
    if ((await fs.promises.readlink(link)) === target) return;
    await fs.promises.rm(link, { force: true });
  } catch {
    // missing: create below
  }
  const tmp = path.join(layout.linksDir, `.${ownedTempName()}`);
  await fs.promises.symlink(target, tmp);
  await fs.promises.rename(tmp, link);
}

/** Call with the store lock held (gc). */
export async function removeLayer(layout: StoreLayout, chainId: string): Promise<void> {
  const chainHex = digestHex(chainId);
  const short = shortName(chainId);
  await fs.promises.rm(path.join(layout.linksDir, short), { force: true });
  // Rename first so a crash mid-delete never leaves a "complete" layer with missing files.
  const final = layerDir(layout, chainHex);
  const doomed = path.join(layout.layersTmp, ownedTempName(`rm-${chainHex.slice(0, 12)}`));
  try {
    await fs.promises.rename(final, doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await fs.promises.rm(doomed, { recursive: true, force: true });
}

export async function listLayerChains(layout: StoreLayout): Promise<string[]> {
  const names = await fs.promises.readdir(layout.layersDir).catch(() => [] as string[]);
  return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
}

/**
 * The overlay lowerdir option for layer dirs (bottom -> top), with short relative names: mount
 * with `cwd` = the returned dir. Overlay wants the top layer first, so the list is reversed here.
 */
export function overlayLowerdir(layout: StoreLayout, chainIdsBottomUp: string[]): { cwd: string; lowerdir: string } {
  const names = chainIdsBottomUp.map((c) => `l/${shortName(c)}`).reverse();
  if (names.length === 1) names.push('empty');
  if (names.length === 0) throw new ImageError('image-no-layers', 'image has no layers to mount');
  return { cwd: layout.layersDir, lowerdir: names.join(':') };
}

/**
 * The same, from ImageHandle.layerDirs alone (<root>/layers/<chainhex>/diff, bottom -> top):
 * for RUNTIME, whose mount options would overflow one page with 20+ long paths. Dirs that are
 * not store layers are passed through as absolute paths.
 */
export function overlayLowerdirForDirs(layerDirs: string[]): { cwd: string; lowerdir: string } {
  if (layerDirs.length === 0) throw new ImageError('image-no-layers', 'image has no layers to mount');
  const layersDir = path.dirname(path.dirname(layerDirs[0]!));
  const names = layerDirs.map((dir) => {
    const chainHex = path.basename(path.dirname(dir));
    const inStore = path.basename(dir) === 'diff' && path.dirname(path.dirname(dir)) === layersDir && /^[a-f0-9]{64}$/.test(chainHex);
    return inStore ? `l/${shortName(`sha256:${chainHex}`)}` : path.resolve(dir);
  }).reverse();
  return { cwd: layersDir, lowerdir: names.join(':') };
}
