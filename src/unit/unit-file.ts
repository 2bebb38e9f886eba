import { readFileSync } from 'node:fs';
import { UnitError } from '../errors/index.js';
import { parseBoolean } from './boolean.js';
import { UnitErrorCode } from './codes.js';
import { entryLine, type BodyLine, type Group, type UnitEntry } from './model.js';
import { parseUnitText } from './parse.js';
import { describeSource } from './source.js';
import { isUnitWhitespace } from './whitespace.js';

/**
 * A unit file (or Quadlet file) kept losslessly: comments, blank lines, continuations and line
 * endings survive, so `UnitFile.parse(x).toString() === x`. Entries added or changed by code are
 * written as `Key=Value`. Sections may appear several times; lookups see all of them in order.
 */
export class UnitFile {
  // Assigned in the constructor rather than as initialized class fields: defining fields is
  // markedly slower in V8's interpreter, and the generator makes thousands of these per run.
  declare path: string;
  private declare bom: boolean;
  private declare eol: string;
  private declare groups: Group[];

  constructor(path = '') {
    this.path = path;
    this.bom = false;
    this.eol = '\n';
    this.groups = [{ name: undefined, header: undefined, lines: [] }];
  }

  static parse(text: string, path = ''): UnitFile {
    const parsed = parseUnitText(text, path);
    const unit = new UnitFile(path);
    unit.bom = parsed.bom;
    unit.eol = parsed.eol;
    unit.groups = parsed.groups;
    return unit;
  }

  /** Read and parse synchronously (the generator is synchronous, for speed). */
  static read(path: string): UnitFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UnitError(UnitErrorCode.read, `${path}: cannot read unit file (${reason})`, { context: { file: path }, cause: error });
    }
    return UnitFile.parse(text, path);
  }

  /** Section names in order of first appearance. */
  sectionNames(): string[] {
    // Index loops throughout the lookups: the generator runs unoptimized, where for-of allocates.
    const names: string[] = [];
    for (let g = 0; g < this.groups.length; g++) {
      const name = this.groups[g]!.name;
      if (name !== undefined && !names.includes(name)) names.push(name);
    }
    return names;
  }

  hasSection(section: string): boolean {
    for (let g = 0; g < this.groups.length; g++) if (this.groups[g]!.name === section) return true;
    return false;
  }

  /** Every assignment of the section, in order (across repeated headers of the same section). */
  entries(section: string): UnitEntry[] {
    const result: UnitEntry[] = [];
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      if (group.name !== section) continue;
      const lines = group.lines;
      for (let l = 0; l < lines.length; l++) {
        const line = lines[l]!;
        if (line.kind === 'entry') result.push(line.entry);
      }
    }
    return result;
  }

  lookupLastEntry(section: string, key: string): UnitEntry | undefined {
    for (let g = this.groups.length - 1; g >= 0; g--) {
      const group = this.groups[g]!;
      if (group.name !== section) continue;
      for (let l = group.lines.length - 1; l >= 0; l--) {
        const line = group.lines[l]!;
        if (line.kind === 'entry' && line.entry.key === key) return line.entry;
      }
    }
    return undefined;
  }

  /** The last value of the key ("" when the last assignment is empty), undefined when never set. */
  lookupLast(section: string, key: string): string | undefined {
    return this.lookupLastEntry(section, key)?.value;
  }

  /** All assignments of a list setting; an empty assignment (`Key=`) drops everything before it. */
  lookupAllEntries(section: string, key: string): UnitEntry[] {
    let result: UnitEntry[] = [];
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      if (group.name !== section) continue;
      const lines = group.lines;
      for (let l = 0; l < lines.length; l++) {
        const line = lines[l]!;
        if (line.kind !== 'entry' || line.entry.key !== key) continue;
        if (line.entry.value === '') result = [];
        else result.push(line.entry);
      }
    }
    return result;
  }

  lookupAll(section: string, key: string): string[] {
    const entries = this.lookupAllEntries(section, key);
    const values: string[] = [];
    for (let i = 0; i < entries.length; i++) values.push(entries[i]!.value);
    return values;
  }

  /** The last value as a systemd boolean; undefined when unset or reset to empty; UnitError on junk. */
  lookupBoolean(section: string, key: string): boolean | undefined {
    const entry = this.lookupLastEntry(section, key);
    if (entry === undefined || entry.value === '') return undefined;
    const value = parseBoolean(entry.value);
    if (value === undefined) {
      throw new UnitError(
        UnitErrorCode.boolean,
        `${describeSource({ file: entry.file, line: entry.line })}invalid boolean ${JSON.stringify(entry.value)} for ${key}= in [${section}]`,
        { context: { file: entry.file, line: entry.line, key, value: entry.value } },
      );
    }
    return value;
  }

  /** Append an assignment to the section (created at the end of the file if missing). */
  add(section: string, key: string, value: string): void {
    this.checkAssignment(section, key, value);
    const group = this.lastGroup(section) ?? this.appendSection(section);
    insertEntryLines(group, [entryLine({ key, value, file: this.path, line: 0 })]);
  }

  /** Replace every assignment of the key by one (at the place of the last one), or add it. */
  set(section: string, key: string, value: string): void {
    this.checkAssignment(section, key, value);
    let replaced = false;
    for (let g = this.groups.length - 1; g >= 0; g--) {
      const group = this.groups[g]!;
      if (group.name !== section) continue;
      for (let l = group.lines.length - 1; l >= 0; l--) {
        const line = group.lines[l]!;
        if (line.kind !== 'entry' || line.entry.key !== key) continue;
        if (replaced) {
          group.lines.splice(l, 1);
        } else {
          group.lines[l] = entryLine({ key, value, file: this.path, line: 0 });
          replaced = true;
        }
      }
    }
    if (!replaced) this.add(section, key, value);
  }

  remove(section: string, key: string): void {
    for (const group of this.groups) {
      if (group.name !== section) continue;
      group.lines = group.lines.filter((line) => line.kind !== 'entry' || line.entry.key !== key);
    }
  }

  removeSection(section: string): void {
    this.groups = this.groups.filter((group) => group.name !== section);
  }

  /**
   * Apply a drop-in: its assignments (and comments) are appended, in order, to the matching
   * sections; sections this file lacks are added at the end. Entries keep the drop-in's file and line.
   */
  merge(dropIn: UnitFile): void {
    for (const source of dropIn.groups) {
      if (source.name === undefined) continue;
      const lines = source.lines.filter((line) => !isBlank(line)).map(copyLine);
      let target = this.lastGroup(source.name);
      if (target === undefined) {
        target = this.appendSection(source.name, source.header?.text);
        target.lines.push(...lines);
      } else {
        insertEntryLines(target, lines);
      }
    }
  }

  clone(): UnitFile {
    const copy = new UnitFile(this.path);
    copy.bom = this.bom;
    copy.eol = this.eol;
    copy.groups = this.groups.map((group) => ({
      name: group.name,
      header: group.header === undefined ? undefined : { ...group.header },
      lines: group.lines.map(copyLine),
    }));
    return copy;
  }

  /**
   * The file's text: original lines verbatim, changed or added entries as `Key=Value`.
   * `lineEnding` rewrites every line ending (CRLF, CR, LF) to the one given.
   */
  toString(options: { lineEnding?: '\n' | '\r\n' } = {}): string {
    const text = this.render();
    return options.lineEnding === undefined ? text : text.replace(/\r\n|\r|\n/g, options.lineEnding);
  }

  private render(): string {
    const parts: string[] = this.bom ? ['\uFEFF'] : [];
    let pendingEol = '';
    let lastEol = '';
    let previousOpen = false;
    const emit = (text: string, eol: string, open: boolean | undefined): void => {
      parts.push(pendingEol);
      // A file that ended inside a continuation needs that continuation closed before more lines.
      if (previousOpen) parts.push(this.eol);
      parts.push(text);
      // An original last line without a line ending keeps none, unless more lines follow it.
      pendingEol = eol === '' ? this.eol : eol;
      lastEol = eol;
      previousOpen = open === true;
    };
    for (const group of this.groups) {
      if (group.header !== undefined) emit(group.header.text, group.header.eol, group.header.open);
      for (const line of group.lines) {
        if (line.kind === 'entry' && line.text === undefined) emit(`${line.entry.key}=${line.entry.value}`, this.eol, false);
        else emit(line.text!, line.eol, line.open);
      }
    }
    parts.push(lastEol);
    return parts.join('');
  }

  private lastGroup(section: string): Group | undefined {
    for (let g = this.groups.length - 1; g >= 0; g--) if (this.groups[g]!.name === section) return this.groups[g];
    return undefined;
  }

  private appendSection(section: string, headerText = `[${section}]`): Group {
    const previous = this.groups[this.groups.length - 1]!;
    const lastLine = previous.lines[previous.lines.length - 1];
    const hasContent = this.groups.length > 1 || previous.lines.length > 0;
    const endsBlank = lastLine !== undefined && isBlank(lastLine);
    if (hasContent && !endsBlank) previous.lines.push({ kind: 'text', text: '', eol: this.eol });
    const group: Group = { name: section, header: { text: headerText, eol: this.eol }, lines: [] };
    this.groups.push(group);
    return group;
  }

  private checkAssignment(section: string, key: string, value: string): void {
    const problem = assignmentProblem(section, key, value);
    if (problem !== undefined) {
      throw new UnitError(UnitErrorCode.value, `${describeSource({ file: this.path, line: 0 })}cannot write ${key}= in [${section}]: ${problem}`, {
        context: { file: this.path, key, value },
      });
    }
  }
}

/** Insert after the section's last assignment; in a section without any, before its trailing blank lines. */
function insertEntryLines(group: Group, lines: BodyLine[]): void {
  let at = group.lines.length;
  while (at > 0 && group.lines[at - 1]!.kind !== 'entry') at--;
  if (at === 0) {
    at = group.lines.length;
    while (at > 0 && isBlank(group.lines[at - 1]!)) at--;
  }
  group.lines.splice(at, 0, ...lines);
}

function isBlank(line: BodyLine): boolean {
  return line.kind === 'text' && line.text.trim() === '';
}

function copyLine(line: BodyLine): BodyLine {
  return { ...line } as BodyLine;
}

/** Why a key/value cannot be written so that it reads back the same (undefined when fine). */
function assignmentProblem(section: string, key: string, value: string): string | undefined {
  if (/[\r\n\]"'\\\x00-\x1f\x7f]/.test(section)) return 'the section name has characters a header cannot hold';
  if (key === '') return 'the key is empty';
  if (/[=\r\n]/.test(key) || isUnitWhitespace(key.charCodeAt(0)) || isUnitWhitespace(key.charCodeAt(key.length - 1))) {
    return 'the key has "=", a line break or surrounding whitespace';
  }
  const first = key.charCodeAt(0);
  if (first === 0x23 || first === 0x3b || first === 0x5b) return 'the key starts with "#", ";" or "["';
  if (/[\r\n]/.test(value)) return 'the value has a line break';
  let backslashes = 0;
  while (backslashes < value.length && value.charCodeAt(value.length - 1 - backslashes) === 0x5c) backslashes++;
  if (backslashes % 2 === 1) return 'the value ends with a backslash (it would continue onto the next line)';
  return undefined;
}

export type { UnitEntry };
