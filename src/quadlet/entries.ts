/**
 * A section's assignments, read from the parsed file once per run: validation, the copy into the
 * service and the key index all walk them (thousands of files at boot).
 */
import type { UnitEntry, UnitFile } from '../unit/index.js';

const cache = new WeakMap<UnitFile, Map<string, UnitEntry[]>>();

export function sectionEntries(unit: UnitFile, section: string): UnitEntry[] {
  let sections = cache.get(unit);
  if (sections === undefined) {
    sections = new Map();
    cache.set(unit, sections);
  }
  let entries = sections.get(section);
  if (entries === undefined) {
    entries = unit.entries(section);
    sections.set(section, entries);
  }
  return entries;
}
