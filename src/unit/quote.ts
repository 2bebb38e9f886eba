import { UnitError } from '../errors/index.js';
import { UnitErrorCode } from './codes.js';

const NAMED_ESCAPES: Record<number, string> = {
  0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r',
  0x22: '\\"', 0x5c: '\\\\',
};

/** Characters that make a word need quoting: whitespace, quotes, backslash, control characters. */
function needsQuoting(word: string): boolean {
  if (word.length === 0 || word === ';') return true; // "" is an empty word; a bare ";" separates commands
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    if (code <= 0x20 || code === 0x22 || code === 0x27 || code === 0x5c || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/**
 * Write one word so that systemd's Exec= parsing (and splitWords) gives it back exactly:
 * plain words stay bare; anything else is double-quoted with C escapes. `%` and `$` are left
 * alone (see escapeSpecifiers; `$` expansion is Exec='s own feature).
 */
export function quoteExecArg(word: string): string {
  if (!needsQuoting(word)) return word;
  let quoted = '"';
  let runStart = 0;
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    let escape: string | undefined;
    if (code === 0) {
      throw new UnitError(UnitErrorCode.value, `a NUL character cannot be passed in a unit file: ${JSON.stringify(word)}`, {
        context: { value: word },
      });
    } else if (code < 0x20 || code === 0x22 || code === 0x5c || code === 0x7f) {
      escape = NAMED_ESCAPES[code] ?? `\\x${hex(code, 2)}`;
    } else if (code >= 0x80 && code <= 0x9f) {
      escape = `\\u${hex(code, 4)}`; // C1 controls: \xHH would be a raw (invalid UTF-8) byte
    }
    if (escape !== undefined) {
      quoted += word.slice(runStart, i) + escape;
      runStart = i + 1;
    }
  }
  return quoted + word.slice(runStart) + '"';
}
