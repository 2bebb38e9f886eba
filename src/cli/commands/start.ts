/** `berth start [-a] NAME...`: start created or exited containers (in the background unless -a). */
import type { Argv, CommandModule } from 'yargs';
import { requireRecord, startContainer } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';
import { startPodInfraFor } from './pod-support.js';
import { registerOptions, type OptionSpec } from '../option-table.js';

export const START_OPTIONS: OptionSpec[] = [
  { name: 'attach', aliases: ['a'], type: 'boolean', default: false, describe: 'Attach stdout/stderr and wait (one container)' },
  { name: 'interactive', aliases: ['i'], type: 'boolean', default: false },
];

export const startCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'start <containers..>',
  describe: 'Start one or more containers',
  builder: (y: Argv) => registerOptions(y, START_OPTIONS),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    for (const name of argv.containers as string[]) {
      const record = requireRecord(paths, name);
      // A pod member needs its pod's infra (namespaces) running; the infra itself starts through its pod.
      if (await startPodInfraFor(paths, record) === 'infra-started') { process.stdout.write(`${name}\n`); continue; }
      if (argv.attach) {
        const r = await startContainer(paths, record, 'foreground');
        process.exitCode = r.exitCode ?? 0;
        return;
      }
      await startContainer(paths, record, 'detached');
      process.stdout.write(`${name}\n`);
    }
  },
};
