/** `berth kill [-s SIGNAL] NAME...` */
import type { Argv, CommandModule } from 'yargs';
import { killContainer } from '../../runtime/index.js';
import { pathsOf, recordsOf } from './container-support.js';

export const killCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'kill [containers..]',
  describe: 'Send a signal to containers',
  builder: (y: Argv) => y.option('signal', { alias: 's', type: 'string', default: 'KILL' }).option('cidfile', { type: 'string', array: true }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    for (const record of recordsOf(argv, paths)) {
      await killContainer(paths, record, String(argv.signal));
      process.stdout.write(`${record.name}\n`);
    }
  },
};
