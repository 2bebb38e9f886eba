/**
 * `berth cleanup ID` (internal, hidden): run by the monitor of a background container once its
 * process exited: crun delete, unmount, network teardown; removes the container if it was --rm.
 */
import type { Argv, CommandModule } from 'yargs';
import { cleanupRuntime, findRecord, readState, removeContainer, withContainerLock } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';
import { podExitPolicy } from './pod-support.js';

export const cleanupCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'cleanup <container>',
  describe: false,
  builder: (y: Argv) => y,
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const record = findRecord(paths, String(argv.container));
    if (!record) return;
    if (record.options.rm) { await removeContainer(paths, record, { force: true, timeout: 0 }); await podExitPolicy(paths, record); return; }
    await withContainerLock(paths, record.id, async () => {
      const state = readState(paths, record.id);
      if (state.status !== 'running') await cleanupRuntime(paths, record, state);
    });
    await podExitPolicy(paths, record);
  },
};
