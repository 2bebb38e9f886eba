/**
 * Pieces every translator shares: the service skeleton (sections passed through, default
 * dependencies, SourcePath), the engine's base command, user namespaces, networks, volumes.
 */
import { quoteExecArg, type UnitEntry } from '../unit/index.js';
import { sectionEntries } from './entries.js';
import { Argv } from './argv.js';
import { QuadletError, whereEntry } from './errors.js';
import { SECTION_OF } from './keys.js';
import type { SourceUnit, TranslateContext, UnitInfo } from './model.js';
import { Section } from './section.js';
import { ServiceFile } from './service-file.js';

const RENAMED_SECTIONS: Record<string, string> = {
  Container: 'X-Container', Volume: 'X-Volume', Network: 'X-Network', Pod: 'X-Pod', Quadlet: 'X-Quadlet',
};

export interface Translation {
  service: ServiceFile;
  section: Section;
  info: UnitInfo;
}

/** Copy the source into a new service unit, Quadlet sections renamed to X-…, [Unit] extended. */
export function initService(source: SourceUnit, ctx: TranslateContext): Translation {
  const info = ctx.units.get(source.name);
  if (info === undefined) throw new Error(`internal: no unit info for ${source.name}`);
  const section = new Section(source.unit, SECTION_OF[source.kind], source.name);
  const quadlet = new Section(source.unit, 'Quadlet', source.name);
  const defaultDependencies = quadlet.boolOr('DefaultDependencies', true);
  const networkUnit = ctx.user ? 'podman-user-wait-network-online.service' : 'network-online.target';

  const service = new ServiceFile(`${info.serviceName}.service`);
  let sawUnit = false;
  const names = source.unit.sectionNames();
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    const target = RENAMED_SECTIONS[name] ?? name;
    if (name === 'Unit') {
      sawUnit = true;
      if (defaultDependencies) {
        service.add('Unit', 'Wants', networkUnit);
        service.add('Unit', 'After', networkUnit);
      }
    }
    service.ensureSection(target);
    const entries = sectionEntries(source.unit, name);
    for (let i = 0; i < entries.length; i++) service.add(target, entries[i]!.key, entries[i]!.value);
  }
  if (!sawUnit && defaultDependencies) {
    service.add('Unit', 'Wants', networkUnit);
    service.add('Unit', 'After', networkUnit);
  }
  service.add('Unit', 'SourcePath', source.path);
  service.add('Unit', 'RequiresMountsFor', '%t/containers');
  return { service, section, info };
}

/** `ENGINE [--module=M…] [GlobalArgs…]` */
export function baseCommand(section: Section, ctx: TranslateContext): Argv {
  const argv = new Argv([ctx.engine]);
  for (const module of section.all('ContainersConfModule')) argv.add(`--module=${module}`);
  argv.add(...section.allWords('GlobalArgs'));
  return argv;
}

/** Render an argv as an Exec line value; `prefix` is an Exec prefix such as "-". */
export function execLine(words: string[], prefix = ''): string {
  let line = prefix;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (i > 0) line += ' ';
    line += PLAIN_WORD.test(word) ? word : quoteExecArg(word);
  }
  return line;
}

/** Words systemd reads back unchanged without quoting (most of them: skip the quoting code). */
const PLAIN_WORD = /^[A-Za-z0-9_/.,:=@%+-]+$/;

export function addPodmanArgs(section: Section, argv: Argv): void {
  argv.add(...section.allWords('PodmanArgs'));
}

export function addPublishPorts(section: Section, argv: Argv): void {
  for (const port of section.all('PublishPort')) argv.add('--publish', port);
}

export function addStrings(section: Section, table: ReadonlyArray<readonly [string, string]>, argv: Argv): void {
  // Index loops, not `for (const [key, flag] of …)`: the run is not optimized (see generators/
  // berth-generator) and destructuring allocates iterators in V8's interpreter.
  for (let i = 0; i < table.length; i++) {
    const value = section.nonEmpty(table[i]![0]);
    if (value !== undefined) argv.add(table[i]![1], value);
  }
}

export function addAllStrings(section: Section, table: ReadonlyArray<readonly [string, string]>, argv: Argv): void {
  for (let i = 0; i < table.length; i++) {
    const values = section.all(table[i]![0]);
    for (let v = 0; v < values.length; v++) argv.add(table[i]![1], values[v]!);
  }
}

export function addBools(section: Section, table: ReadonlyArray<readonly [string, string]>, argv: Argv): void {
  for (let i = 0; i < table.length; i++) {
    const value = section.bool(table[i]![0]);
    if (value !== undefined) argv.addBool(table[i]![1], value);
  }
}

export function addKeyVals(section: Section, table: ReadonlyArray<readonly [string, string]>, argv: Argv): void {
  for (let i = 0; i < table.length; i++) argv.addKeyVals(table[i]![1], section.keyVals(table[i]![0]));
}

/** UserNS=, UIDMap=, GIDMap=, SubUIDMap=, SubGIDMap= and the deprecated Remap* keys. */
export function addUserMappings(section: Section, argv: Argv, supportManual: boolean): void {
  let defined = false;
  const userns = section.nonEmpty('UserNS');
  if (userns !== undefined) {
    argv.add('--userns', userns);
    defined = true;
  }
  for (const [key, flag] of [['UIDMap', '--uidmap'], ['GIDMap', '--gidmap']] as const) {
    const maps = section.allWords(key);
    if (maps.length > 0) defined = true;
    for (const map of maps) argv.add(flag, map);
  }
  for (const [key, flag] of [['SubUIDMap', '--subuidname'], ['SubGIDMap', '--subgidname']] as const) {
    const value = section.nonEmpty(key);
    if (value !== undefined) {
      argv.add(flag, value);
      defined = true;
    }
  }
  const remapUsers = section.lastEntry('RemapUsers');
  if (defined) {
    const remap = section.lastEntry('RemapUid') ?? section.lastEntry('RemapGid') ?? remapUsers;
    if (remap !== undefined) throw section.error(remap, 'deprecated Remap keys cannot be combined with UserNS=/UIDMap=/GIDMap=/SubUIDMap=/SubGIDMap=');
    return;
  }
  addUserRemap(section, argv, supportManual, remapUsers);
}

function addUserRemap(section: Section, argv: Argv, supportManual: boolean, remapUsers: UnitEntry | undefined): void {
  const uidMaps = section.allWords('RemapUid');
  const gidMaps = section.allWords('RemapGid');
  const mode = remapUsers?.value ?? '';
  switch (mode) {
    case '': {
      const stray = section.lastEntry('RemapUid') ?? section.lastEntry('RemapGid');
      if (stray !== undefined) throw section.error(stray, 'needs RemapUsers=');
      return;
    }
    case 'manual':
      if (!supportManual) throw section.error(remapUsers!, 'RemapUsers=manual is not supported here');
      for (const map of uidMaps) argv.add('--uidmap', map);
      for (const map of gidMaps) argv.add('--gidmap', map);
      return;
    case 'auto': {
      const opts = [...uidMaps.map((m) => `uidmapping=${m}`), ...gidMaps.map((m) => `gidmapping=${m}`)];
      const size = section.uint32('RemapUidSize') ?? 0;
      if (size > 0) opts.push(`size=${size}`);
      argv.add('--userns', opts.length > 0 ? `auto:${opts.join(',')}` : 'auto');
      return;
    }
    case 'keep-id': {
      if (uidMaps.length > 1 || gidMaps.length > 1) throw section.error(remapUsers!, 'keep-id takes a single UID and GID mapping');
      const opts = [...uidMaps.map((m) => `uid=${m}`), ...gidMaps.map((m) => `gid=${m}`)];
      argv.add('--userns', opts.length > 0 ? `keep-id:${opts.join(',')}` : 'keep-id');
      return;
    }
    default:
      throw section.error(remapUsers!, 'expected manual, auto or keep-id');
  }
}

/** A reference to another Quadlet unit: its info, or an error naming the missing file. */
export function referencedUnit(section: Section, entry: UnitEntry, target: string, ctx: TranslateContext): UnitInfo {
  const info = ctx.units.get(target);
  if (info !== undefined) return info;
  const unsupported = /\.(image|build|kube)$/.test(target);
  throw new QuadletError('quadlet-unknown-unit', whereEntry(entry, section.name, section.file),
    unsupported
      ? `${entry.key}= refers to "${target}": ${target.slice(target.lastIndexOf('.'))} units are not supported by berth yet`
      : `${entry.key}= refers to "${target}", which does not exist`);
}

function requireService(service: ServiceFile, info: UnitInfo): void {
  service.add('Unit', 'Requires', `${info.serviceName}.service`);
  service.add('Unit', 'After', `${info.serviceName}.service`);
}

/** Network= values; `x.network` and `x.container` become dependencies and resolved names. */
export function addNetworks(t: Translation, ctx: TranslateContext, argv: Argv): void {
  for (const entry of t.section.allEntries('Network')) {
    let network = entry.value;
    if (network === '') continue;
    const colon = network.indexOf(':');
    const unitName = colon === -1 ? network : network.slice(0, colon);
    const isNetwork = unitName.endsWith('.network');
    const isContainer = unitName.endsWith('.container');
    if (isNetwork || isContainer) {
      const info = referencedUnit(t.section, entry, unitName, ctx);
      if (info.resourceName === '') throw t.section.error(entry, `cannot know the resource name of ${unitName} (its name uses specifiers)`);
      requireService(t.service, info);
      if (colon !== -1) {
        if (isContainer) throw t.section.error(entry, "options are not supported when joining another container's network");
        network = `${info.resourceName}${network.slice(colon)}`;
      } else {
        network = isContainer ? `container:${info.resourceName}` : info.resourceName;
      }
    }
    argv.add('--network', network);
  }
}

/** Absolute path for a relative one, relative to the source file's folder (specifiers left alone). */
export function absolutePath(sourcePath: string, path: string): string {
  if (path.startsWith('/') || (path.startsWith('%') && !path.startsWith('%%'))) return path;
  const dir = sourcePath.slice(0, sourcePath.lastIndexOf('/')) || '/';
  return normalize(`${dir}/${path}`);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** A Volume=/Mount= source: relative paths made absolute, `x.volume` resolved to its name. */
export function storageSource(t: Translation, source: SourceUnit, entry: UnitEntry, value: string, ctx: TranslateContext): string {
  let resolved = value;
  if (resolved.startsWith('.')) resolved = absolutePath(source.path, resolved);
  if (resolved.startsWith('/')) {
    t.service.add('Unit', 'RequiresMountsFor', resolved);
  } else if (resolved.endsWith('.volume')) {
    const info = referencedUnit(t.section, entry, resolved, ctx);
    requireService(t.service, info);
    resolved = info.resourceName;
  }
  return resolved;
}

/** Volume= values as `-v SRC:DST[:OPTS]`. */
export function addVolumes(t: Translation, source: SourceUnit, ctx: TranslateContext, argv: Argv): void {
  for (const entry of t.section.allEntries('Volume')) {
    if (entry.value === '') continue;
    const parts = splitN(entry.value, ':', 3);
    const [first, second, third] = parts;
    const dest = parts.length >= 2 ? second! : first!;
    const sourcePart = parts.length >= 2 ? first! : '';
    const options = third !== undefined ? `:${third}` : '';
    argv.add('-v');
    if (sourcePart === '') argv.add(dest);
    else argv.add(`${storageSource(t, source, entry, sourcePart, ctx)}:${dest}${options}`);
  }
}

function splitN(value: string, separator: string, n: number): string[] {
  const parts = value.split(separator);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator)];
}
