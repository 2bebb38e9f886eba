/**
 * [Install] applied at generation time, as `systemctl enable` would: WantedBy=, RequiredBy=,
 * UpheldBy= become links in `<target>.wants|.requires|.upholds/`, Alias= a link beside the unit.
 * A template (`foo@.container`) is enabled only through DefaultInstance=.
 */
import { splitWords, type UnitFile } from '../unit/index.js';
import { QuadletError } from './errors.js';
import type { InstallLink } from './model.js';

/** A unit name systemd accepts, and one that cannot leave the output folder. */
export const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+$/;

function checkName(unit: UnitFile, key: string, value: string, file: string): void {
  if (UNIT_NAME.test(value) && !value.startsWith('.')) return;
  const entry = unit.lookupLastEntry('Install', key);
  throw new QuadletError('quadlet-bad-value', { file, line: entry?.line, section: 'Install', key }, `${key}=${JSON.stringify(value)}: not a unit name`);
}

const DIRECTORY_OF: ReadonlyArray<readonly [string, string]> = [
  ['WantedBy', 'wants'],
  ['RequiredBy', 'requires'],
  ['UpheldBy', 'upholds'],
];

/** `serviceFile` is the generated file name, e.g. "web.service" or "sleep@.service". */
export function installLinks(unit: UnitFile, serviceFile: string, file = serviceFile): InstallLink[] {
  if (!unit.hasSection('Install')) return [];
  let linkName = serviceFile;
  const at = serviceFile.indexOf('@');
  const isTemplate = at !== -1 && serviceFile.slice(at + 1).startsWith('.');
  if (isTemplate) {
    const instance = unit.lookupLast('Install', 'DefaultInstance');
    if (instance === undefined || instance === '') return [];
    checkName(unit, 'DefaultInstance', instance, file);
    linkName = `${serviceFile.slice(0, at + 1)}${instance}${serviceFile.slice(at + 1)}`;
  }
  const links: InstallLink[] = [];
  const seen = new Set<string>();
  const push = (link: string, target: string): void => {
    if (seen.has(link)) return;
    seen.add(link);
    links.push({ link, target });
  };
  for (let d = 0; d < DIRECTORY_OF.length; d++) {
    const key = DIRECTORY_OF[d]![0];
    const suffix = DIRECTORY_OF[d]![1];
    for (const value of unit.lookupAll('Install', key)) {
      for (const target of words(value)) {
        checkName(unit, key, target, file);
        push(`${target}.${suffix}/${linkName}`, `../${serviceFile}`);
      }
    }
  }
  if (!isTemplate) {
    for (const value of unit.lookupAll('Install', 'Alias')) {
      for (const alias of words(value)) {
        checkName(unit, 'Alias', alias, file);
        if (alias !== serviceFile) push(alias, serviceFile);
      }
    }
  }
  return links;
}

function words(value: string): string[] {
  try {
    return splitWords(value, { relax: true });
  } catch {
    return value.split(/\s+/).filter(Boolean);
  }
}
