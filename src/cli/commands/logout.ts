/**
 * `berth logout [--all] [REGISTRY]`: removes stored credentials (auth file or credential helper).
 */
import type { Argv, CommandModule } from 'yargs';
import { ImageError, UsageError } from '../../errors/index.js';
import { loginTarget } from './login.js';

type Args = { registry?: string; all?: boolean; authfile?: string };

export const logoutCommand: CommandModule<object, Args> = {
  command: 'logout [registry]',
  describe: 'Log out of a container registry',
  builder: (y: Argv) => y
    .positional('registry', { type: 'string', describe: 'Registry host (optionally /namespace)' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Remove every stored credential' })
    .option('authfile', { type: 'string', describe: 'Credentials file to edit' }) as unknown as Argv<Args>,
  handler: async (argv) => {
    const { removeCredentials } = await import('../../image/auth.js');
    if (argv.all) {
      await removeCredentials(undefined, { all: true, authfile: argv.authfile });
      process.stdout.write('Removed login credentials for all registries\n');
      return;
    }
    if (!argv.registry) throw new UsageError('usage.logout', 'name the registry to log out of (or --all)');
    const { key } = loginTarget(argv.registry);
    if (!(await removeCredentials(key, { authfile: argv.authfile }))) {
      throw new ImageError('image.auth.not-logged-in', `not logged into ${key}`, { context: { registry: key } });
    }
    process.stdout.write(`Removed login credentials for ${key}\n`);
  },
};
