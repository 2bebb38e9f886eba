import { UnitError } from '../errors/index.js';
import { UnitErrorCode } from './codes.js';
import type { BodyLine, Group, SectionHeader } from './model.js';
import { describeSource } from './source.js';
import { isUnitWhitespace, stripUnitWhitespace } from './whitespace.js';

export interface ParsedUnit {
  bom: boolean;
  groups: Group[];
  /** The first line ending seen ("\n" when there is none), used for lines added later. */
  eol: string;
}

const LF = 0x0a, CR = 0x0d, HASH = 0x23, SEMICOLON = 0x3b, BACKSLASH = 0x5c, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const MAX_SHOWN = 120;

interface Continuation {
  startLine: number;
  rawStart: number;
  logical: string;
}

/**
 * Parse unit-file text the way systemd's config_parse() reads it: lines end at LF, CRLF or CR;
 * a line whose first non-blank character is `#` or `;` is a comment, also in the middle of a
 * continuation; an odd number of trailing backslashes continues the line (the backslash becomes a
 * space); whitespace around keys and values is stripped. Every physical line is kept verbatim.
 */
export function parseUnitText(text: string, file: string): ParsedUnit {
  const length = text.length;
  const bom = length > 0 && text.charCodeAt(0) === 0xfeff;
  const preamble: Group = { name: undefined, header: undefined, lines: [] };
  const groups: Group[] = [preamble];
  let current = preamble;
  let firstEol = '';
  let lineNumber = 0;
  let continuation: Continuation | undefined;
  let lastEnd = 0;
  let lastEol = '';
  let nextLf = -2;
  let nextCr = -2;

  const finishLogical = (logical: string, raw: string, eol: string, line: number, open = false): void => {
    const item = classify(logical, raw, eol, line, file, current.name !== undefined);
    if (open) ('header' in item ? item.header : item).open = true;
    if ('header' in item) {
      current = { name: item.name, header: item.header, lines: [] };
      groups.push(current);
    } else {
      current.lines.push(item);
    }
  };

  let pos = bom ? 1 : 0;
  while (pos < length) {
    if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos);
    if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos);
    let end = length;
    if (nextLf !== -1) end = nextLf;
    if (nextCr !== -1 && nextCr < end) end = nextCr;
    let next = end;
    let eol = '';
    if (end < length) {
      if (text.charCodeAt(end) === CR && text.charCodeAt(end + 1) === LF) {
        eol = '\r\n';
        next = end + 2;
      } else {
        eol = text[end]!;
        next = end + 1;
      }
      if (firstEol === '') firstEol = eol;
    }
    lineNumber++;
    lastEnd = end;
    lastEol = eol;

    let first = pos;
    while (first < end && isUnitWhitespace(text.charCodeAt(first))) first++;
    const firstCode = first < end ? text.charCodeAt(first) : -1;
    const isComment = firstCode === HASH || firstCode === SEMICOLON;

    if (continuation === undefined) {
      if (isComment || firstCode === -1) {
        current.lines.push({ kind: 'text', text: text.slice(pos, end), eol });
        pos = next;
        continue;
      }
    } else if (isComment) {
      pos = next; // systemd skips comment lines inside a continuation
      continue;
    }

    let backslashes = 0;
    while (end - backslashes > pos && text.charCodeAt(end - backslashes - 1) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 1) {
      const piece = text.slice(pos, end - 1) + ' ';
      if (continuation === undefined) continuation = { startLine: lineNumber, rawStart: pos, logical: piece };
      else continuation.logical += piece;
    } else if (continuation === undefined) {
      const line = text.slice(pos, end);
      finishLogical(line, line, eol, lineNumber);
    } else {
      finishLogical(continuation.logical + text.slice(pos, end), text.slice(continuation.rawStart, end), eol, continuation.startLine);
      continuation = undefined;
    }
    pos = next;
  }
  if (continuation !== undefined) {
    finishLogical(continuation.logical, text.slice(continuation.rawStart, lastEnd), lastEol, continuation.startLine, true);
  }
  return { bom, groups, eol: firstEol === '' ? '\n' : firstEol };
}

type Classified = BodyLine | { name: string; header: SectionHeader };

function classify(logical: string, raw: string, eol: string, line: number, file: string, inSection: boolean): Classified {
  // Bounds of the stripped line; an assignment is cut from them without slicing it out first.
  let start = 0;
  let end = logical.length;
  while (start < end && isUnitWhitespace(logical.charCodeAt(start))) start++;
  while (end > start && isUnitWhitespace(logical.charCodeAt(end - 1))) end--;
  if (start === end) return { kind: 'text', text: raw, eol };
  const firstCode = logical.charCodeAt(start);
  if (firstCode === HASH || firstCode === SEMICOLON) return { kind: 'text', text: raw, eol };
  if (firstCode !== OPEN_BRACKET) {
    const equals = logical.indexOf('=', start);
    if (equals > start && equals < end && inSection) {
      return { kind: 'entry', entry: { key: stripUnitWhitespace(logical, start, equals), value: stripUnitWhitespace(logical, equals + 1, end), file, line }, text: raw, eol };
    }
  }
  const content = logical.slice(start, end);
  if (firstCode === OPEN_BRACKET) {
    if (content.length < 2 || content.charCodeAt(content.length - 1) !== CLOSE_BRACKET) {
      throw syntaxError(`unterminated section header ${show(content)}`, file, line);
    }
    const name = content.slice(1, -1);
    if (!isSafeSectionName(name)) throw syntaxError(`bad characters in section header ${show(content)}`, file, line);
    return { name, header: { text: raw, eol } };
  }
  const equals = content.indexOf('=');
  if (equals < 0) throw syntaxError(`expected "Key=Value" but got ${show(content)}`, file, line);
  if (equals === 0) throw syntaxError(`missing key name before "=" in ${show(content)}`, file, line);
  const key = stripUnitWhitespace(content, 0, equals);
  if (!inSection) throw syntaxError(`assignment ${show(content)} is outside of any section`, file, line, key);
  const value = stripUnitWhitespace(content, equals + 1);
  return { kind: 'entry', entry: { key, value, file, line }, text: raw, eol };
}

/** systemd's string_is_safe(): no control characters, quotes or backslashes in a section name. */
function isSafeSectionName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x22 || code === 0x27 || code === BACKSLASH) return false;
  }
  return true;
}

function show(content: string): string {
  return JSON.stringify(content.length > MAX_SHOWN ? content.slice(0, MAX_SHOWN) + '…' : content);
}

function syntaxError(message: string, file: string, line: number, key?: string): UnitError {
  return new UnitError(UnitErrorCode.syntax, describeSource({ file, line }) + message, {
    context: key === undefined ? { file, line } : { file, line, key },
  });
}
