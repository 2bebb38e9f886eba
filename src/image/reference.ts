/**
 * Image references as Podman (containers/image, distribution/reference) reads them:
 * `nginx` → docker.io/library/nginx:latest, `host:5000/a/b:tag`, `name@sha256:…`.
 * A reference with both a tag and a digest is pulled by its digest (the tag is dropped, as Podman does).
 */
import { ImageError } from '../errors/index.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

/** What was written, before normalization. `registry` is undefined for a short name. */
export interface ParsedReference {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** A fully qualified reference: registry and repository always present (docker.io/library/… expanded). */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const NAME_MAX = 255;

function invalid(input: string, why: string): ImageError {
  return new ImageError('image.reference.invalid', `invalid image reference "${input}": ${why}`, { context: { image: input } });
}

export function validateDigest(digest: string, input = digest): void {
  if (!DIGEST_RE.test(digest)) throw invalid(input, `bad digest "${digest}"`);
  const [algorithm, hex] = digest.split(':');
  const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  if (!(algorithm in lengths)) throw invalid(input, `unsupported digest algorithm "${algorithm}"`);
  if (hex.length !== lengths[algorithm] || /[A-F]/.test(hex)) throw invalid(input, `bad ${algorithm} digest "${digest}"`);
}

/** Parse without normalizing. Throws ImageError "image.reference.invalid" naming the input. */
export function parseReference(input: string): ParsedReference {
  if (input.length === 0) throw invalid(input, 'empty name');
  if (/\s/.test(input)) throw invalid(input, 'contains white space');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(digest, input);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(input, `bad tag "${tag}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  if (rest.length === 0) throw invalid(input, 'missing repository name');
  if (rest.length > NAME_MAX) throw invalid(input, `repository name longer than ${NAME_MAX} characters`);
  let registry: string | undefined;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) throw invalid(input, `bad registry host "${registry}"`);
    }
  }
  if (path.length === 0) throw invalid(input, 'missing repository name');
  for (const component of path.split('/')) {
    if (component.toLowerCase() !== component && PATH_COMPONENT_RE.test(component.toLowerCase())) {
      throw invalid(input, 'repository name must be lowercase');
    }
    if (!PATH_COMPONENT_RE.test(component)) {
      throw invalid(input, component === '' ? 'empty path component' : `bad repository path component "${component}"`);
    }
  }
  return { registry, repository: path, tag, digest };
}

/** True when the input names no registry (it must go through short-name resolution). */
export function isShortName(input: string): boolean {
  return parseReference(input).registry === undefined;
}

/** Qualify a parsed reference with `registry` (docker.io adds "library/" to single-component names). */
export function qualify(parsed: ParsedReference, registry: string): ImageReference {
  let host = registry;
  if (host === 'index.docker.io') host = DEFAULT_REGISTRY;
  let repository = parsed.repository;
  if (host === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  const ref: ImageReference = { registry: host, repository };
  if (parsed.digest) ref.digest = parsed.digest;
  else ref.tag = parsed.tag ?? DEFAULT_TAG;
  return ref;
}

/** Parse and normalize as Podman does when no short-name resolution is involved (short names go to docker.io). */
export function normalizeReference(input: string): ImageReference {
  const parsed = parseReference(input);
  return qualify(parsed, parsed.registry ?? DEFAULT_REGISTRY);
}

/** "registry/repository" */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** "registry/repository:tag" or "registry/repository@digest" */
export function formatReference(ref: ImageReference): string {
  if (ref.digest) return `${repositoryName(ref)}@${ref.digest}`;
  return `${repositoryName(ref)}:${ref.tag ?? DEFAULT_TAG}`;
}

/** The tag or digest part as the registry API wants it. */
export function referenceTarget(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** A hex image ID or a unique prefix of one (Podman accepts 3+ characters when it matches nothing else). */
export function looksLikeImageId(input: string): boolean {
  return /^(sha256:)?[0-9a-f]{3,64}$/.test(input);
}
