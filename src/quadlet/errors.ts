/**
 * Generator errors: one line each, naming file, line, section and key, in the shape
 * `web.container:7: [Container] unknown key "Imagee" (did you mean "Image"?)`.
 */
import { UnitError } from '../errors/index.js';
import type { UnitEntry } from '../unit/index.js';

export type QuadletErrorCode =
  | 'quadlet-missing-key'
  | 'quadlet-unknown-key'
  | 'quadlet-wrong-section'
  | 'quadlet-unknown-unit'
  | 'quadlet-bad-value'
  | 'quadlet-cycle'
  | 'quadlet-syntax'
  | 'quadlet-unsupported';

export interface Where {
  file: string;
  line?: number;
  section?: string;
  key?: string;
}

export class QuadletError extends UnitError {
  readonly where: Where;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(code: QuadletErrorCode, where: Where, detail: string, options: { cause?: unknown } = {}) {
    super(code, formatLocation(where) + detail, {
      context: { file: where.file, line: where.line, section: where.section, key: where.key },
      cause: options.cause,
      exitCode: 1,
    });
    this.where = where;
    this.detail = detail;
  }
}

function formatLocation(where: Where): string {
  const file = where.line === undefined ? where.file : `${where.file}:${where.line}`;
  return where.section === undefined ? `${file}: ` : `${file}: [${where.section}] `;
}

/** Where an entry sits: its own file (a drop-in keeps its name) and line. */
export function whereEntry(entry: UnitEntry, section: string, fallbackFile: string): Where {
  return { file: displayName(entry.file) || fallbackFile, line: entry.line, section, key: entry.key };
}

/** Errors name files the way a person finds them: "web.container", "web.container.d/10-x.conf". */
export function displayName(path: string): string {
  if (!path) return path;
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? path;
  const parent = parts[parts.length - 2];
  return parent !== undefined && parent.endsWith('.d') ? `${parent}/${base}` : base;
}

export function badValue(entry: UnitEntry, section: string, file: string, what: string): QuadletError {
  return new QuadletError('quadlet-bad-value', whereEntry(entry, section, file), `${entry.key}=${JSON.stringify(entry.value)}: ${what}`);
}

/** The closest candidate within a small edit distance, for "did you mean". */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  if (bestDistance <= allowed) return best;
  if (lower.length < 4) return undefined;
  for (const candidate of candidates) if (candidate.toLowerCase().startsWith(lower)) return candidate;
  return undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
