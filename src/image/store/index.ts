/**
 * The image store: verified blobs, an atomic image index, unpacked layers shared by chain ID,
 * read-only image mounts, and gc. Everything that changes shared state takes a cross-process
 * file lock; every write is temp + rename. See layout.ts for the files on disk.
 */
import fs from 'node:fs';
import { ImageError } from '../../errors/index.js';
import type { StoragePaths } from '../../paths/index.js';
import { blobPath, exists, partialPath, partialSize, syncBlobsDir, writeBlobLocked, type WriteBlobOptions } from './blobs.js';
import { chainIds } from './chain.js';
import { digestHex } from './digest.js';
import { blobsOf, collectGarbage } from './gc.js';
import { matchImage, readIndex, splitName, writeIndex, type LayerDescriptor, type StoredImage } from './images.js';
import { ensureLayerLocked, ensureShortLink, overlayLowerdir, readLayerRecord, streamLayerLocked } from './layers.js';
import { storeLayout, layerDiffDir, type StoreLayout } from './layout.js';
import { withFileLock } from './locks.js';
import { mountCount, mountLayersLocked, unmountLayersLocked } from './mount.js';
import { Pins } from './pins.js';
import { createDirs, removeLeftovers } from './repair.js';

export type { StoredImage, LayerDescriptor } from './images.js';
export type { WriteBlobOptions } from './blobs.js';
export { chainIds } from './chain.js';
export { overlayLowerdirForDirs } from './layers.js';
export { splitName } from './images.js';

/** The parts of an OCI image config the store needs (IMAGE-CLIENT's OciImageConfigFile fits). */
export interface StoreImageConfig {
  created?: string;
  rootfs?: { type?: string; diff_ids?: string[] };
}

export interface ImageRecordInput {
  names: string[];
  manifestDigest: string;
  configDigest: string;
  layers: LayerDescriptor[];
  /** Other blobs stored for this image that gc should free with it (e.g. the manifest list). */
  otherBlobs?: string[];
}

export interface RemoveOptions { force?: boolean; inUse?: (imageId: string) => boolean }

export interface EnsureLayersOptions {
  /** Called when a layer starts unpacking and when it is ready (or was already). */
  onLayer?: (event: { digest: string; chainId: string; phase: 'unpacking' | 'ready' }) => void;
}

export class ImageStore {
  readonly layout: StoreLayout;
  private readonly pins: Pins;

  private constructor(readonly paths: StoragePaths) {
    this.layout = storeLayout(paths);
    this.pins = new Pins(this.layout);
  }

  /** Creates the dirs if needed and removes what crashed processes left (their temps). */
  /**
   * `lookup`: only to find and read recorded images (every `berth run` of a local image): the
   * directories and the repair of what dead processes left are for commands that write, and cost
   * a scan of every layer; `prepareForWrites` does them later if this store must write after all.
   */
  static async open(paths: StoragePaths, options: { lookup?: boolean } = {}): Promise<ImageStore> {
    const store = new ImageStore(paths);
    if (!options.lookup) await store.prepareForWrites();
    return store;
  }

  async prepareForWrites(): Promise<void> {
    if (this.prepared) return;
    try {
      await createDirs(this.layout);
    } catch (error) {
      throw new ImageError('store-open-failed', `cannot open the image store in ${this.paths.root}: ${(error as Error).message}`, { context: { file: this.paths.root }, cause: error });
    }
    await removeLeftovers(this.layout);
    this.prepared = true;
  }
  private prepared = false;

  blobPath(digest: string): string {
    return blobPath(this.layout, digest);
  }

  /**
   * Pin blobs and layers (gc keeps them) until recordImage or abandonPull. A pull pins all it
   * will fetch at once, so its blobs and layers do not each rewrite the pin file under the store
   * lock. What this process already pinned needs no lock: the pin file holding it was written
   * under the store lock, or is being written under it now, before gc can look.
   */
  async pin(blobs: string[], chains: string[]): Promise<void> {
    if (this.pins.covers(blobs, chains)) return;
    // What a pin still being written covers is waited for, not written again (no store lock more).
    const waits = new Set<Promise<void>>();
    const fresh = { blobs: [] as string[], chains: [] as string[] };
    for (const [kind, keys] of [['blobs', blobs], ['chains', chains]] as const) {
      for (const key of keys) {
        const pending = this.pinning.get(`${kind} ${key}`);
        if (pending) waits.add(pending);
        else if (!this.pins.covers(kind === 'blobs' ? [key] : [], kind === 'chains' ? [key] : [])) fresh[kind].push(key);
      }
    }
    if (fresh.blobs.length + fresh.chains.length > 0) {
      const writing = this.withLock('store', () => this.pins.add(fresh.blobs, fresh.chains));
      const names = [...fresh.blobs.map((b) => `blobs ${b}`), ...fresh.chains.map((c) => `chains ${c}`)];
      for (const name of names) this.pinning.set(name, writing);
      const forget = (): void => { for (const name of names) if (this.pinning.get(name) === writing) this.pinning.delete(name); };
      writing.then(forget, forget);
      waits.add(writing);
    }
    await Promise.all(waits);
  }
  private readonly pinning = new Map<string, Promise<void>>();

  /** True if the verified blob is stored; it is then pinned (gc keeps it) until recordImage. */
  async hasBlob(digest: string): Promise<boolean> {
    const file = blobPath(this.layout, digest);
    if (!(await exists(file))) return false;
    await this.pin([digest], []);
    if (await exists(file)) return true;
    await this.withLock('store', () => this.pins.release([digest], []));
    return false;
  }

  /** Neither stored nor partly downloaded (a quick look, no lock: a download may start it any time). */
  isAbsent(digest: string): boolean {
    return ImageStore.isAbsentIn(this.paths, digest);
  }

  /** isAbsent for a store not opened yet (its directories may not even exist: then nothing is there). */
  static isAbsentIn(paths: StoragePaths, digest: string): boolean {
    const layout = storeLayout(paths);
    return !fs.existsSync(blobPath(layout, digest)) && !fs.existsSync(partialPath(layout, digest));
  }

  async partialBlobSize(digest: string): Promise<number> {
    digestHex(digest);
    return partialSize(this.layout, digest);
  }

  /**
   * Streams `source` into the store. Size (if given) and digest are verified before the blob
   * becomes visible; a mismatch deletes the bytes and throws ImageError{digest}. If the source
   * fails, what arrived stays in partial/ (partialBlobSize) for a resumed write with `append`.
   * When the blob is already stored, `source` is not read.
   */
  async writeBlob(digest: string, size: number | undefined, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: WriteBlobOptions = {}): Promise<void> {
    const hex = digestHex(digest);
    await this.pin([digest], []);
    await this.withLock(`blob-${hex}`, () => writeBlobLocked(this.layout, digest, size, source, options));
  }

  /**
   * Stores a layer blob from `source` and unpacks it in the same pass: blob and layer are
   * committed only when digest, size and diff ID verify (streamLayerLocked). What is already
   * stored is not done again. Pins the blob and the layer until recordImage or abandonPull.
   * A broken `source` keeps what arrived for a resumed writeBlob (then ensureLayers unpacks the
   * file). Returns whether `source` was read.
   */
  async pullLayer(layer: { digest: string; size: number; diffId: string; chainId: string; inWorker?: boolean }, source: AsyncIterable<Uint8Array>): Promise<boolean> {
    const hex = digestHex(layer.digest);
    const chainHex = digestHex(layer.chainId);
    // The pin (the store lock, a file write) is made while the layer downloads: streamLayerLocked
    // waits for it only before it makes the layer visible, or uses one already there.
    const pinned = this.pin([layer.digest], [layer.chainId]);
    pinned.catch(() => undefined);   // awaited below; a failure is reported there
    // Always blob lock, then layer lock (nothing takes them the other way round).
    const result = await this.withLock(`blob-${hex}`, () => this.withLock(`layer-${chainHex}`, () => streamLayerLocked(this.layout, {
      chainId: layer.chainId, diffId: layer.diffId, digest: layer.digest, size: layer.size, inWorker: layer.inWorker, pinned,
      // As ensureLayers: rootless owners are set inside the user namespace (idmap.ts); overlay xattrs in user.*.
      keepOwnership: !this.paths.rootless || this.paths.userns === true, rootless: this.paths.rootless,
    }, source)));
    return result.read;
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return fs.readFileSync(blobPath(this.layout, digest));   // configs and manifests: small
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageError('blob-missing', `blob ${digest} is not in the store`, { context: { digest } });
      throw error;
    }
  }

  /**
   * Unpacks each layer once per chain ID (shared between images), checking each against the
   * config's diff IDs, with the strict extractor. Returns the diff dirs bottom -> top.
   */
  async ensureLayers(config: StoreImageConfig, layers: LayerDescriptor[], options: EnsureLayersOptions = {}): Promise<string[]> {
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== layers.length) {
      throw new ImageError('config-layers-mismatch', `image config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff IDs for ${layers.length} layers`);
    }
    const chains = chainIds(diffIds);
    await this.pin(layers.map((l) => l.digest), chains);
    const dirs: string[] = new Array(layers.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < layers.length) {
        const i = next++;
        const layer = layers[i]!;
        const chainId = chains[i]!;
        const file = blobPath(this.layout, layer.digest);
        const record = await readLayerRecord(this.layout, chainId);
        if (record) {
          // Complete layers never change, and gc keeps pinned ones: no lock needed.
          await ensureShortLink(this.layout, digestHex(chainId), record.short);
          dirs[i] = layerDiffDir(this.layout, digestHex(chainId));
          options.onLayer?.({ digest: layer.digest, chainId, phase: 'ready' });
          continue;
        }
        if (!(await exists(file))) {
          throw new ImageError('blob-missing', `layer blob ${layer.digest} is not in the store`, { context: { digest: layer.digest } });
        }
        options.onLayer?.({ digest: layer.digest, chainId, phase: 'unpacking' });
        dirs[i] = await this.withLock(`layer-${digestHex(chainId)}`, () => ensureLayerLocked(this.layout, {
          chainId, diffId: diffIds[i]!, digest: layer.digest, blobFile: file,
          // Rootless: owners are set inside the user namespace (idmap.ts); overlay xattrs in user.*.
          keepOwnership: !this.paths.rootless || this.paths.userns === true, rootless: this.paths.rootless,
        }));
        options.onLayer?.({ digest: layer.digest, chainId, phase: 'ready' });
      }
    };
    await Promise.all([worker(), worker()]);
    return dirs;
  }

  /**
   * Records an image (atomic index update under the store lock). Names move from other images.
   * The manifest, config and layer blobs must be stored. Releases the pull's pins.
   */
  async recordImage(record: ImageRecordInput): Promise<StoredImage> {
    const config = JSON.parse((await this.readBlob(record.configDigest)).toString('utf8')) as StoreImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    const chains = chainIds(diffIds);
    const blobs = [record.manifestDigest, record.configDigest, ...record.layers.map((l) => l.digest), ...(record.otherBlobs ?? [])];
    const present = await Promise.all(blobs.map((blob) => exists(blobPath(this.layout, blob))));
    const missing = blobs.find((_, i) => !present[i]);
    if (missing !== undefined) throw new ImageError('blob-missing', `cannot record image: blob ${missing} is not in the store`, { context: { digest: missing } });
    let size = 0;
    for (const chain of chains) size += (await readLayerRecord(this.layout, chain))?.size ?? 0;
    // The blob renames (writeBlobLocked does not fsync the directory) are durable before the index
    // names them: the fsync runs while the store lock is taken, and is awaited before the index is written.
    const synced = syncBlobsDir(this.layout);
    synced.catch(() => undefined);
    const id = digestHex(record.configDigest);
    return this.withLock('store', async () => {
      await synced;
      const images = await readIndex(this.layout);
      for (const other of images) if (other.id !== id) other.names = other.names.filter((n) => !record.names.includes(n));
      let image = images.find((i) => i.id === id);
      if (!image) {
        image = {
          id, digest: record.manifestDigest, digests: [], names: [], configDigest: record.configDigest, layers: record.layers,
          diffIds, chainIds: chains, recordedAt: new Date().toISOString(), size,
          ...(config.created ? { created: config.created } : {}),
        };
        images.push(image);
      }
      image.digest = record.manifestDigest;
      image.layers = record.layers;
      image.size = size || image.size;
      if (!image.digests.includes(record.manifestDigest)) image.digests.push(record.manifestDigest);
      for (const name of record.names) if (!image.names.includes(name)) image.names.push(name);
      if (record.otherBlobs?.length) image.otherBlobs = [...new Set([...(image.otherBlobs ?? []), ...record.otherBlobs])];
      await writeIndex(this.layout, images);
      await this.pins.release(blobs, chains);
      return image;
    });
  }

  async findImage(referenceOrId: string): Promise<StoredImage | undefined> {
    return matchImage(await readIndex(this.layout), referenceOrId);
  }

  async listImages(): Promise<StoredImage[]> {
    return readIndex(this.layout);
  }

  /** The unpacked layer dirs of a recorded image, bottom -> top; ImageError if one is missing. */
  async layerDirs(image: StoredImage): Promise<string[]> {
    const dirs: string[] = [];
    for (const chain of image.chainIds) {
      const record = await readLayerRecord(this.layout, chain);
      if (!record) {
        throw new ImageError('layer-missing', `image ${image.id.slice(0, 12)}: layer ${chain} is not unpacked`, { context: { image: image.id, digest: chain } });
      }
      await ensureShortLink(this.layout, digestHex(chain), record.short);
      dirs.push(layerDiffDir(this.layout, digestHex(chain)));
    }
    return dirs;
  }

  /** Overlay lowerdir for an image's layers with short relative names: mount with cwd = `cwd`. */
  overlayLowerdir(image: StoredImage): { cwd: string; lowerdir: string } {
    return overlayLowerdir(this.layout, image.chainIds);
  }

  /**
   * rmi. By name: untags, and deletes the image when that was its last name. By ID: deletes
   * (with several names only with force). Refuses an image in use or mounted unless force.
   * Frees the blobs and layers nothing else uses. Returns Podman's lines ("Untagged: …", "Deleted: …").
   */
  async removeImage(referenceOrId: string, options: RemoveOptions = {}): Promise<string[]> {
    return this.withLock('store', async () => {
      const images = await readIndex(this.layout);
      const image = matchImage(images, referenceOrId);
      if (!image) throw new ImageError('image-not-found', `${referenceOrId}: image not known`, { context: { image: referenceOrId }, exitCode: 1 });
      const byId = (/^(?:sha256:)?[a-f0-9]{3,64}$/.test(referenceOrId) && image.id.startsWith(referenceOrId.replace(/^sha256:/, ''))) || image.digests.includes(referenceOrId);
      const name = byId ? undefined : matchedName(image, referenceOrId);
      if (name !== undefined && image.names.length > 1) {
        image.names = image.names.filter((n) => n !== name);
        await writeIndex(this.layout, images);
        return [`Untagged: ${name}`];
      }
      if (byId && image.names.length > 1 && !options.force) {
        throw new ImageError('image-multiple-names', `unable to delete image ${image.id.slice(0, 12)} by ID with more than one name (${image.names.join(', ')}): use --force`, { context: { image: image.id } });
      }
      if (!options.force && options.inUse?.(image.id)) {
        throw new ImageError('image-in-use', `image ${image.id.slice(0, 12)} is in use by a container: use --force`, { context: { image: image.id } });
      }
      if ((await mountCount(this.layout, image.id)) > 0) {
        if (!options.force) throw new ImageError('image-mounted', `image ${image.id.slice(0, 12)} is mounted: unmount it first or use --force`, { context: { image: image.id } });
        await this.withLock(`mount-${image.id}`, () => unmountLayersLocked(this.layout, image.id, true));
      }
      const remaining = images.filter((i) => i !== image);
      await writeIndex(this.layout, remaining);
      await collectGarbage(this.layout, remaining, { blobs: blobsOf(image), chains: image.chainIds });
      return [...image.names.map((n) => `Untagged: ${n}`), `Deleted: ${image.id}`];
    });
  }

  /**
   * image prune: removes dangling images (no names), or with `all` every image no container
   * uses, then frees every blob and layer nothing uses (including leftovers of failed pulls).
   * Returns the IDs removed.
   */
  async prune(options: { all?: boolean; inUse?: (imageId: string) => boolean } = {}): Promise<string[]> {
    return this.withLock('store', async () => {
      const images = await readIndex(this.layout);
      const removed: StoredImage[] = [];
      const remaining: StoredImage[] = [];
      for (const image of images) {
        const candidate = options.all || image.names.length === 0;
        if (candidate && !options.inUse?.(image.id) && (await mountCount(this.layout, image.id)) === 0) removed.push(image);
        else remaining.push(image);
      }
      if (removed.length > 0) await writeIndex(this.layout, remaining);
      await collectGarbage(this.layout, remaining);
      return removed.map((i) => i.id);
    });
  }

  /**
   * Undo what a failed pull added: releases this process's pins on `blobs` and `chains` and
   * frees those that no image and no other live pull uses (partial downloads stay for resume).
   */
  async abandonPull(added: { blobs: string[]; chains: string[] }): Promise<void> {
    await this.withLock('store', async () => {
      await this.pins.release(added.blobs, added.chains);
      await collectGarbage(this.layout, await readIndex(this.layout), { blobs: added.blobs, chains: added.chains });
    });
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.layout.locksDir, name, fn);
  }

  /** Read-only overlay of the image's layers; reference-counted. Returns the merged dir. */
  async mountImage(referenceOrId: string): Promise<string> {
    if (this.paths.rootless) {
      // The overlay could only be mounted in berth's user namespace, which ends with the command.
      throw new ImageError('rootless-image-mount', `cannot mount image ${referenceOrId} rootless: the mount would exist only in berth's user namespace and be gone when the command exits (Podman needs "podman unshare" for this too); run it as root`, { context: { image: referenceOrId }, exitCode: 125 });
    }
    const image = await this.requireImage(referenceOrId);
    await this.layerDirs(image);
    return this.withLock(`mount-${image.id}`, () => mountLayersLocked(this.layout, image.id, image.chainIds, this.paths.rootless));
  }

  async unmountImage(referenceOrId: string, options: { force?: boolean } = {}): Promise<void> {
    const image = await this.requireImage(referenceOrId);
    await this.withLock(`mount-${image.id}`, () => unmountLayersLocked(this.layout, image.id, options.force));
  }

  async requireImage(referenceOrId: string): Promise<StoredImage> {
    const image = await this.findImage(referenceOrId);
    if (!image) throw new ImageError('image-not-found', `${referenceOrId}: image not known`, { context: { image: referenceOrId }, exitCode: 1 });
    return image;
  }
}

function matchedName(image: StoredImage, reference: string): string | undefined {
  if (image.names.includes(reference)) return reference;
  const wanted = splitName(reference);
  const tag = wanted.tag === '<none>' ? 'latest' : wanted.tag;
  return image.names.find((n) => {
    const parts = splitName(n);
    return parts.tag === tag && (parts.repository === wanted.repository || parts.repository.endsWith(`/${wanted.repository}`));
  });
}
