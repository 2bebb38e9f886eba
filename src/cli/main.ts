/**
 * The `berth` command line: Podman's spelling. Commands live one per file in ./commands and
 * are listed in ./commands/index.ts; this file only wires global flags and error printing.
 * Start-up time matters (`berth run` is every unit's ExecStart): only the named command's
 * module is loaded.
 */
import fs from 'node:fs';
import yargs from 'yargs';
import { BerthError, redact } from '../errors/index.js';
import { commandTable, loadAllCommands, type AnyCommand } from './commands/index.js';

const GLOBAL_VALUE_FLAGS = new Set(['--root', '--runroot', '--log-level']);

/**
 * The table entry of the command word in argv, when only global flags precede it; undefined
 * (load every command) for help, unknown words or any other leading flag, so yargs sees
 * exactly what it would with every command registered.
 */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) return commandTable.some((c) => c.name === token) ? token : undefined;
    const eq = token.indexOf('=');
    const flag = eq < 0 ? token : token.slice(0, eq);
    if (!GLOBAL_VALUE_FLAGS.has(flag)) return undefined;
    if (eq < 0) i++;
  }
  return undefined;
}

async function commandsFor(argv: string[]): Promise<AnyCommand[]> {
  const word = commandWord(argv);
  const entry = word === undefined ? undefined : commandTable.find((c) => c.name === word);
  return entry ? [await entry.load()] : loadAllCommands();
}

// Same relative path from dist/src/cli/main.js and from the bundle in dist/bundle/cli/ (see package.json "build").
function packageVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('berth')
    .usage('$0 <command> [options]\n\nContainers as systemd services.')
    .option('root', { type: 'string', describe: 'Persistent storage root', global: true })
    .option('runroot', { type: 'string', describe: 'Volatile state root', global: true })
    .option('log-level', { type: 'string', describe: 'Log messages at and above: debug, info, warn, error', global: true, default: 'warn' })
    .parserConfiguration({ 'populate--': true, 'halt-at-non-option': false })
    .strictCommands()
    .demandCommand(1, 'Name a command: berth --help lists them.')
    .recommendCommands()
    .help()
    .version(packageVersion())
    .fail((msg, err) => {
      throw err ?? new BerthError('usage', msg, { exitCode: 125 });
    });
  try {
    for (const command of await commandsFor(argv)) parser.command(command);
    await parser.parseAsync();
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    exitCode = reportError(error);
  }
  return exitCode;
}

export function reportError(error: unknown): number {
  if (error instanceof BerthError) {
    process.stderr.write(`Error: ${redact(error.message)}\n`);
    if (process.env.BERTH_DEBUG) process.stderr.write(`${redact(JSON.stringify(error.toJSON(), null, 2))}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (process.env.BERTH_DEBUG ? error.stack ?? error.message : error.message) : String(error);
  process.stderr.write(`Error: ${redact(message)}\n`);
  return 125;
}
