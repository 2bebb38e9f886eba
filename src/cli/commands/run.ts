/**
 * `berth run [flags] IMAGE [COMMAND...]`: create + start. With -d under systemd (a generated
 * unit's ExecStart) berth names the container's init to systemd and exits; see
 * src/runtime/launch.ts for why.
 */
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import {
  createContainer, removeContainer, removeContainerVolumes, requireCgroupV2, scheduleHealthChecks, sdNotify, startContainer, waitHealthy, type ContainerRecord,
} from '../../runtime/index.js';
import { containerCommandBuilder, parseRunCommandLine, type ParsedRun } from './container-flags.js';
import { resolveImage } from './container-support.js';
import { joinPod, podExitPolicy } from './pod-support.js';
import { writeOut } from '../../process/stdio.js';

export async function createFromArgs(parsed: ParsedRun): Promise<ContainerRecord> {
  if (parsed.options.cgroups !== 'disabled' && !parsed.paths.rootless) requireCgroupV2();
  // --pod/--pod-id-file: the pod must exist (checked before any pull); its infra is started.
  const options = parsed.pod ? await joinPod(parsed.paths, parsed.pod, parsed.options) : parsed.options;
  const image = await resolveImage(parsed.image, parsed.pull, parsed.paths);
  const record = await createContainer(parsed.paths, { options, image, imageName: image.names[0] ?? parsed.image, replace: parsed.replace });
  if (parsed.cidfile) {
    try {
      fs.writeFileSync(parsed.cidfile, record.id);
    } catch (error) {
      await removeContainer(parsed.paths, record, { force: true, volumes: true });
      throw error;
    }
  }
  return record;
}

async function undoCreate(parsed: ParsedRun, record: ContainerRecord): Promise<void> {
  await removeContainer(parsed.paths, record, { force: true, timeout: 0, volumes: true }).catch(() => undefined);
  if (parsed.cidfile) fs.rmSync(parsed.cidfile, { force: true });
  await podExitPolicy(parsed.paths, record);
}

/** After a foreground --rm container whose cleanup already removed its dirs (launch.ts). */
async function finishRemoved(parsed: ParsedRun, record: ContainerRecord): Promise<void> {
  await removeContainerVolumes(parsed.paths, record).catch(() => undefined);
  if (parsed.cidfile) fs.rmSync(parsed.cidfile, { force: true });
  await podExitPolicy(parsed.paths, record);
}

export const runCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'run [image] [command..]',
  describe: 'Run a command in a new container',
  builder: (y: Argv) => containerCommandBuilder(y),
  handler: async (argv) => runContainer(await parseRunCommandLine(argv, 'run')),
};

/** The handler's work, also called by the fast path (src/cli/fast-path.ts). */
export async function runContainer(parsed: ParsedRun): Promise<void> {
  const record = await createFromArgs(parsed);
  const { paths } = parsed;
  // A start that fails leaves nothing behind: the container it created is removed again.
  const start = async (mode: 'foreground' | 'detached') => {
    try {
      return await startContainer(paths, record, mode, process.env, { removeWhenDone: mode === 'foreground' && record.options.rm });
    } catch (error) {
      await undoCreate(parsed, record);
      throw error;
    }
  };
  if (!parsed.detach) {
    const result = await start('foreground');
    if (result.removed) await finishRemoved(parsed, record);
    else if (record.options.rm) await undoCreate(parsed, record);
    process.exitCode = result.exitCode ?? 0;
    return;
  }
  const started = await start('detached');
  // MAINPID (and READY for --sdnotify=conmon) went to systemd before the container started (launch.ts).
  if (started.supervisor === 'systemd' && record.options.sdnotify === 'healthy') {
    await sdNotify(['STATUS=waiting for the first passing health check']);
    await waitHealthy(paths, record, record.options.healthCheck!);
    await scheduleHealthChecks(paths, record);
    await sdNotify(['READY=1', 'STATUS=healthy']);
  }
  writeOut(1, `${record.id}\n`);
}
