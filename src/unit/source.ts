/** Where a value came from, for error messages. */
export interface SourcePosition {
  file: string;
  line: number;
  key?: string;
}

/** "web.container:7: Exec: " (the parts that are known), used as a prefix of error messages. */
export function describeSource(source: SourcePosition | undefined): string {
  if (source === undefined) return '';
  let prefix = source.file;
  if (source.line > 0) prefix += prefix === '' ? `line ${source.line}` : `:${source.line}`;
  if (prefix !== '') prefix += ': ';
  if (source.key !== undefined) prefix += `${source.key}: `;
  return prefix;
}
