/**
 * The `berth` command line: Podman's spelling. Commands live one per file in ./commands and
 * are listed in ./commands/index.ts; this file only wires global flags and error printing.
 */
import yargs from 'yargs';
import { BerthError, redact } from '../errors/index.js';
import { commands } from './commands/index.js';

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
    .version()
    .fail((msg, err) => {
      throw err ?? new BerthError('usage', msg, { exitCode: 125 });
    });
  for (const command of commands) parser.command(command);
  try {
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
