/**
 * `berth volume create|ls|inspect|rm|prune|exists` (Podman's flags).
 */
import { randomBytes } from 'node:crypto';
import type { Argv, CommandModule } from 'yargs';
import { VolumeError } from '../../errors/index.js';
import {
  createVolume, getVolume, listVolumes, matchesLabels, pruneVolumes, removeVolume, requireVolume, type Volume,
} from '../../volume/index.js';
import { keyValues, printTable, removeContainersByNameOrId, renderTemplate, storagePaths, toList, volumeUsers } from './network-volume-support.js';

type Args = Record<string, unknown> & { root?: string; runroot?: string };

/** Podman's `volume inspect` field names. */
function inspectView(v: Volume): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: 'local',
    Options: v.options,
    Anonymous: v.anonymous ?? false,
    NeedsCopyUp: v.needsCopyUp ?? false,
    NeedsChown: v.needsChown ?? false,
  };
}

function labelFilters(values: unknown): Record<string, string | undefined> | undefined {
  const filters = toList(values);
  if (filters.length === 0) return undefined;
  const labels: Record<string, string | undefined> = {};
  for (const f of filters) {
    if (!f.startsWith('label=')) throw new VolumeError('bad-filter', `unknown filter "${f}" (label=KEY[=VALUE])`);
    const [k, v] = f.slice('label='.length).split('=', 2);
    labels[k] = v;
  }
  return labels;
}

const create: CommandModule<object, Args> = {
  command: 'create [name]',
  describe: 'Create a volume',
  builder: (y: Argv) => y
    .positional('name', { type: 'string', describe: 'Volume name (default: random)' })
    .option('driver', { alias: 'd', type: 'string', default: 'local', describe: 'Only "local"' })
    .option('label', { alias: 'l', type: 'string', describe: 'KEY=VALUE label' })
    .option('opt', { alias: 'o', type: 'string', describe: 'type=…, device=…, o=… (o=uid=N,gid=N for ownership)' })
    .option('ignore', { type: 'boolean', default: false, describe: 'Succeed if the volume already exists' }),
  handler: async (argv) => {
    if (argv.driver !== 'local') throw new VolumeError('bad-driver', `volume driver "${argv.driver}" is not supported (only "local")`, { context: { volume: String(argv.name ?? '') } });
    const name = (argv.name as string | undefined) ?? randomBytes(32).toString('hex');
    const volume = await createVolume(storagePaths(argv), name, {
      labels: keyValues(argv.label, '--label'),
      options: keyValues(argv.opt, '--opt'),
      ignoreIfExists: argv.ignore as boolean,
    });
    process.stdout.write(`${volume.name}\n`);
  },
};

const ls: CommandModule<object, Args> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List volumes',
  builder: (y: Argv) => y
    .option('format', { type: 'string', describe: '"json" or a Go template such as {{.Name}}' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false })
    .option('filter', { alias: 'f', type: 'string', describe: 'label=KEY[=VALUE]' }),
  handler: async (argv) => {
    const wanted = labelFilters(argv.filter);
    const volumes = (await listVolumes(storagePaths(argv))).filter((v) => !wanted || matchesLabels(v.labels, wanted));
    if (argv.quiet) {
      for (const v of volumes) process.stdout.write(`${v.name}\n`);
    } else if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify(volumes.map(inspectView), null, 2)}\n`);
    } else if (typeof argv.format === 'string') {
      for (const v of volumes) process.stdout.write(`${renderTemplate(argv.format, inspectView(v))}\n`);
    } else {
      printTable([['DRIVER', 'VOLUME NAME'], ...volumes.map((v) => [v.driver, v.name])]);
    }
  },
};

const inspect: CommandModule<object, Args> = {
  command: 'inspect <volumes..>',
  describe: 'Show volumes in detail (JSON)',
  builder: (y: Argv) => y
    .positional('volumes', { type: 'string', array: true })
    .option('format', { alias: 'f', type: 'string' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    const views = [];
    for (const name of toList(argv.volumes)) views.push(inspectView(await requireVolume(paths, name)));
    if (typeof argv.format === 'string' && argv.format !== 'json') {
      for (const v of views) process.stdout.write(`${renderTemplate(argv.format, v)}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
    }
  },
};

const rm: CommandModule<object, Args> = {
  command: 'rm [volumes..]',
  aliases: ['remove'],
  describe: 'Remove volumes',
  builder: (y: Argv) => y
    .positional('volumes', { type: 'string', array: true })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Also when a container uses it' })
    .option('all', { alias: 'a', type: 'boolean', default: false })
    .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait for containers to stop with -f' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    const names = argv.all ? (await listVolumes(paths)).map((v) => v.name) : toList(argv.volumes);
    if (names.length === 0) throw new VolumeError('usage', 'name at least one volume, or use --all');
    let failure: unknown;
    for (const name of names) {
      try {
        const users = volumeUsers(paths, name);
        if (users.length > 0 && !argv.force) {
          throw new VolumeError('volume-in-use', `volume "${name}" is being used by container(s) ${users.join(', ')} (remove them first, or use -f)`, { context: { volume: name } });
        }
        if (users.length > 0) await removeContainersByNameOrId(paths, users, argv.time as number | undefined);
        await removeVolume(paths, name, { force: argv.force as boolean, inUse: () => users.length > 0 });
        process.stdout.write(`${name}\n`);
      } catch (error) {
        if (failure) process.stderr.write(`Error: ${(failure as Error).message}\n`);
        failure = error;
      }
    }
    if (failure) throw failure;
  },
};

const prune: CommandModule<object, Args> = {
  command: 'prune',
  describe: 'Remove volumes no container uses',
  builder: (y: Argv) => y
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not ask (berth never asks)' })
    .option('filter', { type: 'string', describe: 'label=KEY[=VALUE]' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    const removed = await pruneVolumes(paths, { labels: labelFilters(argv.filter), inUse: (name) => volumeUsers(paths, name).length > 0 });
    for (const name of removed) process.stdout.write(`${name}\n`);
  },
};

const exists: CommandModule<object, Args> = {
  command: 'exists <name>',
  describe: 'Exit 0 if the volume exists, 1 if not',
  builder: (y: Argv) => y.positional('name', { type: 'string' }),
  handler: async (argv) => {
    process.exitCode = (await getVolume(storagePaths(argv), argv.name as string)) ? 0 : 1;
  },
};

export const volumeCommand: CommandModule<object, Args> = {
  command: 'volume <command>',
  describe: 'Manage volumes',
  builder: (y: Argv) => y
    .command(create)
    .command(ls)
    .command(inspect)
    .command(rm)
    .command(prune)
    .command(exists)
    .demandCommand(1, 'Name a volume command: create, ls, inspect, rm, prune, exists'),
  handler: () => undefined,
};

export default volumeCommand;
