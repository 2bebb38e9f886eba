/**
 * Reading what a registry returned for a tag or digest: an image manifest (OCI or Docker schema 2)
 * or an index (OCI index or Docker manifest list) from which this machine's platform is chosen.
 * Schema 1 and unknown media types are refused with a clear error.
 */
import { ImageError } from '../errors/index.js';
import type { FetchedManifest } from './registry-client.js';
import { INDEX_TYPES, IMAGE_MANIFEST_TYPES, LAYER_TYPES, MediaType, SCHEMA1_TYPES, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from './oci.js';

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; digest: string; body: Buffer; index: ImageIndex }
  | { kind: 'image'; mediaType: string; digest: string; body: Buffer; manifest: ImageManifest };

function invalid(image: string, message: string, digest?: string): ImageError {
  return new ImageError('image.manifest.invalid', `${image}: ${message}`, { context: { image, digest } });
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Descriptor;
  return typeof d === 'object' && d !== null && typeof d.mediaType === 'string' && typeof d.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(d.digest)
    && typeof d.size === 'number' && Number.isInteger(d.size) && d.size >= 0;
}

export function parseManifest(fetched: FetchedManifest, image: string): ParsedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fetched.body.toString('utf8'));
  } catch {
    throw invalid(image, `manifest ${fetched.digest} is not valid JSON`, fetched.digest);
  }
  if (typeof json !== 'object' || json === null) throw invalid(image, `manifest ${fetched.digest} is not a JSON object`, fetched.digest);
  const generic = ['', 'application/json', 'text/plain', 'application/octet-stream'];
  let mediaType = generic.includes(fetched.mediaType) ? '' : fetched.mediaType;
  if (!mediaType) {
    if (typeof json.mediaType === 'string') mediaType = json.mediaType;
    else if (json.schemaVersion === 1) mediaType = MediaType.dockerSchema1;
    else if (Array.isArray(json.manifests)) mediaType = MediaType.ociIndex;
    else if (json.config) mediaType = MediaType.ociManifest;
  }
  if (SCHEMA1_TYPES.includes(mediaType) || json.schemaVersion === 1) {
    throw new ImageError('image.manifest.schema1', `${image}: Docker schema 1 manifests are not supported (deprecated since 2017); push the image again with a current tool`, { context: { image, digest: fetched.digest } });
  }
  if (typeof json.mediaType === 'string' && json.mediaType !== mediaType) {
    throw invalid(image, `manifest ${fetched.digest} says mediaType ${json.mediaType} but was served as ${mediaType}`, fetched.digest);
  }
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(json.manifests) || !json.manifests.every(isDescriptor)) throw invalid(image, `index ${fetched.digest} has malformed "manifests"`, fetched.digest);
    return { kind: 'index', mediaType, digest: fetched.digest, body: fetched.body, index: json as unknown as ImageIndex };
  }
  if (IMAGE_MANIFEST_TYPES.includes(mediaType)) {
    if (!isDescriptor(json.config)) throw invalid(image, `manifest ${fetched.digest} has a malformed "config"`, fetched.digest);
    if (!Array.isArray(json.layers) || !json.layers.every(isDescriptor)) throw invalid(image, `manifest ${fetched.digest} has malformed "layers"`, fetched.digest);
    const manifest = json as unknown as ImageManifest;
    if (![MediaType.ociConfig, MediaType.dockerConfig].includes(manifest.config.mediaType as typeof MediaType.ociConfig)) {
      throw new ImageError('image.manifest.not-an-image', `${image}: not a container image (config media type ${manifest.config.mediaType})`, { context: { image, digest: fetched.digest } });
    }
    for (const layer of manifest.layers) {
      if (!LAYER_TYPES.includes(layer.mediaType)) {
        throw new ImageError('image.manifest.layer-type', `${image}: layer ${layer.digest} has unsupported media type ${layer.mediaType}`, { context: { image, digest: layer.digest } });
      }
    }
    return { kind: 'image', mediaType, digest: fetched.digest, body: fetched.body, manifest };
  }
  throw new ImageError('image.manifest.media-type', `${image}: unsupported manifest media type "${mediaType || '(none)'}"`, { context: { image, digest: fetched.digest } });
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386', i686: '386' };

export function normalizeArch(arch: string): string {
  return ARCH_ALIASES[arch] ?? arch;
}

export function hostPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le' } as Record<string, string>)[process.arch] ?? process.arch;
  const platform: Platform = { os: 'linux', architecture: arch };
  if (arch === 'arm') {
    const version = (process.config.variables as Record<string, unknown>).arm_version;
    if (version) platform.variant = `v${version}`;
  }
  return platform;
}

/** "linux/arm64/v8", "linux/amd64", "arm64" (os defaults to linux). */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new ImageError('image.platform.invalid', `invalid platform "${spec}": expected os/arch[/variant]`, { context: { key: 'platform' } });
  }
  if (parts.length === 1) return { os: 'linux', architecture: normalizeArch(parts[0]) };
  return { os: parts[0], architecture: normalizeArch(parts[1]), ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function variantOf(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  return p.architecture === 'arm64' ? 'v8' : undefined;
}

/** Pick the index entry for `want`; an exact variant beats an unspecified one. */
export function choosePlatform(index: ImageIndex, want: Platform, image: string): Descriptor {
  const candidates = index.manifests.filter((d) => d.platform && d.platform.os === want.os && normalizeArch(d.platform.architecture) === want.architecture
    && IMAGE_MANIFEST_TYPES.includes(d.mediaType));
  const wantVariant = variantOf(want);
  const exact = candidates.find((d) => variantOf(d.platform!) === wantVariant);
  if (exact) return exact;
  if (!want.variant) {
    const any = candidates.find((d) => !d.platform!.variant) ?? candidates[0];
    if (any) return any;
  }
  const available = index.manifests.filter((d) => d.platform).map((d) => formatPlatform(d.platform!)).join(', ') || 'none';
  throw new ImageError('image.platform.unavailable', `${image}: no image for platform ${formatPlatform(want)} (available: ${available})`, { context: { image } });
}
