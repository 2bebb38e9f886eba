/**
 * `run IMAGE CMD -x` and `exec NAME CMD -x`: everything after the first positional belongs to
 * the container's command, never to berth. yargs' halt-at-non-option does not work per command
 * (it halts at the command's own name), so these commands take their raw tokens (the command
 * sets populate--/halt-at-non-option, which leaves them in argv['--']) and split them here, using
 * the command's own option table to know which flags take a value.
 */
import yargs, { type Argv } from 'yargs';
import { UsageError } from '../../errors/index.js';

interface OptionTable { boolean: string[]; array: string[]; alias: Record<string, string[]>; key: Record<string, unknown>; default: Record<string, unknown> }

export async function parseWithTrailingCommand(argv: Record<string, unknown>, commandName: string, builder: (y: Argv) => Argv, positionals: number): Promise<{ args: Record<string, unknown>; positional: string[]; command: string[] }> {
  let tokens = ((argv['--'] as unknown[] | undefined) ?? []).map(String);
  const at = tokens.indexOf(commandName);
  if (at >= 0) tokens = tokens.slice(at + 1);
  const y = builder(yargs([]).parserConfiguration({ 'populate--': false }))
    .option('root', { type: 'string' }).option('runroot', { type: 'string' }).option('log-level', { type: 'string' });
  const table = (y as unknown as { getOptions(): OptionTable }).getOptions();
  const known = new Set<string>(Object.keys(table.key));
  for (const [k, aliases] of Object.entries(table.alias)) { known.add(k); for (const a of aliases) known.add(a); }
  const booleans = new Set<string>(table.boolean);
  for (const b of table.boolean) for (const a of table.alias[b] ?? []) booleans.add(a);
  for (const [k, aliases] of Object.entries(table.alias)) if (aliases.some((a) => booleans.has(a))) booleans.add(k);

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
      const body = t.replace(/^--?/, '');
      const [name, inline] = body.includes('=') ? [body.slice(0, body.indexOf('=')), body.slice(body.indexOf('=') + 1)] : [body, undefined];
      // --no-FLAG negates a boolean; -it is -i -t
      const negated = long && name.startsWith('no-') && booleans.has(name.slice(3));
      const names = long ? [negated ? name.slice(3) : name] : name.length > 1 && inline === undefined ? [...name] : [name];
      for (const n of names) if (!known.has(n)) throw new UsageError('unknown-flag', `unknown flag: ${long ? '--' : '-'}${n}`, { context: { flag: n } });
      const last = names[names.length - 1];
      flags.push(t);
      i++;
      if (inline === undefined && !booleans.has(last)) {
        if (i >= tokens.length) throw new UsageError('flag-needs-value', `flag needs an argument: ${t}`, { context: { flag: t } });
        flags.push(tokens[i]);
        i++;
      }
      continue;
    }
    positional.push(t);
    i++;
  }
  return { args: { ...argv, ...toValues(flags, table, booleans) }, positional, command: tokens.slice(i) };
}

/**
 * The flags (already checked against the table) into values by canonical name. Done here rather
 * than by a second yargs parse: yargs renders the whole help text on every parse (cliui +
 * string-width over ~60 options), which cost ~150 ms of `berth run`'s start-up.
 */
function toValues(flags: string[], table: OptionTable, booleans: Set<string>): Record<string, unknown> {
  // -d, --net …: the longest of a flag's names is the key the commands read.
  const canonical = (n: string): string => {
    const names = [n, ...(table.alias[n] ?? []), ...Object.entries(table.alias).filter(([, a]) => a.includes(n)).map(([k]) => k)];
    return names.reduce((a, b) => (b.length > a.length ? b : a));
  };
  const arrays = new Set(table.array);
  const out: Record<string, unknown> = {};
  const set = (name: string, value: unknown): void => {
    const key = canonical(name);
    if (!arrays.has(key)) { out[key] = value; return; }
    const list = (out[key] as unknown[] | undefined) ?? [];
    list.push(value);
    out[key] = list;
  };
  for (let i = 0; i < flags.length; i++) {
    const t = flags[i];
    const long = t.startsWith('--');
    const body = t.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (long && name.startsWith('no-') && booleans.has(name.slice(3))) { set(name.slice(3), false); continue; }
    const names = long || inline !== undefined || name.length === 1 ? [name] : [...name];
    for (const [k, n] of names.entries()) {
      const last = k === names.length - 1;
      if (booleans.has(n)) set(n, inline === undefined ? true : !/^(false|0|no)$/i.test(inline));
      else if (last) set(n, inline ?? flags[++i]);
    }
  }
  for (const [key, value] of Object.entries(table.default)) if (!(key in out)) out[key] = value;
  return out;
}
