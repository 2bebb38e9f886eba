/** `berth logs [-f] [-t] [--since T] [--until T] [-n N] NAME`: the journal under systemd, the log file otherwise. */
import type { Argv, CommandModule } from 'yargs';
import { flagValues, requireRecord, streamLogs } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';

export const logsCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'logs <container>',
  describe: 'Show the output of a container',
  builder: (y: Argv) => y
    .option('follow', { alias: 'f', type: 'boolean', default: false })
    .option('since', { type: 'string', describe: 'Lines written since: RFC3339, 2006-01-02, unix seconds or a duration (10m)' })
    .option('until', { type: 'string', describe: 'Lines written until: same formats (a duration counts forward, as in Podman)' })
    .option('tail', { alias: 'n', type: 'string', describe: 'Last N lines' })
    .option('timestamps', { alias: 't', type: 'boolean', default: false }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const record = requireRecord(paths, String(argv.container));
    const tail = argv.tail === undefined ? undefined : flagValues.parseIntFlag(String(argv.tail), '--tail', -1);
    await streamLogs(paths, record, { follow: Boolean(argv.follow), since: argv.since as string | undefined, until: argv.until as string | undefined, tail, timestamps: Boolean(argv.timestamps) });
  },
};
