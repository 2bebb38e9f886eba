/** systemd's parse_boolean(): the accepted spellings, compared case-insensitively. */
const TRUE_WORDS = new Set(['1', 'yes', 'y', 'true', 't', 'on']);
const FALSE_WORDS = new Set(['0', 'no', 'n', 'false', 'f', 'off']);

/** `true`/`false` for the spellings systemd accepts, `undefined` for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}
