/**
 * `run IMAGE CMD -x` and `exec NAME CMD -x`: everything after the first positional belongs to
 * the container's command, never to berth. yargs' halt-at-non-option does not work per command
 * (it halts at the command's own name), so these commands take their raw tokens (the command
 * sets populate--/halt-at-non-option, which leaves them in argv['--']) and split them here
 * (../option-table.ts), using the command's own option table to know which flags take a value.
 * `run` and `create` have their table as data (container-flags.ts) and need no yargs at all.
 */
import type { Argv } from 'yargs';
import { GLOBAL_OPTIONS, OptionIndex, splitTokens, type OptionSpec } from '../option-table.js';

interface YargsOptions { boolean: string[]; array: string[]; alias: Record<string, string[]>; key: Record<string, unknown>; default: Record<string, unknown> }

/** The raw tokens after the command's name (yargs leaves the whole command line in argv['--']). */
export function commandTokens(argv: Record<string, unknown>, commandName: string): string[] {
  const tokens = ((argv['--'] as unknown[] | undefined) ?? []).map(String);
  const at = tokens.indexOf(commandName);
  return at >= 0 ? tokens.slice(at + 1) : tokens;
}

export async function parseWithTrailingCommand(argv: Record<string, unknown>, commandName: string, builder: (y: Argv) => Argv, positionals: number): Promise<{ args: Record<string, unknown>; positional: string[]; command: string[] }> {
  const { default: yargs } = await import('yargs');
  const y = builder(yargs([]).parserConfiguration({ 'populate--': false }))
    .option('root', { type: 'string' }).option('runroot', { type: 'string' }).option('log-level', { type: 'string' });
  const index = new OptionIndex(tableOf((y as unknown as { getOptions(): YargsOptions }).getOptions()));
  const { values, positional, rest } = splitTokens(commandTokens(argv, commandName), index, positionals);
  return { args: { ...argv, ...values }, positional, command: rest };
}

/** The command's table for splitTokens: each option with its aliases, the longest name as the key. */
function tableOf(options: YargsOptions): OptionSpec[] {
  // yargs lists aliases both ways (tty: [t], t: [tty]): merge into one group per option
  const groupOf = new Map<string, Set<string>>();
  const join = (a: string, b: string): void => {
    const ga = groupOf.get(a) ?? new Set([a]);
    const gb = groupOf.get(b) ?? new Set([b]);
    if (ga === gb) return;
    for (const n of gb) ga.add(n);
    for (const n of ga) groupOf.set(n, ga);
  };
  for (const k of Object.keys(options.key)) join(k, k);
  for (const [k, aliases] of Object.entries(options.alias)) { join(k, k); for (const a of aliases) join(k, a); }
  const booleans = new Set(options.boolean);
  const arrays = new Set(options.array);
  const table: OptionSpec[] = [];
  for (const g of new Set(groupOf.values())) {
    const names = [...g];
    const name = names.reduce((a, b) => (b.length > a.length ? b : a));
    const defaultKey = names.find((n) => n in options.default);
    table.push({
      name, aliases: names.filter((n) => n !== name), type: names.some((n) => booleans.has(n)) ? 'boolean' : 'string',
      array: names.some((n) => arrays.has(n)), default: defaultKey === undefined ? undefined : options.default[defaultKey],
    });
  }
  return table;
}

/** `run`/`create`'s globals: accepted among the flags too (`run --root=… IMAGE`). */
export const GLOBALS_AMONG_FLAGS: OptionSpec[] = [
  ...GLOBAL_OPTIONS.map((o) => ({ ...o, default: undefined })),
  // yargs knows these on every command; before the image --help prints help (handled before parsing)
  { name: 'help', type: 'boolean' },
  { name: 'version', type: 'boolean' },
];
