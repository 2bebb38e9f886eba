/**
 * Typed reads of one section of a source unit. Every value that does not parse is a
 * QuadletError naming file, line, section and key (Quadlet silently ignores most of these).
 */
import { parseBoolean, splitWords, type UnitEntry, type UnitFile } from '../unit/index.js';
import { sectionEntries } from './entries.js';
import { badValue, QuadletError, whereEntry } from './errors.js';

/** Shared result for keys a file does not set (most of the ~100 keys looked up): no garbage per miss. */
const NONE: readonly never[] = Object.freeze([]);

export class Section {
  // Plain assignments, not class fields: defining fields is slow in V8's interpreter (hot: per file).
  declare readonly unit: UnitFile;
  declare readonly name: string;
  declare readonly file: string;
  private declare index: Map<string, UnitEntry[]> | undefined;

  constructor(unit: UnitFile, name: string, file: string) {
    this.unit = unit;
    this.name = name;
    this.file = file;
    this.index = undefined;
  }

  /** Every assignment of the key in this section, resets included (built once: translators look up ~100 keys). */
  private assignments(key: string): readonly UnitEntry[] {
    if (this.index === undefined) {
      this.index = new Map();
      const entries = sectionEntries(this.unit, this.name);
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        const list = this.index.get(entry.key);
        if (list === undefined) this.index.set(entry.key, [entry]);
        else list.push(entry);
      }
    }
    return this.index.get(key) ?? NONE;
  }

  has(key: string): boolean {
    return this.assignments(key).length > 0;
  }

  last(key: string): string | undefined {
    const list = this.assignments(key);
    return list.length === 0 ? undefined : list[list.length - 1]!.value;
  }

  /** The last value when it is not empty. */
  nonEmpty(key: string): string | undefined {
    const list = this.assignments(key);
    if (list.length === 0) return undefined;
    const value = list[list.length - 1]!.value;
    return value === '' ? undefined : value;
  }

  lastEntry(key: string): UnitEntry | undefined {
    const list = this.assignments(key);
    return list[list.length - 1];
  }

  all(key: string): string[] {
    const list = this.allEntries(key);
    const values: string[] = [];
    for (let i = 0; i < list.length; i++) values.push(list[i]!.value);
    return values;
  }

  /** Values of a list setting: an empty assignment drops everything before it. */
  allEntries(key: string): readonly UnitEntry[] {
    const list = this.assignments(key);
    let start = 0;
    for (let i = 0; i < list.length; i++) if (list[i]!.value === '') start = i + 1;
    return start === 0 ? list : list.slice(start);
  }

  bool(key: string): boolean | undefined {
    const list = this.assignments(key);
    if (list.length === 0) return undefined;
    const entry = list[list.length - 1]!;
    if (entry.value === '') return undefined;
    const value = parseBoolean(entry.value);
    if (value === undefined) throw badValue(entry, this.name, this.file, 'not a boolean (use true or false)');
    return value;
  }

  boolOr(key: string, fallback: boolean): boolean {
    return this.bool(key) ?? fallback;
  }

  /** Words of one entry (quotes and C escapes processed). */
  words(entry: UnitEntry): string[] {
    // Most values hold no quotes or escapes: plain whitespace splitting is the same thing, faster.
    if (!/["'\\]/.test(entry.value)) return entry.value.split(/[ \t\n\r]+/).filter((word) => word !== '');
    try {
      return splitWords(entry.value);
    } catch (error) {
      throw new QuadletError('quadlet-bad-value', whereEntry(entry, this.name, this.file),
        `${entry.key}=${JSON.stringify(entry.value)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** All words of all values of a repeatable key. */
  allWords(key: string): string[] {
    const entries = this.allEntries(key);
    if (entries.length === 0) return [];
    if (entries.length === 1) return this.words(entries[0]!);
    return entries.flatMap((entry) => this.words(entry));
  }

  lastWords(key: string): string[] | undefined {
    const entry = this.lastEntry(key);
    return entry === undefined ? undefined : this.words(entry);
  }

  /** `k=v` words of every value; later keys override earlier ones. */
  keyVals(key: string): Map<string, string> {
    const pairs = new Map<string, string>();
    const entries = this.allEntries(key);
    if (entries.length === 0) return pairs;
    for (const entry of entries) {
      for (const word of this.words(entry)) {
        const eq = word.indexOf('=');
        if (eq <= 0) throw badValue(entry, this.name, this.file, `"${word}" is not KEY=VALUE`);
        pairs.set(word.slice(0, eq), word.slice(eq + 1));
      }
    }
    return pairs;
  }

  /** A non-negative integer (Volume User=/Group=). */
  uint32(key: string): number | undefined {
    const entry = this.lastEntry(key);
    if (entry === undefined) return undefined;
    if (!/^\d+$/.test(entry.value.trim()) || Number(entry.value) > 0xffffffff) {
      throw badValue(entry, this.name, this.file, 'not a numeric id');
    }
    return Number(entry.value);
  }

  error(entry: UnitEntry, what: string): QuadletError {
    return badValue(entry, this.name, this.file, what);
  }
}
