/**
 * Command-line options as plain data, and the parsing `berth run` needs without yargs.
 * `berth run` is every generated unit's ExecStart, so its start-up time is the container's: the
 * container commands are parsed from this table (src/cli/fast-path.ts) and yargs, ~100 ms of
 * loading and help rendering, is loaded only for help and the other commands. The same tables
 * register the options with yargs for `--help` (registerOptions), so the two never disagree.
 */
import type { Argv } from 'yargs';
import { UsageError } from '../errors/index.js';

export interface OptionSpec {
  /** The long name, also the key the command reads (the longest of the option's names). */
  name: string;
  aliases?: string[];
  type: 'string' | 'boolean';
  array?: boolean;
  default?: unknown;
  describe?: string;
}

/** Global flags, accepted before the command word and among a command's flags. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'root', type: 'string', describe: 'Persistent storage root' },
  { name: 'runroot', type: 'string', describe: 'Volatile state root' },
  { name: 'log-level', type: 'string', describe: 'Log messages at and above: debug, info, warn, error', default: 'warn' },
];

export function registerOptions<T>(y: Argv<T>, table: OptionSpec[]): Argv<T> {
  let out = y;
  for (const o of table) {
    out = out.option(o.name, {
      type: o.type, ...(o.aliases ? { alias: o.aliases } : {}), ...(o.array ? { array: true } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}), ...(o.describe ? { describe: o.describe } : {}),
    }) as Argv<T>;
  }
  return out;
}

/** A table indexed by every name a flag can be typed with. */
export class OptionIndex {
  private readonly byName = new Map<string, OptionSpec>();
  constructor(readonly table: OptionSpec[]) {
    for (const o of table) for (const n of [o.name, ...(o.aliases ?? [])]) this.byName.set(n, o);
  }
  get(name: string): OptionSpec | undefined { return this.byName.get(name); }
  isBoolean(name: string): boolean { return this.byName.get(name)?.type === 'boolean'; }
}

export interface SplitTokens {
  /** Flag values by option name (defaults filled in). */
  values: Record<string, unknown>;
  positional: string[];
  /** What follows the last positional taken: the container's command. */
  rest: string[];
}

/**
 * `IMAGE CMD -x`: flags until `positionals` words are taken, everything after them is the
 * container's. `--flag=value` and `--flag value`, `--no-flag` for booleans, `-it` as `-i -t`,
 * `--` ends the flags. An unknown flag or a missing value is a usage error (exit 125).
 */
export function splitTokens(tokens: string[], index: OptionIndex, positionals: number): SplitTokens {
  const flags: string[] = [];
  const positional: string[] = [];
  let i = 0;
  while (i < tokens.length && positional.length < positionals) {
    const t = tokens[i];
    if (t === '--') {
      i++;
      while (i < tokens.length && positional.length < positionals) positional.push(tokens[i++]);
      break;
    }
    if (t.startsWith('-') && t !== '-') {
      const long = t.startsWith('--');
      const body = t.slice(long ? 2 : 1);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const inline = eq < 0 ? undefined : body.slice(eq + 1);
      const negated = long && name.startsWith('no-') && index.isBoolean(name.slice(3));
      const names = long ? [negated ? name.slice(3) : name] : name.length > 1 && inline === undefined ? [...name] : [name];
      for (const n of names) if (!index.get(n)) throw new UsageError('unknown-flag', `unknown flag: ${long ? '--' : '-'}${n}`, { context: { flag: n } });
      flags.push(t);
      i++;
      if (inline === undefined && !index.isBoolean(names[names.length - 1])) {
        if (i >= tokens.length) throw new UsageError('flag-needs-value', `flag needs an argument: ${t}`, { context: { flag: t } });
        flags.push(tokens[i]);
        i++;
      }
      continue;
    }
    positional.push(t);
    i++;
  }
  return { values: flagValues(flags, index), positional, rest: tokens.slice(i) };
}

/** The flags (already checked against the table) into values keyed by option name. */
function flagValues(flags: string[], index: OptionIndex): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (n: string, value: unknown): void => {
    const o = index.get(n)!;
    if (!o.array) { out[o.name] = value; return; }
    const list = (out[o.name] as unknown[] | undefined) ?? [];
    list.push(value);
    out[o.name] = list;
  };
  for (let i = 0; i < flags.length; i++) {
    const t = flags[i];
    const long = t.startsWith('--');
    const body = t.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (long && name.startsWith('no-') && index.isBoolean(name.slice(3))) { set(name.slice(3), false); continue; }
    const names = long || inline !== undefined || name.length === 1 ? [name] : [...name];
    for (const [k, n] of names.entries()) {
      if (index.isBoolean(n)) set(n, inline === undefined ? true : !/^(false|0|no)$/i.test(inline));
      else if (k === names.length - 1) set(n, inline ?? flags[++i]);
    }
  }
  for (const o of index.table) if (o.default !== undefined && !(o.name in out)) out[o.name] = o.default;
  return out;
}

/**
 * Commands whose words are all names (`rm -f -i --cidfile=F NAME…`): flags and names in any
 * order (`--bool=true|false` included). Returns undefined for anything beyond the plain cases (an
 * unknown flag, a repeated single-value flag, `--`, a value glued to a short flag, `--no-…`): the caller then leaves the
 * command line to yargs, so such input behaves exactly as before.
 */
export function parsePlain(tokens: string[], index: OptionIndex): { values: Record<string, unknown>; positional: string[] } | undefined {
  const values: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t.startsWith('-') || t === '-') { positional.push(t); continue; }
    if (t === '--') return undefined;
    const long = t.startsWith('--');
    const body = t.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const names = long || name.length === 1 ? [name] : [...name];
    if (!long && inline !== undefined) return undefined;
    for (const [k, n] of names.entries()) {
      const o = index.get(n);
      if (!o) return undefined;
      if (o.type === 'boolean') {
        if (o.name in values) return undefined;
        // `--tls-verify=false`: yargs reads exactly these two words the same way
        if (inline !== undefined && inline !== 'true' && inline !== 'false') return undefined;
        values[o.name] = inline !== 'false';
        continue;
      }
      if (k !== names.length - 1) return undefined;
      // yargs lets `--array a b` take every following word: only `--array=a` is plain
      if (o.array && inline === undefined) return undefined;
      const value = inline ?? tokens[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
      if (o.array) values[o.name] = [...((values[o.name] as string[] | undefined) ?? []), value];
      else if (o.name in values) return undefined;
      else values[o.name] = value;
    }
  }
  for (const o of index.table) if (o.default !== undefined && !(o.name in values)) values[o.name] = o.default;
  return { values, positional };
}
