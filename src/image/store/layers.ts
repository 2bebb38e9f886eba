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
import { blobPath, exists, partialPath, writeBlobLocked } from './blobs.js';
import { unpackLayerFile, type UnpackOptions, type UnpackResult } from './unpack.js';
import { layerUnpacker } from './unpack-pool.js';

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
  const file = path.join(layerDir(layout, digestHex(chainId)), 'layer.json');
  if (!fs.existsSync(file)) return undefined;   // a quick look first (blobs.ts: exists)
  try {
    return await readJson<LayerRecord>(file);
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
  const record = await readLayerRecord(layout, request.chainId);
  if (record) {
    await ensureShortLink(layout, chainHex, record.short);
    return layerDiffDir(layout, chainHex);
  }
  const tmp = await prepareLayerTemp(layout, chainHex);
  try {
    const result = await unpackLayerFile(request.blobFile, path.join(tmp, 'diff'), unpackOptions(request));
    await writeLayerRecord(tmp, request, result);
    await publishLayer(layout, tmp, request.chainId);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return layerDiffDir(layout, chainHex);
}

export interface StreamLayerRequest extends Omit<UnpackRequest, 'blobFile'> {
  /** The blob's size from the manifest. */
  size: number;
  /** Settles when the layer is pinned (gc keeps it): awaited before a layer is made visible or relied on. */
  pinned?: Promise<void>;
  /** Unpack in the worker thread (default: a large layer only; see unpack-pool.ts). */
  inWorker?: boolean;
}

/**
 * Call with the blob's lock, then the layer's lock held. Stores the blob from `source` and
 * unpacks it in the same pass: the bytes go to the blob's partial file and digest, and through
 * the decompressor, the diff-ID hash and the strict extractor into a temp layer dir. The blob and
 * the layer are committed only when digest, size and diff ID all verify. A refused layer (unsafe
 * entry, wrong diff ID, bad compression) or wrong bytes leave nothing; a broken `source` (network)
 * keeps what arrived in partial/ for a Range resume (then unpacked from the file: ensureLayerLocked).
 * What is already stored is not done again; `read` says whether `source` was consumed.
 */
export async function streamLayerLocked(layout: StoreLayout, request: StreamLayerRequest, source: AsyncIterable<Uint8Array>): Promise<{ dir: string; read: boolean }> {
  const chainHex = digestHex(request.chainId);
  const blobFile = blobPath(layout, request.digest);
  const record = await readLayerRecord(layout, request.chainId);
  const haveBlob = await exists(blobFile);
  if (record || haveBlob) await request.pinned;
  if (record) {
    await ensureShortLink(layout, chainHex, record.short);
    const read = !haveBlob && await writeBlobLocked(layout, request.digest, request.size, source);
    return { dir: layerDiffDir(layout, chainHex), read };
  }
  if (haveBlob) return { dir: await ensureLayerLocked(layout, { ...request, blobFile }), read: false };

  const tmp = await prepareLayerTemp(layout, chainHex, false);
  // A large layer (or every layer of a large image: inWorker) is unpacked in a worker thread, a
  // small one here (unpack-pool.ts); the extractor makes the temp dir and takes the chunks only as
  // fast as it writes the layer (backpressure through push()).
  const job = layerUnpacker(request.size, path.join(tmp, 'diff'), { ...unpackOptions(request), makeDest: true }, request.inWorker);
  let sourceFailed = false;
  let refused: unknown;
  let unpacked: UnpackResult | undefined;
  const unpacking = job.result.then(
    (result) => { unpacked = result; },
    (error: unknown) => { if (!sourceFailed) refused = error; throw error; },
  );
  unpacking.catch(() => undefined);
  // After a refusal the download still runs to its end, unpacked no more: a corrupt blob is then
  // reported as such (digest) rather than as whatever its bad bytes made the extractor see.
  async function* tee(): AsyncGenerator<Uint8Array> {
    let complete = false;
    try {
      for await (const chunk of source) {
        yield chunk;
        // The blob write is done with the chunk: it may now move to the worker (chunkBuffer).
        if (refused === undefined) {
          const full = job.push(chunk);
          if (full) await full;
        }
      }
      complete = true;
      job.end();
    } finally {
      if (!complete) {
        sourceFailed = true;
        job.abort('the download stopped');
      }
    }
  }
  try {
    await writeBlobLocked(layout, request.digest, request.size, tee(), {
      beforeCommit: async () => {
        await unpacking;
        await writeLayerRecord(tmp, request, unpacked!);
        await request.pinned;   // before the blob, then the layer, become visible
      },
    });
    await publishLayer(layout, tmp, request.chainId);
  } catch (error) {
    const layerRefused = refused !== undefined;
    sourceFailed = true;
    job.abort('the blob was not stored');
    // The worker has stopped writing into tmp once its job settled.
    await unpacking.catch(() => undefined);
    await fs.promises.rm(tmp, { recursive: true, force: true });
    // A refused layer with the right digest: its bytes are of no use (a resume would be refused again).
    if (layerRefused) await fs.promises.rm(partialPath(layout, request.digest), { force: true });
    throw error;
  }
  return { dir: layerDiffDir(layout, chainHex), read: true };
}

function unpackOptions(request: Omit<UnpackRequest, 'blobFile'>): UnpackOptions {
  return {
    diffId: request.diffId,
    keepOwnership: request.keepOwnership,
    opaqueXattr: request.keepOwnership && !request.rootless ? 'trusted.overlay.opaque' : 'user.overlay.opaque',
    layer: request.digest,
  };
}

/** A temp dir name for the layer (made here, or by the extractor: `make` false). */
async function prepareLayerTemp(layout: StoreLayout, chainHex: string, make = true): Promise<string> {
  // A final dir without layer.json cannot come from our rename; remove whatever it is (a quick
  // look first: a thread-pool call less for the usual new layer).
  const final = layerDir(layout, chainHex);
  if (fs.existsSync(final)) await fs.promises.rm(final, { recursive: true, force: true });
  const tmp = path.join(layout.layersTmp, ownedTempName(chainHex.slice(0, 12)));
  if (make) await fs.promises.mkdir(path.join(tmp, 'diff'), { recursive: true });
  return tmp;
}

async function writeLayerRecord(tmp: string, request: Omit<UnpackRequest, 'blobFile'>, result: UnpackResult): Promise<void> {
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
  // No fsync: the dir becomes visible only by the rename in publishLayer, so a killed process never
  // leaves a half layer in use. (Like containers/storage, layer files are not fsynced: after a power
  // loss an unreadable layer.json makes the layer count as missing, and it is unpacked again.)
  await fs.promises.writeFile(path.join(tmp, 'layer.json'), JSON.stringify(layerRecord, null, 2));
}

async function publishLayer(layout: StoreLayout, tmp: string, chainId: string): Promise<void> {
  const chainHex = digestHex(chainId);
  await fs.promises.rename(tmp, layerDir(layout, chainHex));
  await ensureShortLink(layout, chainHex, shortName(chainId));
}

export async function ensureShortLink(layout: StoreLayout, chainHex: string, short: string): Promise<void> {
  const link = path.join(layout.linksDir, short);
  const target = `../${chainHex}/diff`;
  let missing = false;
  try {
    if (fs.readlinkSync(link) === target) return;   // the common case: sync, see atomic.ts readJson
    await fs.promises.rm(link, { force: true });
  } catch (error) {
    missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  if (missing) {
    // A new layer's link is made in place (one file create less than a temp link and its rename:
    // creates are slow on some file systems); if another process made it meanwhile, it is replaced below.
    try {
      await fs.promises.symlink(target, link);
      return;
    } catch {
      // exists now, or cannot be made: the temp link and rename below
    }
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
