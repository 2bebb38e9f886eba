/**
 * Where to fetch a fully qualified reference from, per registries.conf: the matching [[registry]]
 * entry's mirrors (in order, subject to pull-from-mirror) then its location (prefix rewritten),
 * each with its own `insecure`. A blocked registry is refused.
 */
import { ImageError } from '../errors/index.js';
import { formatReference, parseReference, repositoryName, type ImageReference } from './reference.js';
import { findRegistry, type RegistriesConfig } from './registries-conf.js';

export interface PullSource {
  ref: ImageReference;
  insecure: boolean;
  mirror: boolean;
}

function rewrite(ref: ImageReference, prefix: string, location: string): ImageReference {
  const name = repositoryName(ref);
  const rewritten = prefix.startsWith('*.') ? name : location + name.slice(prefix.length);
  const parsed = parseReference(rewritten);
  if (!parsed.registry) {
    throw new ImageError('image.registries-conf.invalid', `registries.conf: location "${location}" rewrites ${name} to "${rewritten}", which names no registry`, { context: { image: formatReference(ref) } });
  }
  return { registry: parsed.registry, repository: parsed.repository, tag: ref.tag, digest: ref.digest };
}

export function pullSources(config: RegistriesConfig, ref: ImageReference): PullSource[] {
  const entry = findRegistry(config, repositoryName(ref));
  if (!entry) return [{ ref, insecure: false, mirror: false }];
  if (entry.blocked) {
    throw new ImageError('image.registry.blocked', `registry ${ref.registry} is blocked in ${entry.file} (pulling ${formatReference(ref)})`, { context: { image: formatReference(ref), file: entry.file } });
  }
  const sources: PullSource[] = [];
  const useMirrors = entry.pullFromMirror === 'all' || (entry.pullFromMirror === 'digest-only' ? !!ref.digest : !ref.digest);
  if (useMirrors) for (const m of entry.mirrors) sources.push({ ref: rewrite(ref, entry.prefix, m.location), insecure: m.insecure, mirror: true });
  sources.push({ ref: entry.location ? rewrite(ref, entry.prefix, entry.location) : ref, insecure: entry.insecure, mirror: false });
  return sources;
}

/** Is this registry host marked insecure (for login, which has no repository)? */
export function isInsecureRegistry(config: RegistriesConfig, host: string): boolean {
  return findRegistry(config, host)?.insecure ?? false;
}
