/**
 * `berth healthcheck run NAME|ID`: run a container's health check once, as Podman does: exit 0
 * when it passed, 1 when it failed (and "unhealthy" printed), 125 when it could not run (no such
 * container, no health check defined, not running). The systemd timer of a container with
 * --health-interval runs exactly this; by hand it works with or without systemd.
 */
import type { Argv, CommandModule } from 'yargs';
import { healthcheckRun, requireRecord } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';

const runSubcommand: CommandModule<object, Record<string, unknown>> = {
  command: 'run <container>',
  describe: 'Run the health check of a container once',
  builder: (y: Argv) => y,
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const record = requireRecord(paths, String(argv.container));
    const { passed } = await healthcheckRun(paths, record);
    if (!passed) {
      process.stdout.write('unhealthy\n');
      process.exitCode = 1;
    }
  },
};

export const healthcheckCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'healthcheck <command>',
  describe: 'Run container health checks',
  builder: (y: Argv) => y.command(runSubcommand).demandCommand(1, 'Name a subcommand: run'),
  handler: () => undefined,
};
