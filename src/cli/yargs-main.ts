/**
 * The yargs command line: help, version, every command. main.ts loads it unless the fast path
 * (fast-path.ts) took the command line; only the named command's module is registered (all of
 * them for help and unknown words), so yargs sees exactly what it would with every command.
 */
import fs from 'node:fs';
import yargs from 'yargs';
import { BerthError } from '../errors/index.js';
import { commandTable, loadAllCommands, type AnyCommand } from './commands/index.js';
import { commandWord } from './command-word.js';
import { reportError } from './report-error.js';
import { GLOBAL_OPTIONS } from './option-table.js';

async function commandsFor(argv: string[]): Promise<AnyCommand[]> {
  const word = commandWord(argv);
  const entry = word === undefined ? undefined : commandTable.find((c) => c.name === word);
  return entry ? [await entry.load()] : loadAllCommands();
}

// Same relative path from dist/src/cli/ and from the bundles in dist/bundle/cli/ (bin/build-cli).
function packageVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

export async function yargsMain(argv: string[]): Promise<number> {
  let exitCode = 0;
  let parser = yargs(argv)
    .scriptName('berth')
    .usage('$0 <command> [options]\n\nContainers as systemd services.');
  for (const o of GLOBAL_OPTIONS) parser = parser.option(o.name, { type: o.type, describe: o.describe, global: true, ...(o.default === undefined ? {} : { default: o.default }) });
  parser = parser
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
