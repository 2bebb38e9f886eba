/** `--mount` values: comma-separated fields with CSV quoting, `type=` pulled out as podman does. */

export interface ParsedMount {
  type: string;
  /** Every field except the type, in order. */
  tokens: string[];
}

/** undefined when the value is not one CSV record or has no `type=`. */
export function parseMount(value: string): ParsedMount | undefined {
  const fields = parseCsvRecord(value);
  if (fields === undefined) return undefined;
  let type: string | undefined;
  const tokens: string[] = [];
  for (const field of fields) {
    const parts = field.split('=');
    if (type === undefined && parts.length === 2 && parts[0] === 'type') type = parts[1]!;
    else tokens.push(field);
  }
  return type === undefined ? undefined : { type, tokens };
}

export function formatMount(fields: string[]): string {
  return fields.map((field) => (/[",\r\n]/.test(field) || field.startsWith(' ') ? `"${field.replaceAll('"', '""')}"` : field)).join(',');
}

function parseCsvRecord(text: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') return undefined;
    } else {
      while (i < text.length && text[i] !== ',') {
        if (text[i] === '\n' || text[i] === '\r') return undefined;
        field += text[i++];
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}
