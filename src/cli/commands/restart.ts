/** `berth restart [-t SECONDS] NAME...`: stop, then start in the background. */
import type { Argv, CommandModule } from 'yargs';
import { flagValues, requireRecord, startContainer, stopContainer } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';

export const restartCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'restart <containers..>',
  describe: 'Restart one or more containers',
  builder: (y: Argv) => y.option('time', { alias: 't', type: 'string' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const timeout = argv.time === undefined ? undefined : flagValues.parseIntFlag(String(argv.time), '--time', 0);
    for (const name of argv.containers as string[]) {
      const record = requireRecord(paths, name);
      await stopContainer(paths, record, timeout);
      await startContainer(paths, record, 'detached');
      process.stdout.write(`${record.id}\n`);
    }
  },
};
