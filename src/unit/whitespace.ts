/** systemd's WHITESPACE set (" \t\n\r"): JavaScript's trim() would also eat NBSP, BOM and friends. */
export function isUnitWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** strstrip() with systemd's WHITESPACE. */
export function stripUnitWhitespace(text: string, start = 0, end = text.length): string {
  while (start < end && isUnitWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isUnitWhitespace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
