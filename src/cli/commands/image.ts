/**
 * `berth image inspect|prune|mount|unmount|ls|rm`.
 */
import type { Argv, CommandModule } from 'yargs';
import { BerthError, UsageError } from '../../errors/index.js';
import type { ImageStore, StoredImage } from '../../image/store/index.js';
import { imageInUse, openStore } from './image-support.js';
import { imagesBuilder, imagesHandler } from './images.js';
import { rmiBuilder, rmiHandler } from './rmi.js';

type Common = { root?: string; runroot?: string };

interface ConfigBlob {
  created?: string; author?: string; architecture?: string; os?: string; variant?: string;
  config?: Record<string, unknown>; rootfs?: { type?: string; diff_ids?: string[] }; history?: unknown[];
}

/** Podman's `image inspect` shape (the fields berth knows). */
export async function inspectView(store: ImageStore, image: StoredImage): Promise<Record<string, unknown>> {
  const config = JSON.parse((await store.readBlob(image.configDigest)).toString('utf8')) as ConfigBlob;
  const repo = (name: string): string => name.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  return {
    Id: image.id,
    Digest: image.digest,
    RepoTags: image.names.filter((n) => !n.includes('@')),
    RepoDigests: [...new Set(image.names.flatMap((n) => image.digests.map((d) => `${repo(n)}@${d}`)))],
    Created: config.created ?? null,
    Author: config.author ?? '',
    Architecture: config.architecture ?? '',
    Os: config.os ?? '',
    ...(config.variant ? { Variant: config.variant } : {}),
    Config: config.config ?? {},
    Size: image.size,
    VirtualSize: image.size,
    RootFS: { Type: config.rootfs?.type ?? 'layers', Layers: config.rootfs?.diff_ids ?? [] },
    Layers: image.layers.map((l, i) => ({ Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: image.diffIds[i] ?? null, ChainID: image.chainIds[i] ?? null })),
    ManifestDigests: image.digests,
    History: config.history ?? [],
    NamesHistory: image.names,
  };
}

const inspect: CommandModule<object, Common & { images?: string[]; format?: string }> = {
  command: 'inspect <images..>',
  describe: 'Show an image\'s config, layers, digests and sizes (JSON)',
  builder: (y: Argv) => y.positional('images', { type: 'string', array: true }).option('format', { alias: 'f', type: 'string', describe: '"json" (default) or {{.Field}}' }) as Argv<Common & { images?: string[]; format?: string }>,
  handler: async (argv) => {
    const store = await openStore(argv);
    const views: Record<string, unknown>[] = [];
    for (const ref of argv.images ?? []) views.push(await inspectView(store, await store.requireImage(String(ref))));
    if (argv.format && argv.format !== 'json') {
      for (const view of views) {
        process.stdout.write(`${argv.format.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_.]+)\s*\}\}/g, (_, json: string | undefined, field: string) => {
          let value: unknown = view;
          for (const part of field.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
          return json || (value !== null && typeof value === 'object') ? JSON.stringify(value) : String(value ?? '<no value>');
        })}\n`);
      }
      return;
    }
    process.stdout.write(`${JSON.stringify(views, null, 4)}\n`);
  },
};

const prune: CommandModule<object, Common & { all?: boolean; force?: boolean }> = {
  command: 'prune',
  describe: 'Remove dangling images (-a: all unused) and free unused blobs and layers',
  builder: (y: Argv) => y
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove every image no container uses' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not ask (berth never asks)' }) as Argv<Common & { all?: boolean; force?: boolean }>,
  handler: async (argv) => {
    const store = await openStore(argv);
    for (const id of await store.prune({ all: argv.all, inUse: imageInUse(store) })) process.stdout.write(`${id}\n`);
  },
};

const mount: CommandModule<object, Common & { images?: string[] }> = {
  command: 'mount [images..]',
  describe: 'Mount an image\'s root file system read-only and print where',
  builder: (y: Argv) => y.positional('images', { type: 'string', array: true }) as Argv<Common & { images?: string[] }>,
  handler: async (argv) => {
    const store = await openStore(argv);
    const refs = (argv.images ?? []).map(String);
    if (refs.length === 0) {
      const { mountCount, mountDir } = await import('../../image/store/mount.js');
      for (const image of await store.listImages()) {
        if ((await mountCount(store.layout, image.id)) > 0) process.stdout.write(`${image.id} ${image.names[0] ?? '<none>'} ${mountDir(store.layout, image.id).merged}\n`);
      }
      return;
    }
    for (const ref of refs) process.stdout.write(`${await store.mountImage(ref)}\n`);
  },
};

const unmount: CommandModule<object, Common & { images?: string[]; force?: boolean; all?: boolean }> = {
  command: 'unmount [images..]',
  aliases: ['umount'],
  describe: 'Release an image mounted with `image mount`',
  builder: (y: Argv) => y.positional('images', { type: 'string', array: true })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Unmount whatever the mount count' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Every mounted image' }) as Argv<Common & { images?: string[]; force?: boolean; all?: boolean }>,
  handler: async (argv) => {
    const store = await openStore(argv);
    let refs = (argv.images ?? []).map(String);
    if (argv.all) {
      const { mountCount } = await import('../../image/store/mount.js');
      refs = [];
      for (const image of await store.listImages()) if ((await mountCount(store.layout, image.id)) > 0) refs.push(image.id);
    } else if (refs.length === 0) {
      throw new UsageError('usage', 'image name or ID must be specified (or --all)');
    }
    for (const ref of refs) {
      await store.unmountImage(ref, { force: argv.force || argv.all });
      const image = await store.findImage(ref);
      process.stdout.write(`${image?.id ?? ref}\n`);
    }
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ls: CommandModule<object, any> = { command: 'ls [reference]', aliases: ['list'], describe: 'List images (same as `berth images`)', builder: imagesBuilder, handler: (a: any) => imagesHandler(a) };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const rm: CommandModule<object, any> = { command: 'rm [images..]', describe: 'Remove images (same as `berth rmi`)', builder: rmiBuilder, handler: (a: any) => rmiHandler(a) };

export const imageCommand: CommandModule<object, Common> = {
  command: 'image',
  describe: 'Manage images',
  builder: (y: Argv) => y.command(inspect).command(prune).command(mount).command(unmount).command(ls).command(rm)
    .demandCommand(1, 'Name an image subcommand: inspect, ls, rm, prune, mount, unmount') as Argv<Common>,
  handler: () => {
    throw new BerthError('usage', 'Name an image subcommand');
  },
};
