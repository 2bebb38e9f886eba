import { UnitError } from '../errors/index.js';
import { UnitErrorCode } from './codes.js';

export interface UnitName {
  /** Before the "@" (or the whole name without its type). */
  prefix: string;
  /** After the "@" of an instance ("foo@bar.x" -> "bar"); undefined for plain names and templates. */
  instance?: string;
  /** "foo@.x" */
  template: boolean;
  /** The suffix after the last ".", e.g. "container". */
  type: string;
}

/** systemd's UNIT_NAME_MAX (including the terminating NUL). */
const UNIT_NAME_MAX = 256;
const VALID_CHARACTERS = /^[A-Za-z0-9:_.\\@-]*$/;

/**
 * Split a unit name as systemd does: the type is what follows the last ".", the prefix what precedes
 * the first "@", the instance what lies between. Names systemd would refuse throw UnitError.
 */
export function parseUnitName(name: string): UnitName {
  const dot = name.lastIndexOf('.');
  const fail = (why: string): never => {
    throw new UnitError(UnitErrorCode.name, `invalid unit name ${JSON.stringify(name)}: ${why}`, { context: { unit: name } });
  };
  if (name.length >= UNIT_NAME_MAX) fail(`longer than ${UNIT_NAME_MAX - 1} characters`);
  if (!VALID_CHARACTERS.test(name)) fail('only ASCII letters, digits and ":-_.\\@" are allowed');
  if (dot <= 0 || dot === name.length - 1) fail('expected NAME.TYPE');
  const type = name.slice(dot + 1);
  const stem = name.slice(0, dot);
  const at = stem.indexOf('@');
  if (at < 0) return { prefix: stem, template: false, type };
  if (at === 0) fail('nothing before "@"');
  const prefix = stem.slice(0, at);
  const instance = stem.slice(at + 1);
  if (instance === '') return { prefix, template: true, type };
  return { prefix, instance, template: false, type };
}

/** systemd's unit_name_unescape(): "-" is "/", "\xHH" a byte; everything else stays. */
export function unescapeUnitName(text: string): string {
  if (!text.includes('\\') && !text.includes('-')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '-') {
      bytes.push(0x2f);
    } else if (char === '\\' && text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (char === '\\') {
      throw new UnitError(UnitErrorCode.name, `invalid escape in unit name part ${JSON.stringify(text)}`, { context: { value: text } });
    } else {
      for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** systemd's unit_name_path_unescape(): "-" is "/", otherwise "/" + the unescaped text (no stray slashes). */
export function unescapeUnitPath(text: string): string {
  if (text === '-') return '/';
  const path = unescapeUnitName(text);
  if (text === '' || path.startsWith('/') || path.endsWith('/') || path.includes('//') || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw new UnitError(UnitErrorCode.name, `${JSON.stringify(text)} is not an escaped path`, { context: { value: text } });
  }
  return '/' + path;
}
