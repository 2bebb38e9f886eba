/**
 * Pulling an image into the store: resolve the name (aliases, search registries, a prompt), walk
 * each candidate's sources (mirrors, then the registry), fetch the manifest (choosing this
 * machine's platform from an index), then the config and the layers (bounded parallelism, retries,
 * Range resume), each layer unpacked while it downloads (a resumed one from its file afterwards),
 * and record the image. A failed pull records nothing. Each blob's request goes out before the
 * store is ready for its bytes (locks, temp dirs): the config's and the first layers' as soon as
 * the manifest is read, so the registry's answers overlap the pull's own bookkeeping; the config
 * is used from memory while it is stored, and pins are written while the layers download.
 * Measured on the 20-layer bench image: bench/RESULTS.md, "## pull".
 */
import { ImageError, redact } from '../errors/index.js';
import { getCredentials, type Credentials } from './auth.js';
import { hostPlatform, parseManifest, parsePlatform, choosePlatform, formatPlatform } from './manifest.js';
import type { Descriptor, ImageManifest, OciImageConfigFile, Platform } from './oci.js';
import { pullSources, type PullSource } from './pull-sources.js';
import type { EnsureImageOptions, ImageHandle, PullProgress } from './pull-types.js';
import { formatReference, parseReference, referenceTarget, type ImageReference } from './reference.js';
import { loadRegistriesConfig, recordAlias, type RegistriesConfig } from './registries-conf.js';
import { RegistryClient, sha256Digest } from './registry-client.js';
import { backoffDelay, DEFAULT_RETRY, sleep, TransientError, type RetryPolicy } from './retry.js';
import { canPrompt, selectPrompt } from './select-prompt.js';
import { resolveName, type Resolution } from './short-names.js';
import { isTransientNetworkError } from './http.js';
import { chainIds, ImageStore } from './store/index.js';
import { startLockHelper } from './store/locks.js';
import { chunkBuffer, stopIdleUnpackWorkers, unpackInWorkerFor, warmUnpackPool } from './store/unpack-pool.js';
import { deadBytes } from './young-garbage.js';
import { EarlyStart } from './early-start.js';

export interface PullOptions extends Omit<EnsureImageOptions, 'policy'> {
  /** Concurrent layer downloads (default 6, as containers/image). */
  parallel?: number;
  retry?: RetryPolicy;
  /** Use these instead of the auth files (--creds). */
  credentials?: Credentials;
  /** Use instead of reading registries.conf (tests). */
  registriesConfig?: RegistriesConfig;
  /** The chooser for ambiguous short names; default: the arrow-key prompt when stdin and stdout are terminals. */
  prompt?: ((title: string, choices: string[]) => Promise<number>) | null;
}

export function wantedPlatform(options: { platform?: string; arch?: string }): Platform {
  const platform = options.platform ? parsePlatform(options.platform) : hostPlatform();
  if (options.arch) {
    const arch = parsePlatform(options.arch);
    platform.architecture = arch.architecture;
    delete platform.variant;
  }
  return platform;
}

export async function resolveForPull(reference: string, config: RegistriesConfig, options: Pick<PullOptions, 'prompt'>): Promise<Resolution> {
  // A fully qualified name never prompts: do not touch process.stdin/stdout for it (creating those
  // streams costs ~5 ms of every pull).
  let qualified = false;
  try { qualified = parseReference(reference).registry !== undefined; } catch { /* resolveName reports it */ }
  const prompt = options.prompt === null || qualified ? undefined : options.prompt ?? (canPrompt() ? selectPrompt : undefined);
  return resolveName(reference, config, { prompt });
}

/** Pull `reference` (always contacting the registry) and return the stored image. */
export async function pullImage(reference: string, options: PullOptions): Promise<ImageHandle> {
  const config = options.registriesConfig ?? loadRegistriesConfig();
  const resolution = await resolveForPull(reference, config, options);
  return pullResolved(resolution, config, options);
}

export async function pullResolved(resolution: Resolution, config: RegistriesConfig, options: PullOptions): Promise<ImageHandle> {
  startLockHelper();
  // The store's directories and repair scan run while the registry answers the ping and the manifest.
  const opening = ImageStore.open(options.paths);
  opening.catch(() => undefined);   // awaited where it is needed; a failure is reported there
  try {
    return await pullCandidates(resolution, config, options, opening);
  } finally {
    // Nothing of a pull goes on after it returns or fails (not even making the store's directories).
    await opening.catch(() => undefined);
  }
}

async function pullCandidates(resolution: Resolution, config: RegistriesConfig, options: PullOptions, opening: Promise<ImageStore>): Promise<ImageHandle> {
  const failures: { name: string; error: unknown }[] = [];
  for (const candidate of resolution.candidates) {
    let sources: PullSource[];
    try {
      sources = pullSources(config, candidate);
    } catch (error) {
      failures.push({ name: formatReference(candidate), error });
      continue;
    }
    for (const source of sources) {
      try {
        const handle = await pullFromSource(opening, candidate, source, options);
        if (resolution.rationale === 'prompt' && resolution.shortName && !candidate.digest) {
          recordAlias(config, resolution.shortName, `${candidate.registry}/${candidate.repository}`);
        }
        return handle;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        // A store that cannot be opened fails the pull as such, whichever source was tried.
        await opening;
        failures.push({ name: formatReference(source.ref), error });
      }
    }
  }
  await opening;
  if (failures.length === 1) throw failures[0].error;
  const lines = failures.map((f) => `  ${f.name}: ${redact((f.error as Error).message)}`);
  throw new ImageError('image.pull.failed', `pulling ${resolution.input}: every candidate failed:\n${lines.join('\n')}`,
    { context: { image: resolution.input }, cause: failures[failures.length - 1]?.error });
}

interface PullContext {
  store: ImageStore;
  client: RegistryClient;
  image: string;
  emit: (event: Omit<PullProgress, 'image'>) => void;
  options: PullOptions;
  /** Blob downloads already requested (the config and the first layers, while the pull pins and reads the config). */
  early: Map<string, EarlyStart<Uint8Array>>;
  /** Unpack every layer in the worker thread (a large image: unpackInWorkerFor). */
  inWorker: boolean;
  /** While layers download: the permits for reading a body (parallelDownloads of them). */
  transfers?: Semaphore;
  /** Blob writes going on beside the pull (the manifests, the config): all settle before it ends. */
  writes: Promise<void>[];
}

function background(ctx: PullContext, write: Promise<void>): void {
  write.catch(() => undefined);   // awaited with ctx.writes
  ctx.writes.push(write);
}

async function pullFromSource(opening: Promise<ImageStore>, name: ImageReference, source: PullSource, options: PullOptions): Promise<ImageHandle> {
  const image = formatReference(name);
  const emit = (event: Omit<PullProgress, 'image'>): void => options.onProgress?.({ ...event, image });
  emit({ phase: 'resolving', message: `Trying to pull ${formatReference(source.ref)}...` });
  const credentials = options.credentials ?? await getCredentials(source.ref.registry, source.ref.repository, { authfile: options.authfile });
  const client = new RegistryClient({
    registry: source.ref.registry, repository: source.ref.repository, image, insecure: source.insecure,
    tlsVerify: options.tlsVerify, credentials, signal: options.signal, retry: options.retry,
  });
  const top = parseManifest(await client.getManifest(referenceTarget(source.ref)), image);
  let manifestDoc = top;
  let indexDigest: string | undefined;
  if (top.kind === 'index') {
    const chosen = choosePlatform(top.index, wantedPlatform(options), image);
    indexDigest = top.digest;
    manifestDoc = parseManifest(await client.getManifest(chosen.digest), image);
    if (manifestDoc.kind !== 'image') throw new ImageError('image.manifest.invalid', `${image}: index entry ${chosen.digest} is not an image manifest`, { context: { image, digest: chosen.digest } });
  }
  if (manifestDoc.kind !== 'image') throw new ImageError('image.manifest.invalid', `${image}: not an image manifest`, { context: { image } });
  const manifest = manifestDoc.manifest;
  emit({ phase: 'manifest', message: 'Getting image source signatures' });
  const inWorker = unpackInWorkerFor(manifest.layers.map((l) => l.size));
  // The config's and the first layers' requests go out while the store is still being opened.
  const early = requestEarly(client, options, manifest);
  let store: ImageStore;
  try {
    store = await opening;
  } catch (error) {
    for (const request of early.values()) request.close();
    throw error;
  }
  const ctx: PullContext = { store, client, image, emit, options, early, inWorker, writes: [] };

  let diffIds: string[] | undefined;
  try {
    const all = [...(indexDigest ? [indexDigest] : []), manifestDoc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    const pinned = store.pin(all, []);
    pinned.catch(() => undefined);   // awaited by whatever stores a blob (store.pin waits for a pin in flight)
    // The manifests are written (lock, fsync) beside the config and the layers; every such write
    // settles before a failure is handled, so abandon() never races a write still going on.
    background(ctx, (async () => {
      if (indexDigest) await storeSmallBlob(ctx, indexDigest, top.body);
      await storeSmallBlob(ctx, manifestDoc.digest, manifestDoc.body);
    })());
    const config = await fetchConfig(ctx, manifest);
    // The layer unpack worker, if the image is large enough to use it, starts now, while the layers'
    // locks and temp dirs are made and their first bytes come: started with the config's request, its
    // start (~50 ms of a core) held up the registry's answers to it and to the first layers' requests
    // (20 layers of 2 MB, alternating: ext4 849 -> 797 and 819 -> 803 ms; tmpfs and 200 MB unchanged).
    // Once the first layers' lock requests are out: the first `new Worker` takes ~7 ms of this thread.
    if (inWorker) setImmediate(warmUnpackPool);
    diffIds = config.rootfs.diff_ids;
    const layers = manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
    const layerDirs = await fetchAndUnpackLayers(ctx, config, manifest);
    if (inWorker) stopIdleUnpackWorkers();
    await Promise.all(ctx.writes);
    emit({ phase: 'manifest', message: 'Writing manifest to image destination' });
    const stored = await store.recordImage({
      names: [image], manifestDigest: manifestDoc.digest, configDigest: manifest.config.digest, layers,
      ...(indexDigest ? { otherBlobs: [indexDigest] } : {}),
    });
    emit({ phase: 'done', message: stored.id });
    return { id: stored.id, digest: manifestDoc.digest, names: stored.names, config, layerDirs };
  } catch (error) {
    await Promise.allSettled(ctx.writes);
    const all = [...(indexDigest ? [indexDigest] : []), manifestDoc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    await abandon(store, all, diffIds);
    throw error;
  } finally {
    for (const digest of [...ctx.early.keys()]) dropEarly(ctx, digest);
  }
}

/** Closes an early request nothing will read (the blob was stored meanwhile, or the pull failed). */
function dropEarly(ctx: PullContext, digest: string): void {
  ctx.early.get(digest)?.close();
  ctx.early.delete(digest);
}

/** Concurrent layer downloads (default 6, as containers/image). */
function parallelDownloads(options: PullOptions): number {
  return Math.max(1, options.parallel ?? 6);
}

/**
 * Requests the config and the first layers (as many as download at once) now, before the pins
 * and the config's own round trip: their first bytes then come while that goes on. Only blobs
 * neither stored nor partly downloaded (those take their own path in downloadBlob).
 */
function requestEarly(client: RegistryClient, options: PullOptions, manifest: ImageManifest): Map<string, EarlyStart<Uint8Array>> {
  const early = new Map<string, EarlyStart<Uint8Array>>();
  for (const desc of [manifest.config, ...manifest.layers.slice(0, parallelDownloads(options))]) {
    if (early.has(desc.digest) || !ImageStore.isAbsentIn(options.paths, desc.digest)) continue;
    early.set(desc.digest, new EarlyStart(client.blob(desc.digest, 0)));
  }
  return early;
}

/** Undo what a failed pull added: blobs and layers nothing else uses go; partial downloads stay for a resume. */
async function abandon(store: ImageStore, blobs: string[], diffIds: string[] | undefined): Promise<void> {
  try {
    await store.abandonPull({ blobs: [...new Set(blobs)], chains: diffIds ? chainIds(diffIds) : [] });
  } catch {
    // best effort: the pull's own error is what the user needs to see
  }
}

async function storeSmallBlob(ctx: PullContext, digest: string, body: Buffer): Promise<void> {
  if (await ctx.store.hasBlob(digest)) return;
  await ctx.store.writeBlob(digest, body.length, (async function* () { yield body; })());
}

/** A config up to this size is read into memory and used at once, and stored beside the layers. */
const CONFIG_IN_MEMORY = 16 * 1024 * 1024;

/**
 * The image config. One not stored yet is downloaded into memory, checked (size, digest) and
 * parsed at once: the layers, which need its diff IDs, start without waiting for it to be stored
 * (the store lock, a write and an fsync); that write goes on beside them (ctx.writes).
 */
async function fetchConfig(ctx: PullContext, manifest: ImageManifest): Promise<OciImageConfigFile> {
  const desc = manifest.config;
  let body: Buffer;
  if (await ctx.store.hasBlob(desc.digest)) {
    dropEarly(ctx, desc.digest);
    body = await ctx.store.readBlob(desc.digest);
  } else if (desc.size <= CONFIG_IN_MEMORY) {
    const downloaded = await downloadToMemory(ctx, desc);
    body = downloaded;
    background(ctx, storeSmallBlob(ctx, desc.digest, downloaded));
  } else {
    await downloadBlob(ctx, desc, false);
    body = await ctx.store.readBlob(desc.digest);
  }
  let config: OciImageConfigFile;
  try {
    config = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ImageError('image.config.invalid', `${ctx.image}: config ${desc.digest} is not valid JSON`, { context: { image: ctx.image, digest: desc.digest } });
  }
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new ImageError('image.config.invalid', `${ctx.image}: config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} layer diff IDs for ${manifest.layers.length} layers`, { context: { image: ctx.image, digest: desc.digest } });
  }
  ctx.emit({ phase: 'manifest', message: `Copying config ${desc.digest.slice(7, 19)} done` });
  return config;
}

/** A small blob's bytes (the config), checked against its size and digest; transient failures are retried. */
async function downloadToMemory(ctx: PullContext, desc: Descriptor): Promise<Buffer> {
  const policy = ctx.options.retry ?? DEFAULT_RETRY;
  for (let attempt = 0; ; attempt++) {
    const requested = ctx.early.get(desc.digest);
    ctx.early.delete(desc.digest);
    const source = requested ?? new EarlyStart(ctx.client.blob(desc.digest, 0));
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > desc.size) break;   // more than the manifest says: refused below, the rest not read
        chunks.push(chunk);
      }
    } catch (error) {
      if (ctx.options.signal?.aborted) throw error;
      if (!isRetryableDownloadError(error) || attempt + 1 >= policy.attempts) {
        if (error instanceof ImageError) throw error;
        throw new ImageError('image.blob.download', `${ctx.image}: downloading blob ${desc.digest} from ${ctx.client.options.registry} failed after ${attempt + 1} attempt(s): ${(error as Error).message}`, { context: { image: ctx.image, digest: desc.digest }, cause: error });
      }
      await sleep(backoffDelay(policy, attempt, error instanceof TransientError ? error.retryAfterMs : undefined), ctx.options.signal);
      continue;
    }
    const body = Buffer.concat(chunks);
    const digest = sha256Digest(body);
    if (size !== desc.size || digest !== desc.digest) {
      const got = size > desc.size ? `more than ${desc.size} bytes` : `${size} bytes with digest ${digest}`;
      throw new ImageError('image.blob.corrupt', `${ctx.image}: blob ${desc.digest} from ${ctx.client.options.registry} does not match its digest (got ${got}, expected ${desc.size} bytes)`, { context: { image: ctx.image, digest: desc.digest } });
    }
    return body;
  }
}

/**
 * Download batch size. Each batch costs a blob write, a hash call, a message to the unpack worker
 * and a decompressor input, each with a thread hand-over; 512 KiB measured ~10% faster than 256 KiB
 * on the 200 MB bench pull (alternating, 6 runs each) for ~8 MB more peak RSS; 1 MiB was faster
 * still but peaked at ~185 MB (over the < 150 MB goal).
 */
const WRITE_BATCH = 512 * 1024;

function isBlobMismatch(error: unknown): boolean {
  return error instanceof ImageError && /(size|digest)-mismatch/.test(error.code);
}

function isRetryableDownloadError(error: unknown): boolean {
  if (error instanceof ImageError) return false;
  return error instanceof TransientError || isTransientNetworkError(error);
}

interface LayerTarget { diffId: string; chainId: string }

/**
 * Fetch one blob into the store: resumes a kept partial with Range, retries transient failures
 * with backoff, and starts over once when resumed bytes do not verify. With `layer`, a download
 * from byte 0 also unpacks the layer as it arrives (store.pullLayer); a resumed one only stores
 * the blob, and ensureLayers unpacks it from the file afterwards.
 */
async function downloadBlob(ctx: PullContext, desc: Descriptor, report: boolean, layer?: LayerTarget, onTransferred?: () => void): Promise<boolean> {
  const policy = ctx.options.retry ?? DEFAULT_RETRY;
  let fresh = false;
  let restartedAfterMismatch = false;
  for (let attempt = 0; ; attempt++) {
    let offset = fresh ? 0 : await ctx.store.partialBlobSize(desc.digest);
    if (offset >= desc.size) offset = 0;
    let bytes = offset;
    let lastReport = 0;
    // Network chunks are ~16-64 KiB; handing the store WRITE_BATCH at a time cuts its calls ~16-fold
    // while keeping little in flight (peak RSS matters: the goal is < 150 MB whatever the image).
    const counted = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      // Each network chunk is copied into the batch as it arrives, so its buffer dies young: a chunk
      // kept until its batch filled could live through two minor collections while the unpacking
      // held the download back, and old dead buffers wait for a full collection (young-garbage.ts).
      let batch: Buffer | undefined;
      let filled = 0;
      const flush = (): Buffer => {
        const out = filled === batch!.byteLength ? batch! : batch!.subarray(0, filled);
        bytes += filled;
        deadBytes(filled);
        batch = undefined;
        filled = 0;
        if (report && (Date.now() - lastReport > 100 || bytes === desc.size)) {
          lastReport = Date.now();
          ctx.emit({ phase: 'layer', layer: desc.digest, bytes, total: desc.size, message: 'downloading' });
        }
        return out;
      };
      // The body is read only with a transfer permit; the permit goes at the last byte (or a failure),
      // not when the layer is committed, so the next layer's bytes flow while this one's unpacking ends.
      const release = ctx.transfers ? await ctx.transfers.acquire() : undefined;
      try {
        for await (const chunk of source) {
          for (let at = 0; at < chunk.byteLength;) {
            // One copy into memory of its own, which the layer unpack worker can then take over.
            batch ??= chunkBuffer(WRITE_BATCH);
            const n = Math.min(chunk.byteLength - at, WRITE_BATCH - filled);
            batch.set(n === chunk.byteLength ? chunk : chunk.subarray(at, at + n), filled);
            filled += n;
            at += n;
            if (filled === WRITE_BATCH) yield flush();
          }
        }
      } catch (error) {
        release?.();
        onTransferred?.();
        // Keep every byte that did arrive: the store saves it for the Range resume.
        if (filled > 0) yield flush();
        throw error;
      } finally {
        release?.();
        onTransferred?.();
      }
      if (filled > 0) yield flush();
    };
    try {
      // The request goes out now (or went out with the manifest: requestEarly); the store's locks,
      // temp dir and partial file are made while the registry answers.
      const requested = ctx.early.get(desc.digest);
      ctx.early.delete(desc.digest);
      if (offset > 0) requested?.close();
      const early = (offset === 0 ? requested : undefined) ?? new EarlyStart(ctx.client.blob(desc.digest, offset));
      const source = counted(early);
      try {
        if (layer && offset === 0) await ctx.store.pullLayer({ digest: desc.digest, size: desc.size, ...layer, ...(ctx.inWorker ? { inWorker: true } : {}) }, source);
        else await ctx.store.writeBlob(desc.digest, desc.size, source, offset > 0 ? { append: true, offset } : {});
      } finally {
        early.close();
      }
      const fetched = bytes !== offset || desc.size === 0;
      if (report) ctx.emit({ phase: 'layer', layer: desc.digest, bytes: desc.size, total: desc.size, message: fetched ? 'downloaded' : 'skipped' });
      return fetched;
    } catch (error) {
      if (ctx.options.signal?.aborted) throw error;
      if (isBlobMismatch(error)) {
        if (offset > 0 && !restartedAfterMismatch) {
          restartedAfterMismatch = true;
          fresh = true;
          continue;
        }
        throw new ImageError('image.blob.corrupt', `${ctx.image}: blob ${desc.digest} from ${ctx.client.options.registry} does not match its digest (${(error as Error).message})`, { context: { image: ctx.image, digest: desc.digest }, cause: error });
      }
      if (error instanceof ImageError && error.code === 'image.blob.range') {
        fresh = true;
        continue;
      }
      if (!isRetryableDownloadError(error) || attempt + 1 >= policy.attempts) {
        if (error instanceof ImageError) throw error;
        const e = error as Error;
        throw new ImageError('image.blob.download', `${ctx.image}: downloading blob ${desc.digest} from ${ctx.client.options.registry} failed after ${attempt + 1} attempt(s): ${e.message}`, { context: { image: ctx.image, digest: desc.digest }, cause: error });
      }
      const delay = backoffDelay(policy, attempt, error instanceof TransientError ? error.retryAfterMs : undefined);
      if (report) ctx.emit({ phase: 'layer', layer: desc.digest, bytes, total: desc.size, message: `retrying in ${(delay / 1000).toFixed(1)}s after ${(error as Error).message}` });
      await sleep(delay, ctx.options.signal);
    }
  }
}

/**
 * Download layers `parallel` at a time, each unpacked while it downloads (one pass over the
 * bytes). SPARE_LAYERS more layers are under way than download at once: a layer waiting for a
 * transfer permit has its request out, its locks and temp dir ready, so its bytes flow the moment
 * another layer's last byte is in, while that one's unpacking and commit finish (without this, the
 * layers went in waves: each wave's locks, temp dirs and first bytes, then its unpacking tail and
 * commits, with no bytes flowing). A layer's place goes to the next one at its last byte, not at its
 * commit: with layers of one size, those that started together ended together, and the unpacking
 * worker then had little to do until the next ones' first bytes. Layers that were already stored
 * as blobs, or whose download had to resume, are unpacked from their files by ensureLayers at the
 * end (which also finds the streamed ones ready).
 */
async function fetchAndUnpackLayers(ctx: PullContext, config: OciImageConfigFile, manifest: ImageManifest): Promise<string[]> {
  const layers = manifest.layers;
  const all = layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
  if (layers.length === 0) return [];
  const chains = chainIds(config.rootfs.diff_ids);
  // Written while the first layers download (streamLayerLocked waits for it before a blob or layer
  // of theirs becomes visible).
  const pinned = ctx.store.pin([], chains);
  pinned.catch(() => undefined);   // awaited below; a failure is reported there
  const parallel = parallelDownloads(ctx.options);
  ctx.transfers = new Semaphore(parallel);
  const average = layers.reduce((sum, l) => sum + l.size, 0) / layers.length;
  const spare = average <= SPARE_FOR_LAYERS_UP_TO ? SPARE_LAYERS : 0;
  // A layer holds a slot from its start (locks, temp dir, request) to its last byte (or its end):
  // the next layer starts then, not once this one's unpacking and commit are done.
  const slots = new Semaphore(parallel + spare);
  let failure: unknown;
  const running: Promise<void>[] = [];
  for (let i = 0; i < layers.length && !failure; i++) {
    const free = await slots.acquire();
    if (failure) {
      free();
      break;
    }
    running.push((async () => {
      try {
        // hasBlob costs nothing when the blob is absent (and one lock when present).
        if (await ctx.store.hasBlob(layers[i].digest)) {
          dropEarly(ctx, layers[i].digest);
          ctx.emit({ phase: 'layer', layer: layers[i].digest, bytes: layers[i].size, total: layers[i].size, message: 'skipped' });
        } else await downloadBlob(ctx, layers[i], true, { diffId: config.rootfs.diff_ids[i], chainId: chains[i] }, free);
      } catch (error) {
        failure ??= error;
      } finally {
        free();
      }
    })());
  }
  await Promise.all(running);
  try {
    await pinned;
    if (failure) throw failure;
    return await ctx.store.ensureLayers(config, all, {
      onLayer: (e) => { if (e.phase === 'unpacking') ctx.emit({ phase: 'unpacking', layer: e.digest, message: `Unpacking ${e.digest.slice(7, 19)}` }); },
    });
  } catch (error) {
    if (error instanceof ImageError && !error.message.startsWith(ctx.image)) {
      throw new ImageError(error.code, `${ctx.image}: ${error.message}`, { context: { ...error.context, image: ctx.image }, cause: error, exitCode: error.exitCode });
    }
    throw error;
  }
}

/**
 * Layers made ready beyond those downloading, for images of small layers (on average up to
 * SPARE_FOR_LAYERS_UP_TO compressed), where a layer's own overhead (locks, temp dir, the registry's
 * first answer: ~40-90 ms) is long beside its transfer. Permits free one at a time, so two ready
 * layers keep bytes flowing. They cost peak memory, more with larger layers (measured, not
 * explained: not the waiting responses, which hold ~0.2 MB each, nor the worker jobs, made lazily
 * to check): 20 layers of 2 MB 113 -> 118 MB with two; 20 of 10 MB 138 -> 144 MB with two, 156 MB
 * with six; 40 of 10 MB 156 -> 169-172 MB with two. Larger layers gain little from them.
 */
const SPARE_LAYERS = 2;
const SPARE_FOR_LAYERS_UP_TO = 4 * 1024 * 1024;

/** Permits, handed out in the order asked for; each release function works once. */
class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export { formatPlatform };
