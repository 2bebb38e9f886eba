/**
 * containers-registries.conf(5), version 2 (TOML), read as containers/image does:
 * the main file ($CONTAINERS_REGISTRIES_CONF, else $HOME/.config/containers/registries.conf if it
 * exists, else /etc/containers/registries.conf), then drop-ins `*.conf` in lexical order from
 * /etc/containers/registries.conf.d and $HOME/.config/containers/registries.conf.d (only the user
 * dir when the user's own registries.conf is used), then the short-name alias cache.
 * The v1 tables ([registries.search], [registries.insecure], [registries.block]) are accepted too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ImageError } from '../errors/index.js';
import { parseReference } from './reference.js';

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';

export interface Mirror { location: string; insecure: boolean }

export interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: Mirror[];
  pullFromMirror: 'all' | 'digest-only' | 'tag-only';
  file: string;
}

export interface AliasEntry { value: string; file: string }

export interface RegistriesConfig {
  unqualifiedSearchRegistries: string[];
  /** File that last set unqualified-search-registries (for error messages). */
  searchRegistriesFile?: string;
  shortNameMode: ShortNameMode;
  aliases: Map<string, AliasEntry>;
  registries: RegistryEntry[];
  /** Files read, in order. */
  files: string[];
  /** Where a prompted short-name choice is recorded. */
  aliasCacheFile: string;
}

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';
export const SYSTEM_REGISTRIES_CONF_DIR = '/etc/containers/registries.conf.d';
const DEFAULT_SHORT_NAME_MODE: ShortNameMode = 'permissive';

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** Podman's alias cache: rootless $XDG_CACHE_HOME (~/.cache)/containers/short-name-aliases.conf, root /var/cache/containers/…;
 *  BERTH_SHORT_NAME_ALIASES_CONF overrides (tests). */
export function aliasCachePath(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.BERTH_SHORT_NAME_ALIASES_CONF) return env.BERTH_SHORT_NAME_ALIASES_CONF;
  if (uid === 0) return '/var/cache/containers/short-name-aliases.conf';
  const cache = env.XDG_CACHE_HOME || path.join(homeDir(env), '.cache');
  return path.join(cache, 'containers', 'short-name-aliases.conf');
}

function configError(file: string, key: string, message: string, line?: number): ImageError {
  const where = line ? `${file}:${line}` : file;
  return new ImageError('image.registries-conf.invalid', `${where}: ${key ? `${key}: ` : ''}${message}`, { context: { file, key, line } });
}

function readToml(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(file, '', `cannot read: ${(error as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) throw configError(file, '', `invalid TOML: ${error.message.split('\n')[0]}`, error.line);
    throw configError(file, '', `invalid TOML: ${(error as Error).message}`);
  }
}

function stringArray(file: string, key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw configError(file, key, 'must be an array of strings');
  return value as string[];
}

function optionalBoolean(file: string, key: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw configError(file, key, 'must be true or false');
  return value;
}

function optionalString(file: string, key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw configError(file, key, 'must be a string');
  return value;
}

/** An alias key is a short name without tag or digest. */
function validateAliasKey(file: string, key: string): void {
  let parsed;
  try {
    parsed = parseReference(key);
  } catch (error) {
    throw configError(file, `aliases."${key}"`, (error as Error).message);
  }
  if (parsed.registry !== undefined) throw configError(file, `aliases."${key}"`, 'an alias name must be a short name (no registry)');
  if (parsed.tag || parsed.digest) throw configError(file, `aliases."${key}"`, 'an alias name must not contain a tag or digest');
}

/** An alias value names a registry and a repository, without tag or digest. */
function validateAliasValue(file: string, key: string, value: string): void {
  let parsed;
  try {
    parsed = parseReference(value);
  } catch (error) {
    throw configError(file, `aliases."${key}"`, (error as Error).message);
  }
  if (parsed.registry === undefined) throw configError(file, `aliases."${key}"`, `value "${value}" must include a registry`);
  if (parsed.tag || parsed.digest) throw configError(file, `aliases."${key}"`, `value "${value}" must not contain a tag or digest`);
}

function readAliases(file: string, table: unknown, into: Map<string, AliasEntry>): void {
  if (table === undefined) return;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) throw configError(file, 'aliases', 'must be a table');
  for (const [key, value] of Object.entries(table)) {
    if (typeof value !== 'string') throw configError(file, `aliases."${key}"`, 'must be a string');
    validateAliasKey(file, key);
    if (value === '') {
      into.delete(key); // an empty value in a later file removes the alias
      continue;
    }
    validateAliasValue(file, key, value);
    into.set(key, { value, file });
  }
}

function readRegistryEntry(file: string, raw: unknown, index: number): RegistryEntry {
  const key = `registry[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(file, key, 'must be a table');
  const r = raw as Record<string, unknown>;
  const location = optionalString(file, `${key}.location`, r.location) ?? '';
  let prefix = optionalString(file, `${key}.prefix`, r.prefix) ?? '';
  if (!prefix) prefix = location;
  if (!prefix) throw configError(file, key, 'needs a location or a prefix');
  if (location.includes('://')) throw configError(file, `${key}.location`, `"${location}" must not contain a scheme`);
  if (prefix.startsWith('*') && !/^\*\.[^/*]+$/.test(prefix)) throw configError(file, `${key}.prefix`, `wildcard "${prefix}" must look like *.example.com`);
  if (prefix.startsWith('*') && location) throw configError(file, `${key}.location`, 'must be empty with a wildcard prefix');
  const mirrors: Mirror[] = [];
  if (r.mirror !== undefined) {
    if (!Array.isArray(r.mirror)) throw configError(file, `${key}.mirror`, 'must be an array of tables ([[registry.mirror]])');
    r.mirror.forEach((m: unknown, i: number) => {
      if (typeof m !== 'object' || m === null) throw configError(file, `${key}.mirror[${i}]`, 'must be a table');
      const mm = m as Record<string, unknown>;
      const mirrorLocation = optionalString(file, `${key}.mirror[${i}].location`, mm.location);
      if (!mirrorLocation) throw configError(file, `${key}.mirror[${i}].location`, 'is required');
      mirrors.push({ location: mirrorLocation, insecure: optionalBoolean(file, `${key}.mirror[${i}].insecure`, mm.insecure) ?? false });
    });
  }
  const mirrorByDigestOnly = optionalBoolean(file, `${key}.mirror-by-digest-only`, r['mirror-by-digest-only']) ?? false;
  let pullFromMirror = optionalString(file, `${key}.pull-from-mirror`, r['pull-from-mirror']) ?? (mirrorByDigestOnly ? 'digest-only' : 'all');
  if (pullFromMirror === '') pullFromMirror = 'all';
  if (!['all', 'digest-only', 'tag-only'].includes(pullFromMirror)) throw configError(file, `${key}.pull-from-mirror`, `"${pullFromMirror}" is not all, digest-only or tag-only`);
  return {
    prefix,
    location,
    insecure: optionalBoolean(file, `${key}.insecure`, r.insecure) ?? false,
    blocked: optionalBoolean(file, `${key}.blocked`, r.blocked) ?? false,
    mirrors,
    pullFromMirror: pullFromMirror as RegistryEntry['pullFromMirror'],
    file,
  };
}

/** Apply one parsed file onto the accumulated config (drop-in semantics: set keys replace, registries merge by prefix). */
function applyFile(config: RegistriesConfig, file: string, doc: Record<string, unknown>): void {
  config.files.push(file);
  const v1 = doc.registries;
  if (v1 !== undefined && !Array.isArray(v1)) {
    // v1: [registries.search] registries = [...], [registries.insecure], [registries.block]
    if (doc.registry !== undefined || doc['unqualified-search-registries'] !== undefined) {
      throw configError(file, 'registries', 'mixes the v1 format ([registries.search]) with the v2 format');
    }
    const tables = v1 as Record<string, { registries?: unknown }>;
    if (tables.search?.registries !== undefined) {
      config.unqualifiedSearchRegistries = stringArray(file, 'registries.search.registries', tables.search.registries);
      config.searchRegistriesFile = file;
    }
    const extra = (name: 'insecure' | 'block'): string[] => (tables[name]?.registries === undefined ? [] : stringArray(file, `registries.${name}.registries`, tables[name]!.registries));
    for (const host of extra('insecure')) upsertRegistry(config, { prefix: host, location: host, insecure: true, blocked: false, mirrors: [], pullFromMirror: 'all', file });
    for (const host of extra('block')) upsertRegistry(config, { prefix: host, location: host, insecure: false, blocked: true, mirrors: [], pullFromMirror: 'all', file });
  }
  if (doc['unqualified-search-registries'] !== undefined) {
    config.unqualifiedSearchRegistries = stringArray(file, 'unqualified-search-registries', doc['unqualified-search-registries']);
    config.searchRegistriesFile = file;
    for (const host of config.unqualifiedSearchRegistries) {
      if (host.includes('/')) throw configError(file, 'unqualified-search-registries', `"${host}" must be a host[:port], not a path`);
    }
  }
  const mode = optionalString(file, 'short-name-mode', doc['short-name-mode']);
  if (mode !== undefined && mode !== '') {
    if (!['enforcing', 'permissive', 'disabled'].includes(mode)) throw configError(file, 'short-name-mode', `"${mode}" is not enforcing, permissive or disabled`);
    config.shortNameMode = mode as ShortNameMode;
  }
  readAliases(file, doc.aliases, config.aliases);
  if (doc.registry !== undefined) {
    if (!Array.isArray(doc.registry)) throw configError(file, 'registry', 'must be an array of tables ([[registry]])');
    doc.registry.forEach((raw: unknown, i: number) => upsertRegistry(config, readRegistryEntry(file, raw, i)));
  }
}

function upsertRegistry(config: RegistriesConfig, entry: RegistryEntry): void {
  const existing = config.registries.findIndex((r) => r.prefix === entry.prefix);
  if (existing >= 0) config.registries[existing] = entry;
  else config.registries.push(entry);
}

function dropIns(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Replace the system drop-in dir (tests). */
  systemDropInDir?: string;
}

export function loadRegistriesConfig(options: LoadOptions = {}): RegistriesConfig {
  const env = options.env ?? process.env;
  const home = homeDir(env);
  const userFile = path.join(home, '.config', 'containers', 'registries.conf');
  const userDir = path.join(home, '.config', 'containers', 'registries.conf.d');
  const systemDir = options.systemDropInDir ?? env.BERTH_REGISTRIES_CONF_DIR ?? SYSTEM_REGISTRIES_CONF_DIR;
  let main: string;
  let dirs: string[];
  if (env.CONTAINERS_REGISTRIES_CONF) {
    main = env.CONTAINERS_REGISTRIES_CONF;
    dirs = [systemDir, userDir];
    if (!fs.existsSync(main)) throw configError(main, '', 'CONTAINERS_REGISTRIES_CONF names a file that does not exist');
  } else if (fs.existsSync(userFile)) {
    main = userFile;
    dirs = [userDir];
  } else {
    main = SYSTEM_REGISTRIES_CONF;
    dirs = [systemDir, userDir];
  }
  const config: RegistriesConfig = {
    unqualifiedSearchRegistries: [],
    shortNameMode: DEFAULT_SHORT_NAME_MODE,
    aliases: new Map(),
    registries: [],
    files: [],
    aliasCacheFile: aliasCachePath(env),
  };
  for (const file of [main, ...dirs.flatMap(dropIns)]) {
    const doc = readToml(file);
    if (doc) applyFile(config, file, doc);
  }
  // The alias cache (choices made at the prompt) overrides configured aliases.
  const cache = readToml(config.aliasCacheFile);
  if (cache) {
    config.files.push(config.aliasCacheFile);
    readAliases(config.aliasCacheFile, cache.aliases, config.aliases);
  }
  if (env.BERTH_SHORT_NAME_MODE) {
    const mode = env.BERTH_SHORT_NAME_MODE;
    if (!['enforcing', 'permissive', 'disabled'].includes(mode)) throw configError('BERTH_SHORT_NAME_MODE', '', `"${mode}" is not enforcing, permissive or disabled`);
    config.shortNameMode = mode as ShortNameMode;
  }
  return config;
}

/** Length of `prefix` if it matches the repository name `name` (host/path), else -1 (as containers/image). */
function prefixMatch(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0];
    return host.endsWith(prefix.slice(1)) ? prefix.length : -1;
  }
  if (name === prefix) return prefix.length;
  if (name.length > prefix.length && name.startsWith(prefix) && '/:@'.includes(name[prefix.length])) return prefix.length;
  return -1;
}

/** The [[registry]] entry whose prefix matches `name` ("host/path") longest. */
export function findRegistry(config: RegistriesConfig, name: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  let bestLength = -1;
  for (const entry of config.registries) {
    const length = prefixMatch(name, entry.prefix);
    if (length > bestLength) {
      best = entry;
      bestLength = length;
    }
  }
  return best;
}

/** Save a short-name alias to the alias cache (atomic rewrite, keeping the other aliases). */
export function recordAlias(config: RegistriesConfig, shortName: string, value: string): void {
  const file = config.aliasCacheFile;
  const existing = readToml(file);
  const aliases: Record<string, string> = {};
  if (existing && typeof existing.aliases === 'object' && existing.aliases !== null) {
    for (const [k, v] of Object.entries(existing.aliases)) if (typeof v === 'string') aliases[k] = v;
  }
  aliases[shortName] = value;
  const lines = ['[aliases]', ...Object.entries(aliases).map(([k, v]) => `  ${JSON.stringify(k)} = ${JSON.stringify(v)}`)];
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, lines.join('\n') + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
  config.aliases.set(shortName, { value, file });
}
