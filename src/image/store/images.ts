/**
 * The image index: one JSON document (<images>/images.json) replaced atomically under the store
 * lock. An image is keyed by its ID (config digest hex); names move between images the way
 * Podman's tags do (tagging b with a name a had leaves a dangling if it has no names left).
 */
import fs from 'node:fs';
import { ImageError } from '../../errors/index.js';
import { readJson, writeFileAtomic } from './atomic.js';
import type { StoreLayout } from './layout.js';

export interface LayerDescriptor { digest: string; mediaType: string; size: number }

export interface StoredImage {
  /** Config digest hex (no "sha256:"): Podman's image ID. */
  id: string;
  /** Manifest digest of the latest record ("sha256:…"). */
  digest: string;
  /** Every manifest digest this image was recorded under. */
  digests: string[];
  names: string[];
  configDigest: string;
  layers: LayerDescriptor[];
  diffIds: string[];
  chainIds: string[];
  /** config.created, if the image has it. */
  created?: string;
  /** When this store first recorded it. */
  recordedAt: string;
  /** Sum of the unpacked layers' file bytes (0 until unpacked). */
  size: number;
  /** Other blobs the pull stored for this image (e.g. the manifest list it was chosen from). */
  otherBlobs?: string[];
}

interface IndexFile { version: 1; images: StoredImage[] }

export async function readIndex(layout: StoreLayout): Promise<StoredImage[]> {
  try {
    return (await readJson<IndexFile>(layout.indexFile))?.images ?? [];
  } catch (error) {
    // Replaced atomically and fsynced, so only a damaged disk gets here: fall back to the previous version.
    try {
      return (await readJson<IndexFile>(`${layout.indexFile}.bak`))?.images ?? [];
    } catch {
      throw new ImageError('index-corrupt', `the image index ${layout.indexFile} is unreadable (${(error as Error).message}); move it away to start an empty index`, { context: { file: layout.indexFile }, cause: error });
    }
  }
}

/** Call with the store lock held. Keeps the previous version as images.json.bak (a hard link, no copy). */
export async function writeIndex(layout: StoreLayout, images: StoredImage[]): Promise<void> {
  const data: IndexFile = { version: 1, images };
  const backup = `${layout.indexFile}.bak`;
  await fs.promises.rm(backup, { force: true });
  await fs.promises.link(layout.indexFile, backup).catch(() => undefined);
  await writeFileAtomic(layout.indexFile, `${JSON.stringify(data, null, 1)}\n`, layout.imagesTmp);
}

/** The repository and tag of a normalized name ("host/a/b:tag" -> ["host/a/b", "tag"]); digests: tag "<none>". */
export function splitName(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  const base = at === -1 ? name : name.slice(0, at);
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: '<none>' };
}

/**
 * Finds an image the ways Podman's users name them: a full name, a name without tag (":latest"),
 * a short name matching the end of a stored repository ("busybox" -> "docker.io/library/busybox:latest"),
 * a full or unique-prefix ID (with or without "sha256:"), a manifest digest, "name@sha256:…".
 */
export function matchImage(images: StoredImage[], reference: string): StoredImage | undefined {
  const ref = reference.trim();
  if (ref === '') return undefined;
  const byName = images.find((i) => i.names.includes(ref));
  if (byName) return byName;
  const idLike = /^(?:sha256:)?([a-f0-9]{3,64})$/.exec(ref);
  if (idLike) {
    const hex = idLike[1]!;
    const exactId = images.find((i) => i.id === hex || i.digests.includes(`sha256:${hex}`));
    if (exactId) return exactId;
    const prefixed = images.filter((i) => i.id.startsWith(hex));
    if (prefixed.length === 1) return prefixed[0];
    if (prefixed.length > 1) throw new ImageError('image-ambiguous', `image ID prefix "${hex}" matches ${prefixed.length} images`, { context: { image: ref } });
  }
  const at = ref.indexOf('@');
  if (at !== -1) {
    const repo = ref.slice(0, at);
    const digest = ref.slice(at + 1);
    const candidates = images.filter((i) => i.digests.includes(digest));
    const repoOnly = splitName(repo).tag === '<none>' ? repo : splitName(repo).repository;
    return candidates.find((i) => i.names.some((n) => repoMatches(splitName(n).repository, repoOnly))) ?? (candidates.length === 1 ? candidates[0] : undefined);
  }
  const { repository, tag } = splitName(ref);
  const wantTag = tag === '<none>' ? 'latest' : tag;
  return images.find((i) => i.names.some((n) => {
    const parts = splitName(n);
    return parts.tag === wantTag && repoMatches(parts.repository, repository);
  }));
}

function repoMatches(stored: string, wanted: string): boolean {
  return stored === wanted || stored.endsWith(`/${wanted}`);
}
