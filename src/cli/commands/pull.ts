/**
 * `berth pull [options] IMAGE...`: Podman's flags; progress on stderr, the image ID on stdout.
 * The flags are a table (option-table.ts): plain command lines are parsed without yargs
 * (fast-path.ts), as `berth run`'s are.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/index.js';
import { resolveStoragePaths } from '../../paths/index.js';
import { registerOptions, type OptionSpec } from '../option-table.js';

type Args = { root?: string; runroot?: string; images: string[]; quiet?: boolean; 'tls-verify'?: boolean; authfile?: string;
  platform?: string; arch?: string; os?: string; variant?: string; creds?: string };

export function parseCreds(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError('usage.creds', '--creds must be USERNAME:PASSWORD');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

export const PULL_OPTIONS: OptionSpec[] = [
  { name: 'quiet', aliases: ['q'], type: 'boolean', default: false, describe: 'Print only the image ID' },
  { name: 'tls-verify', type: 'boolean', describe: 'Require HTTPS and verify certificates (default: unless the registry is insecure in registries.conf)' },
  { name: 'authfile', type: 'string', describe: 'Credentials file (default: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, …)' },
  { name: 'creds', type: 'string', describe: 'USERNAME:PASSWORD for the registry' },
  { name: 'platform', type: 'string', describe: 'OS/ARCH[/VARIANT] to choose from a multi-platform image' },
  { name: 'arch', type: 'string', describe: 'Architecture to choose' },
  { name: 'os', type: 'string', describe: 'OS to choose (default linux)' },
  { name: 'variant', type: 'string', describe: 'Architecture variant to choose' },
];

export const pullCommand: CommandModule<object, Args> = {
  command: 'pull <images..>',
  describe: 'Pull images from a registry',
  builder: (y: Argv) => registerOptions(y.positional('images', { type: 'string', array: true, demandOption: true, describe: 'Image references' }), PULL_OPTIONS) as unknown as Argv<Args>,
  handler: async (argv) => {
    // Loaded here, not at startup: other commands (ps, stop, rm…) never pay for the registry client.
    const { pullImage } = await import('../../image/pull.js');
    const { createProgressRenderer } = await import('../../image/progress.js');
    const paths = resolveStoragePaths({ root: argv.root, runroot: argv.runroot });
    let platform = argv.platform;
    if (!platform && (argv.os || argv.variant)) {
      platform = [argv.os ?? 'linux', argv.arch ?? (await import('../../image/manifest.js')).hostPlatform().architecture, argv.variant].filter(Boolean).join('/');
    }
    const credentials = argv.creds ? parseCreds(argv.creds) : undefined;
    for (const image of argv.images) {
      const renderer = createProgressRenderer(process.stderr, { quiet: argv.quiet });
      try {
        const handle = await pullImage(image, {
          paths, platform, arch: platform ? undefined : argv.arch, tlsVerify: argv['tls-verify'], authfile: argv.authfile,
          credentials, quiet: argv.quiet, onProgress: renderer.onProgress,
        });
        renderer.finish();
        process.stdout.write(`${handle.id}\n`);
      } finally {
        renderer.finish();
      }
    }
  },
};
