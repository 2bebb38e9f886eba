/**
 * The command lines that start and stop containers, parsed without yargs: `run` and `create`
 * (a generated unit's ExecStart), `rm`, `stop` and `start` (ExecStop, ExecStopPost), and `pull`
 * (yargs' loading and help layout were ~0.15 s of a one-file image's pull). Only the
 * global flags may come before the command word. `run`/`create` are parsed here in full (their
 * errors are the same as through yargs, both use option-table.ts); `rm`/`stop`/`start`/`pull` only
 * when the line is plain (parsePlain), else yargs takes it. Help always goes to yargs.
 */
import { GLOBAL_VALUE_FLAGS } from './command-word.js';
import { GLOBAL_OPTIONS, OptionIndex, parsePlain, type OptionSpec } from './option-table.js';
import { startLockHelper } from '../image/store/locks.js';

export type FastCommand = () => Promise<void>;

/** `--root=R --runroot R … WORD REST…`: the globals given before the word, or undefined. */
function splitGlobals(argv: string[]): { globals: Record<string, string>; word: string; rest: string[] } | undefined {
  const globals: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) return { globals, word: token, rest: argv.slice(i + 1) };
    const eq = token.indexOf('=');
    const flag = eq < 0 ? token : token.slice(0, eq);
    if (!GLOBAL_VALUE_FLAGS.has(flag)) return undefined;
    const value = eq < 0 ? argv[++i] : token.slice(eq + 1);
    const key = flag.slice(2);
    if (value === undefined || key in globals) return undefined;   // yargs' message, or its array
    globals[key] = value;
  }
  return undefined;
}

const globalsAfterWord: OptionSpec[] = GLOBAL_OPTIONS;

/** A thunk running the command, or undefined: leave this command line to yargs. */
export async function fastCommand(argv: string[]): Promise<FastCommand | undefined> {
  const split = splitGlobals(argv);
  if (!split) return undefined;
  const { globals, word, rest } = split;
  const withDefaults = { 'log-level': 'warn', ...globals };
  switch (word) {
    case 'run':
    case 'create': {
      const { helpBeforeImage, parseRunTokens } = await import('./commands/container-flags.js');
      if (helpBeforeImage([word, ...rest])) return undefined;
      if (word === 'run') {
        const { runContainer } = await import('./commands/run.js');
        // perl's start-up (the lock helper, also the overlay's mount(2)) runs beside the parsing
        // perl's start-up (the lock helper, also the overlay's mount(2)) runs beside the parsing
        return async () => { startLockHelper(); return runContainer(parseRunTokens(rest, withDefaults)); };
      }
      const { createOnly } = await import('./commands/create.js');
      return async () => createOnly(parseRunTokens(rest, withDefaults));
    }
    case 'rm': {
      const { RM_OPTIONS, rmCommand } = await import('./commands/rm.js');
      return plain(rest, RM_OPTIONS, withDefaults, rmCommand.handler, false);
    }
    case 'stop': {
      const { STOP_OPTIONS, stopCommand } = await import('./commands/stop.js');
      return plain(rest, STOP_OPTIONS, withDefaults, stopCommand.handler, false);
    }
    case 'start': {
      const { START_OPTIONS, startCommand } = await import('./commands/start.js');
      return plain(rest, START_OPTIONS, withDefaults, startCommand.handler, true);
    }
    case 'pull': {
      const { PULL_OPTIONS, pullCommand } = await import('./commands/pull.js');
      return plain(rest, PULL_OPTIONS, withDefaults, pullCommand.handler as Handler, true, 'images');
    }
    default:
      return undefined;
  }
}

type Handler = (argv: never) => void | Promise<void>;

function plain(rest: string[], table: OptionSpec[], globals: Record<string, string>, handler: Handler, needsName: boolean, namesKey = 'containers'): FastCommand | undefined {
  const parsed = parsePlain(rest, new OptionIndex([...table, ...globalsAfterWord.map((o) => ({ ...o, default: undefined }))]));
  if (!parsed || (needsName && parsed.positional.length === 0)) return undefined;
  const argv = { ...globals, ...parsed.values, [namesKey]: parsed.positional };
  return async () => { await (handler as (a: Record<string, unknown>) => void | Promise<void>)(argv); };
}
