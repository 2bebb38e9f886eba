/**
 * Finding and loading source files: walk the search roots (subfolders included, symlinks
 * followed), keep the first file of each name, merge its drop-ins.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { UnitError } from '../errors/index.js';
import { UnitFile } from '../unit/index.js';
import { dropInDirNames } from './dropins.js';
import { displayName, QuadletError } from './errors.js';
import type { UnloadableSource } from './generate.js';
import { KINDS, type Kind, type SourceUnit } from './model.js';
import type { SearchRoot } from './paths.js';

const KIND_OF_EXTENSION = new Map<string, Kind>(KINDS.map((kind) => [`.${kind}`, kind]));
/** Quadlet kinds berth does not translate yet, with the service-name suffix Quadlet gives them. */
const UNSUPPORTED_SUFFIX = new Map([['.kube', ''], ['.image', '-image'], ['.build', '-build']]);
const SERVICE_SUFFIX: Record<Kind, string> = { container: '', volume: '-volume', network: '-network', pod: '-pod' };

/** Every folder to look in, in precedence order: each root, then its subfolders depth-first. */
export function expandRoots(roots: SearchRoot[]): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, root: SearchRoot, depth: number): void => {
    if (seen.has(dir) || depth > 16) return;
    seen.add(dir);
    dirs.push(dir);
    for (const entry of listDir(dir)) {
      const name = entry.name;
      if (name.endsWith('.d') || !(entry.isDirectory() || entry.isSymbolicLink())) continue; // drop-in folders are not search folders
      const path = `${dir}/${name}`;
      if (root.exclude.includes(path)) continue;
      if (root.skipNumericSubdirs && depth === 0 && /^\d+$/.test(name)) continue;
      if (isDirectory(path)) walk(path, root, depth + 1);
    }
  };
  for (const root of roots) if (isDirectory(root.dir)) walk(root.dir, root, 0);
  return dirs;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** name -> path of the winning file for each supported unit file. */
export function findSources(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of dirs) {
    for (const entry of listDir(dir)) {
      const name = entry.name;
      if (found.has(name) || (kindOf(name) === undefined && unsupportedSuffix(name) === undefined)) continue;
      const path = `${dir}/${name}`;
      if (entry.isFile() || (entry.isSymbolicLink() && isFile(path))) found.set(name, path);
    }
  }
  return found;
}

const listings = new Map<string, Dirent[]>();

/** A folder's entries, sorted by name, read once per run (the walk, sources and drop-ins share it). */
function listDir(dir: string): Dirent[] {
  let entries = listings.get(dir);
  if (entries === undefined) {
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      entries = [];
    }
    listings.set(dir, entries);
  }
  return entries;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // dangling symlink
  }
}

function unsupportedSuffix(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? UNSUPPORTED_SUFFIX.get(name.slice(dot)) : undefined;
}

export function kindOf(name: string): Kind | undefined {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? KIND_OF_EXTENSION.get(name.slice(dot)) : undefined;
}

/** Drop-in files for a unit: per file name the most specific folder wins, merged in name order. */
export function findDropIns(name: string, dirs: string[]): string[] {
  const present = dropInFolderNames(dirs);
  if (present.size === 0) return []; // the usual case: no drop-ins anywhere
  const chosen = new Map<string, string>();
  for (const dropInDir of dropInDirNames(name)) {
    if (!present.has(dropInDir)) continue;
    for (const dir of dirs) {
      if (!hasDirectory(dir, dropInDir)) continue;
      for (const file of listDir(`${dir}/${dropInDir}`)) {
        if (!file.name.endsWith('.conf') || chosen.has(file.name)) continue;
        chosen.set(file.name, `${dir}/${dropInDir}/${file.name}`);
      }
    }
  }
  return [...chosen.keys()].sort().map((file) => chosen.get(file)!);
}

const dropInFolders = new WeakMap<string[], Set<string>>();

/** Names ending in ".d" in any of the folders (a superset of the drop-in folders), listed once per run. */
function dropInFolderNames(dirs: string[]): Set<string> {
  let names = dropInFolders.get(dirs);
  if (names === undefined) {
    names = new Set();
    for (const dir of dirs) for (const entry of listDir(dir)) if (entry.name.endsWith('.d')) names.add(entry.name);
    dropInFolders.set(dirs, names);
  }
  return names;
}

const indexes = new Map<string, Map<string, Dirent>>();

function hasDirectory(dir: string, name: string): boolean {
  let index = indexes.get(dir);
  if (index === undefined) {
    index = new Map(listDir(dir).map((entry) => [entry.name, entry]));
    indexes.set(dir, index);
  }
  const entry = index.get(name);
  return entry !== undefined && (entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(`${dir}/${name}`)));
}

/** Read a source and its drop-ins; syntax errors become an UnloadableSource. */
export function loadSource(name: string, path: string, dirs: string[]): SourceUnit | UnloadableSource {
  const kind = kindOf(name);
  const stem = name.slice(0, name.lastIndexOf('.'));
  if (kind === undefined) {
    const extension = name.slice(name.lastIndexOf('.'));
    return { name, path, serviceName: stem + (unsupportedSuffix(name) ?? ''),
      error: new QuadletError('quadlet-unsupported', { file: name }, `${extension} files are not supported by berth yet (only .container, .volume, .network, .pod)`) };
  }
  let current = path;
  try {
    const unit = UnitFile.parse(readFileSync(path, 'utf8'), path);
    for (const dropIn of findDropIns(name, dirs)) {
      current = dropIn;
      unit.merge(UnitFile.parse(readFileSync(dropIn, 'utf8'), dropIn));
    }
    return { name, kind, path, unit };
  } catch (error) {
    return { name, kind, path, serviceName: stem + SERVICE_SUFFIX[kind], error: asQuadletError(error, current === path ? name : displayName(current)) };
  }
}

function asQuadletError(error: unknown, file: string): QuadletError {
  if (error instanceof UnitError) {
    const line = typeof error.context.line === 'number' && error.context.line > 0 ? error.context.line : undefined;
    const source = typeof error.context.file === 'string' ? error.context.file : '';
    let detail = error.message;
    for (const prefix of [`${source}:${line}: `, `${source}: `]) {
      if (source !== '' && detail.startsWith(prefix)) detail = detail.slice(prefix.length);
    }
    return new QuadletError('quadlet-syntax', { file, line }, detail, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new QuadletError('quadlet-syntax', { file }, `cannot read: ${message}`, { cause: error });
}
