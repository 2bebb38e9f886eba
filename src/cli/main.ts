/**
 * The `berth` command line: Podman's spelling. Commands live one per file in ./commands and
 * are listed in ./commands/index.ts.
 * Start-up time matters (`berth run` is every unit's ExecStart, `rm` its ExecStop): the container
 * commands of plain command lines are parsed from data tables without yargs (fast-path.ts);
 * everything else, help included, goes to yargs (yargs-main.ts), which loads only the named
 * command's module.
 */
import { fastMain } from './fast-main.js';

export { commandWord } from './command-word.js';
export { reportError } from './report-error.js';

export async function main(argv: string[]): Promise<number> {
  const code = await fastMain(argv);
  if (code !== undefined) return code;
  const { yargsMain } = await import('./yargs-main.js');
  return yargsMain(argv);
}
