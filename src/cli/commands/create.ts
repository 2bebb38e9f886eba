/** `berth create [flags] IMAGE [COMMAND...]`: a container that `berth start` runs later. */
import type { Argv, CommandModule } from 'yargs';
import { containerCommandBuilder, parseRunCommandLine, type ParsedRun } from './container-flags.js';
import { createFromArgs } from './run.js';

export const createCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'create [image] [command..]',
  describe: 'Create a container without starting it',
  builder: (y: Argv) => containerCommandBuilder(y),
  handler: async (argv) => createOnly(await parseRunCommandLine(argv, 'create')),
};

export async function createOnly(parsed: ParsedRun): Promise<void> {
  const record = await createFromArgs(parsed);
  process.stdout.write(`${record.id}\n`);
}
