/**
 * The image folder's public surface: make an image available (resolve, pull per policy, unpack)
 * and find local ones. The registry client and the store live in their own modules.
 */
import { ImageError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import type { OciImageConfigFile } from './oci.js';
import type { PullOptions } from './pull.js';
import type { EnsureImageOptions, ImageHandle } from './pull-types.js';
import { formatReference, looksLikeImageId, parseReference, qualify } from './reference.js';
import { loadRegistriesConfig, type RegistriesConfig } from './registries-conf.js';
import type { createProgressRenderer } from './progress.js';
import { ImageStore, type StoredImage } from './store/index.js';

export type { PullPolicy, ImageHandle, EnsureImageOptions, PullProgress } from './pull-types.js';
export type { OciImageConfigFile, ImageManifest, ImageIndex, Descriptor, Platform } from './oci.js';
export { normalizeReference, parseReference, formatReference, isShortName, type ImageReference } from './reference.js';
import type { pullImage as PullImage } from './pull.js';

// The registry client (http, tls, zlib, …) loads only when an image is pulled: `berth run` of a
// local image, every unit's start, never pays for it.
export async function pullImage(...args: Parameters<typeof PullImage>): ReturnType<typeof PullImage> {
  return (await import('./pull.js')).pullImage(...args);
}
export { ImageStore, type StoredImage } from './store/index.js';

async function handleFromStored(store: ImageStore, image: StoredImage): Promise<ImageHandle> {
  const config = JSON.parse((await store.readBlob(image.configDigest)).toString('utf8')) as OciImageConfigFile;
  let layerDirs: string[];
  try {
    layerDirs = await store.layerDirs(image);
  } catch {
    // A layer dir went missing (crash, manual cleanup): unpack again from the stored blobs.
    await store.prepareForWrites();
    layerDirs = await store.ensureLayers(config, image.layers);
  }
  return { id: image.id, digest: image.digest, names: image.names, config, layerDirs };
}

/**
 * Local lookup the way Podman's users name images: an ID or prefix, a full name, a short name via
 * its alias, the search registries and localhost/, or the end of a stored name ("busybox").
 */
async function findLocal(store: ImageStore, input: string, config: () => RegistriesConfig = loadRegistriesConfig): Promise<StoredImage | undefined> {
  if (looksLikeImageId(input)) {
    const byId = await store.findImage(input);
    if (byId) return byId;
  }
  const parsed = parseReference(input);
  if (parsed.registry !== undefined) return store.findImage(formatReference(qualify(parsed, parsed.registry)));
  const conf = config();
  const candidates: string[] = [];
  const alias = conf.aliases.get(parsed.repository);
  if (alias) {
    const target = parseReference(alias.value);
    candidates.push(formatReference(qualify({ repository: target.repository, tag: parsed.tag, digest: parsed.digest }, target.registry!)));
  }
  candidates.push(formatReference(qualify(parsed, 'localhost')));
  for (const registry of conf.unqualifiedSearchRegistries) candidates.push(formatReference(qualify(parsed, registry)));
  for (const name of candidates) {
    const found = await store.findImage(name);
    if (found) return found;
  }
  return store.findImage(input);
}

export async function lookupLocalImage(paths: StoragePaths, referenceOrId: string): Promise<ImageHandle | undefined> {
  const store = await ImageStore.open(paths);
  const image = await findLocal(store, referenceOrId);
  return image ? handleFromStored(store, image) : undefined;
}

/** Resolve short names, pull per policy (always | missing | never | newer), unpack; returns the image. */
export async function ensureImage(reference: string, options: EnsureImageOptions): Promise<ImageHandle> {
  // registries.conf is read only when needed: a fully qualified local image needs none of it
  let registries: RegistriesConfig | undefined;
  const registriesConfig = (): RegistriesConfig => (registries ??= loadRegistriesConfig());
  const store = await ImageStore.open(options.paths, { lookup: true });
  const local = options.policy === 'always' ? undefined : await findLocal(store, reference, registriesConfig);
  if (local && options.policy !== 'newer') return handleFromStored(store, local);
  if (options.policy === 'never') {
    throw new ImageError('image.not-found-locally', `${reference}: image not known locally and the pull policy is "never"`, { context: { image: reference }, exitCode: 125 });
  }
  const { pullResolved, resolveForPull } = await import('./pull.js');
  const config = registriesConfig();
  let renderer: ReturnType<typeof createProgressRenderer> | undefined;
  let onProgress = options.onProgress;
  if (!onProgress && !options.quiet) {
    renderer = (await import('./progress.js')).createProgressRenderer(process.stderr);
    onProgress = renderer.onProgress;
  }
  const pullOptions: PullOptions = { ...options, onProgress, registriesConfig: config };
  try {
    const resolution = await resolveForPull(reference, config, pullOptions);
    return await pullResolved(resolution, config, pullOptions);
  } catch (error) {
    // "newer": a registry that cannot be reached leaves the local image in use, as Podman does.
    if (local && options.policy === 'newer' && error instanceof ImageError && /unreachable|unavailable/.test(error.code)) {
      return handleFromStored(store, local);
    }
    throw error;
  } finally {
    renderer?.finish();
  }
}
