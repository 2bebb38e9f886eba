/** `berth wait NAME...`: print each container's exit code once it stops (-1 when systemd reaped it: see `systemctl show -p ExecMainStatus`). */
import type { Argv, CommandModule } from 'yargs';
import { waitContainer } from '../../runtime/index.js';
import { pathsOf, recordsOf } from './container-support.js';

export const waitCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'wait [containers..]',
  describe: 'Wait for containers to stop and print their exit codes',
  builder: (y: Argv) => y.option('cidfile', { type: 'string', array: true }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    for (const record of recordsOf(argv, paths)) process.stdout.write(`${await waitContainer(paths, record)}\n`);
  },
};
