/** `berth stop [-t SECONDS] NAME...`: StopSignal, wait, SIGKILL. */
import type { Argv, CommandModule } from 'yargs';
import { flagValues, stopContainer, findRecord } from '../../runtime/index.js';
import { RuntimeError } from '../../errors/index.js';
import { pathsOf, targetsOf } from './container-support.js';
import { registerOptions, type OptionSpec } from '../option-table.js';

export const STOP_OPTIONS: OptionSpec[] = [
  { name: 'time', aliases: ['t'], type: 'string', describe: 'Seconds to wait before SIGKILL (default: the container\'s stop timeout)' },
  { name: 'ignore', aliases: ['i'], type: 'boolean', default: false, describe: 'Ignore missing containers' },
  { name: 'cidfile', type: 'string', array: true },
];

export const stopCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'stop [containers..]',
  describe: 'Stop one or more containers',
  builder: (y: Argv) => registerOptions(y, STOP_OPTIONS),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const timeout = argv.time === undefined ? undefined : flagValues.parseIntFlag(String(argv.time), '--time', 0);
    for (const name of targetsOf(argv, { ignore: Boolean(argv.ignore) })) {
      const record = findRecord(paths, name);
      if (!record) {
        if (argv.ignore) continue;
        throw new RuntimeError('no-such-container', `no container with name or ID "${name}" found: no such container`, { context: { container: name } });
      }
      await stopContainer(paths, record, timeout);
      process.stdout.write(`${name}\n`);
    }
  },
};
