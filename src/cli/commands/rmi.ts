/**
 * `berth rmi IMAGE…` (= `berth image rm`): untag or delete images, free what nothing uses.
 */
import type { Argv, CommandModule } from 'yargs';
import { BerthError, UsageError } from '../../errors/index.js';
import { imageInUse, openStore } from './image-support.js';

type Args = { root?: string; runroot?: string; images?: string[]; force?: boolean; all?: boolean; ignore?: boolean };

export function rmiBuilder(y: Argv): Argv<Args> {
  return y
    .positional('images', { type: 'string', array: true, describe: 'Names or IDs' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Remove even if used by containers, mounted or multiply named' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove all images' })
    .option('ignore', { alias: 'i', type: 'boolean', default: false, describe: 'No error for images that do not exist' }) as Argv<Args>;
}

export async function rmiHandler(argv: Args): Promise<void> {
  const store = await openStore(argv);
  let targets = (argv.images ?? []).map(String);
  if (argv.all) targets = (await store.listImages()).map((i) => i.id);
  else if (targets.length === 0) throw new UsageError('usage', 'image name or ID must be specified');
  const inUse = imageInUse(store);
  const errors: BerthError[] = [];
  for (const target of targets) {
    try {
      for (const line of await store.removeImage(target, { force: argv.force, inUse })) process.stdout.write(`${line}\n`);
    } catch (error) {
      if (!(error instanceof BerthError)) throw error;
      if (error.code === 'image-not-found' && argv.ignore) continue;
      errors.push(error);
    }
  }
  if (errors.length === 0) return;
  if (targets.length === 1) throw errors[0];
  for (const error of errors) process.stderr.write(`Error: ${error.message}\n`);
  process.exitCode = errors[0]!.exitCode;
}

export const rmiCommand: CommandModule<object, Args> = {
  command: 'rmi [images..]',
  describe: 'Remove images from local storage',
  builder: rmiBuilder,
  handler: rmiHandler,
};
