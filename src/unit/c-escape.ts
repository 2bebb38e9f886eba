/**
 * systemd's C-style escape sequences (cunescape_one with NUL bytes refused): the facts
 * splitWords and quoteExecArg agree on.
 */

/** One decoded escape: `length` characters after the backslash, giving a code point or a raw byte. */
export interface DecodedEscape {
  length: number;
  value: number;
  /** `\xHH` and `\nnn` produce a raw byte, not a code point (several of them can form UTF-8). */
  byte: boolean;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b,
  '\\': 0x5c, '"': 0x22, "'": 0x27, s: 0x20,
};

function hexDigits(text: string, start: number, count: number): number | undefined {
  if (start + count > text.length) return undefined;
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = hexValue(text.charCodeAt(i));
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

function octalValue(code: number): number {
  return code >= 0x30 && code <= 0x37 ? code - 0x30 : -1;
}

/** systemd's unichar_is_valid(): no surrogates, no non-characters, nothing past U+10FFFF. */
export function isValidCodePoint(value: number): boolean {
  if (value >= 0x110000) return false;
  if ((value & 0xfffff800) === 0xd800) return false;
  if (value >= 0xfdd0 && value <= 0xfdef) return false;
  if ((value & 0xfffe) === 0xfffe) return false;
  return true;
}

/**
 * Decode the escape whose letter is at `text[index]` (just after the backslash).
 * Returns undefined for an invalid or unknown sequence, as systemd would refuse it.
 */
export function decodeEscape(text: string, index: number): DecodedEscape | undefined {
  const letter = text[index];
  if (letter === undefined) return undefined;
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { length: 1, value: simple, byte: false };
  switch (letter) {
    case 'x': {
      const value = hexDigits(text, index + 1, 2);
      if (value === undefined || value === 0) return undefined;
      return { length: 3, value, byte: true };
    }
    case 'u':
    case 'U': {
      const width = letter === 'u' ? 4 : 8;
      const value = hexDigits(text, index + 1, width);
      if (value === undefined || value === 0 || !isValidCodePoint(value)) return undefined;
      return { length: 1 + width, value, byte: false };
    }
    default: {
      const a = octalValue(text.charCodeAt(index));
      if (a < 0) return undefined;
      const b = octalValue(text.charCodeAt(index + 1));
      const c = octalValue(text.charCodeAt(index + 2));
      if (b < 0 || c < 0) return undefined;
      const value = (a << 6) | (b << 3) | c;
      if (value === 0 || value > 255) return undefined;
      return { length: 3, value, byte: true };
    }
  }
}
