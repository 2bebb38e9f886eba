/**
 * Short-name resolution as containers-registries.conf(5) describes it: an alias wins; otherwise
 * the unqualified-search registries, subject to short-name-mode (enforcing asks on a terminal when
 * there are several, and fails without one; permissive tries them all without a terminal;
 * disabled always tries them all). A prompted choice is recorded as an alias after a successful pull.
 */
import { ImageError } from '../errors/index.js';
import { formatReference, parseReference, qualify, type ImageReference, type ParsedReference } from './reference.js';
import type { RegistriesConfig } from './registries-conf.js';

export type Rationale = 'qualified' | 'alias' | 'search' | 'prompt';

export interface Resolution {
  input: string;
  candidates: ImageReference[];
  rationale: Rationale;
  /** The short name as aliases key it (tag/digest stripped), for short names. */
  shortName?: string;
  /** Where the alias came from (rationale "alias"). */
  aliasFile?: string;
}

export interface ResolveOptions {
  /** A chooser for several candidates; given only when stdin and stdout are terminals. Returns the chosen index. */
  prompt?: (title: string, choices: string[]) => Promise<number>;
}

function fromAlias(parsed: ParsedReference, value: string): ImageReference {
  const target = parseReference(value);
  return qualify({ repository: target.repository, tag: parsed.tag, digest: parsed.digest }, target.registry!);
}

export async function resolveName(input: string, config: RegistriesConfig, options: ResolveOptions = {}): Promise<Resolution> {
  const parsed = parseReference(input);
  if (parsed.registry !== undefined) return { input, candidates: [qualify(parsed, parsed.registry)], rationale: 'qualified' };
  const shortName = parsed.repository;
  const alias = config.aliases.get(shortName);
  if (alias) return { input, shortName, candidates: [fromAlias(parsed, alias.value)], rationale: 'alias', aliasFile: alias.file };
  const registries = config.unqualifiedSearchRegistries;
  if (registries.length === 0) {
    const where = config.searchRegistriesFile ?? (config.files.length ? config.files.join(', ') : 'any registries.conf');
    throw new ImageError('image.short-name.no-search-registries',
      `short-name "${input}" did not resolve to an alias and no unqualified-search registries are defined in ${where}`, { context: { image: input } });
  }
  const candidates = registries.map((registry) => qualify(parsed, registry));
  // One candidate, a digest (content-addressed: any registry serves the same bytes) or "disabled": no ambiguity to settle.
  if (candidates.length === 1 || parsed.digest || config.shortNameMode === 'disabled') return { input, shortName, candidates, rationale: 'search' };
  if (options.prompt) {
    const choices = candidates.map(formatReference);
    const index = await options.prompt('Please select an image:', choices);
    return { input, shortName, candidates: [candidates[index]], rationale: 'prompt' };
  }
  if (config.shortNameMode === 'permissive') return { input, shortName, candidates, rationale: 'search' };
  throw new ImageError('image.short-name.ambiguous',
    `short-name resolution enforced but cannot prompt without a TTY: "${input}" could be any of ${candidates.map(formatReference).join(', ')}; ` +
    'use a fully qualified name or add an alias in registries.conf', { context: { image: input } });
}
