/**
 * `berth rm [-f] [-i] [-v] [-t N] [--cidfile F] NAME...`. The generated units' ExecStop and
 * ExecStopPost run `rm -v -f -i --cidfile=%t/%N.cid`: it must succeed whatever state a crash
 * left, and removes the cidfile. Exit status as Podman: 1 no such container, 2 running without -f.
 */
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { RuntimeError } from '../../errors/index.js';
import { findRecord, flagValues, listRecords, removeContainer } from '../../runtime/index.js';
import { pathsOf, targetsOf } from './container-support.js';
import { podExitPolicy } from './pod-support.js';
import { registerOptions, type OptionSpec } from '../option-table.js';

export const RM_OPTIONS: OptionSpec[] = [
  { name: 'force', aliases: ['f'], type: 'boolean', default: false, describe: 'Stop running containers first' },
  { name: 'ignore', aliases: ['i'], type: 'boolean', default: false, describe: 'Ignore missing containers' },
  { name: 'volumes', aliases: ['v'], type: 'boolean', default: false, describe: 'Remove the containers\' anonymous volumes too' },
  { name: 'all', aliases: ['a'], type: 'boolean', default: false },
  { name: 'time', aliases: ['t'], type: 'string' },
  { name: 'cidfile', type: 'string', array: true },
];

export const rmCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'rm [containers..]',
  describe: 'Remove one or more containers',
  builder: (y: Argv) => registerOptions(y, RM_OPTIONS),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const timeout = argv.time === undefined ? undefined : flagValues.parseIntFlag(String(argv.time), '--time', 0);
    const names = argv.all ? listRecords(paths).map((r) => r.id) : targetsOf(argv, { ignore: Boolean(argv.ignore) });
    if (names.length === 0 && !argv.all && !argv.cidfile) throw new RuntimeError('usage', 'rm needs at least one container name or ID', { exitCode: 125 });
    let failure: unknown;
    for (const name of names) {
      const record = findRecord(paths, name);
      if (!record) {
        if (!argv.ignore) failure ??= new RuntimeError('no-such-container', `no container with ID or name "${name}" found: no such container`, { context: { container: name }, exitCode: 1 });
        continue;
      }
      try {
        await removeContainer(paths, record, { force: Boolean(argv.force), timeout, volumes: Boolean(argv.volumes) });
        process.stdout.write(`${record.id}\n`);
        await podExitPolicy(paths, record);
      } catch (error) { failure ??= error; }
    }
    for (const f of (argv.cidfile as string[] | undefined) ?? []) if (!failure) fs.rmSync(f, { force: true });
    if (failure) throw failure;
  },
};
