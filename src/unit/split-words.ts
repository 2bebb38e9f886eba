import { UnitError } from '../errors/index.js';
import { decodeEscape } from './c-escape.js';
import { UnitErrorCode } from './codes.js';
import { describeSource, type SourcePosition } from './source.js';

export interface SplitWordsOptions {
  /** systemd's EXTRACT_RELAX: an unbalanced quote or a trailing backslash ends the word instead of failing. */
  relax?: boolean;
  /**
   * systemd's EXTRACT_UNESCAPE_RELAX: an unknown escape such as `\d` is kept verbatim (what systemd's
   * Exec= parsing does after warning "Ignoring unknown escape sequences") instead of failing.
   */
  unescapeRelax?: boolean;
  /**
   * systemd's EXTRACT_RETAIN_ESCAPE without EXTRACT_CUNESCAPE, as config_parse_strv() splits list
   * settings such as WantedBy= and Alias=: a backslash is an ordinary character.
   */
  retainEscape?: boolean;
  /** Where the value came from, for error messages ("web.container:7: Exec: ..."). */
  source?: SourcePosition;
}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const BACKSLASH = 0x5c, DOUBLE_QUOTE = 0x22, SINGLE_QUOTE = 0x27;

function isSeparator(code: number): boolean {
  return code === SPACE || code === TAB || code === LF || code === CR;
}

/** Quotes and backslashes are all that make splitting more than cutting at separators. */
const SPECIAL = /["'\\]/;

/** The common case (no quotes, no escapes): words are the runs between separators. */
function splitPlain(value: string): string[] {
  const words: string[] = [];
  const length = value.length;
  let i = 0;
  while (i < length) {
    while (i < length && isSeparator(value.charCodeAt(i))) i++;
    if (i >= length) break;
    const start = i;
    while (i < length && !isSeparator(value.charCodeAt(i))) i++;
    words.push(value.slice(start, i));
  }
  return words;
}

/** Collects a word's text; raw bytes from `\xHH`/`\nnn` are gathered and decoded as UTF-8 together. */
class WordBuilder {
  private text = '';
  private bytes: number[] = [];

  append(text: string): void {
    if (text.length === 0) return;
    if (this.bytes.length > 0) this.flushBytes();
    this.text += text;
  }

  appendByte(value: number): void {
    this.bytes.push(value);
  }

  finish(): string {
    if (this.bytes.length > 0) this.flushBytes();
    return this.text;
  }

  private flushBytes(): void {
    this.text += Buffer.from(this.bytes).toString('utf8');
    this.bytes = [];
  }
}

/**
 * Split a value into words the way systemd's extract_first_word() does with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE (ExecStart=, Environment=, most list settings; see the
 * options for the RELAX, UNESCAPE_RELAX and RETAIN_ESCAPE variants):
 * words are separated by runs of space/tab/newline/CR; `"` and `'` quote (anywhere in a word, as
 * systemd 252 really does: `a"b c"d` is one word `ab cd`), and C escapes work inside both kinds of
 * quotes and outside them. `""` is an empty word.
 */
export function splitWords(value: string, options: SplitWordsOptions = {}): string[] {
  if (!SPECIAL.test(value)) return splitPlain(value);
  const words: string[] = [];
  const length = value.length;
  let i = 0;
  for (;;) {
    while (i < length && isSeparator(value.charCodeAt(i))) i++;
    if (i >= length) return words;

    const word = new WordBuilder();
    let quote = 0;
    let runStart = i;
    while (i < length) {
      const code = value.charCodeAt(i);
      if (quote === 0 && isSeparator(code)) break;
      if (code === BACKSLASH && !options.retainEscape) {
        word.append(value.slice(runStart, i));
        i = unescapeInto(word, value, i, quote !== 0, options);
        runStart = i;
      } else if (quote !== 0 ? code === quote : code === DOUBLE_QUOTE || code === SINGLE_QUOTE) {
        word.append(value.slice(runStart, i));
        quote = quote !== 0 ? 0 : code;
        i++;
        runStart = i;
      } else {
        i++;
      }
    }
    word.append(value.slice(runStart, i));
    if (quote !== 0 && !options.relax) {
      throw quotingError(`unbalanced quoting in "${value}"`, value, options.source);
    }
    words.push(word.finish());
  }
}

/** Handle the backslash at `value[at]`; returns the index after the sequence. */
function unescapeInto(word: WordBuilder, value: string, at: number, quoted: boolean, options: SplitWordsOptions): number {
  if (at + 1 >= value.length) {
    // systemd keeps an unquoted trailing backslash only with EXTRACT_UNESCAPE_RELAX; EXTRACT_RELAX drops it.
    if (options.unescapeRelax && (!quoted || options.relax)) {
      word.append('\\');
      return at + 1;
    }
    if (options.relax) return at + 1;
    throw quotingError(`trailing backslash in "${value}"`, value, options.source);
  }
  const decoded = decodeEscape(value, at + 1);
  if (decoded !== undefined) {
    if (decoded.byte) word.appendByte(decoded.value);
    else word.append(String.fromCodePoint(decoded.value));
    return at + 1 + decoded.length;
  }
  if (options.unescapeRelax) {
    // Keep the backslash and the one character after it verbatim (the rest is read normally).
    const next = value.codePointAt(at + 1)!;
    const nextChar = String.fromCodePoint(next);
    word.append('\\' + nextChar);
    return at + 1 + nextChar.length;
  }
  const sequence = value.slice(at, Math.min(value.length, at + 2));
  throw quotingError(`invalid escape sequence "${sequence}" in "${value}"`, value, options.source);
}

function quotingError(message: string, value: string, source: SourcePosition | undefined): UnitError {
  return new UnitError(UnitErrorCode.quoting, describeSource(source) + message, {
    context: { ...(source ?? {}), value },
  });
}
