/**
 * `berth login [options] REGISTRY`: verifies the credentials with the registry, then stores them
 * (mode 0600) in the auth file, or hands them to the configured credential helper.
 */
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/index.js';

type Args = { registry?: string; username?: string; password?: string; 'password-stdin'?: boolean; authfile?: string;
  'tls-verify'?: boolean; 'get-login'?: boolean };

/** "https://quay.io/ns/" -> { key: "quay.io/ns", host: "quay.io" } */
export function loginTarget(input: string): { key: string; host: string } {
  const key = input.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!key || /\s/.test(key)) throw new UsageError('usage.registry', `invalid registry "${input}"`);
  const host = key.split('/')[0];
  return { key: host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : key, host: host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host };
}

async function readLine(prompt: string, hidden: boolean): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) throw new UsageError('usage.login', `${prompt.replace(/: $/, '')} required: pass it as a flag (stdin is not a terminal)`);
  process.stderr.write(prompt);
  input.setRawMode(hidden);
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          input.off('data', onData);
          input.setRawMode(false);
          input.pause();
          process.stderr.write('\n');
          return resolve(text);
        }
        if (ch === '\u0003') {
          input.off('data', onData);
          input.setRawMode(false);
          input.pause();
          return reject(new UsageError('usage.login', 'login cancelled'));
        }
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
        if (!hidden) process.stderr.write(ch);
      }
    };
    input.on('data', onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const loginCommand: CommandModule<object, Args> = {
  command: 'login [registry]',
  describe: 'Log in to a container registry',
  builder: (y: Argv) => y
    .positional('registry', { type: 'string', describe: 'Registry host (optionally /namespace)' })
    .option('username', { alias: 'u', type: 'string', describe: 'User name' })
    .option('password', { alias: 'p', type: 'string', describe: 'Password (visible in the process list: prefer --password-stdin)' })
    .option('password-stdin', { type: 'boolean', default: false, describe: 'Read the password from stdin' })
    .option('authfile', { type: 'string', describe: 'Credentials file to write' })
    .option('tls-verify', { type: 'boolean', describe: 'Require HTTPS and verify certificates' })
    .option('get-login', { type: 'boolean', default: false, describe: 'Print the user name stored for the registry' }) as unknown as Argv<Args>,
  handler: async (argv) => {
    if (!argv.registry) throw new UsageError('usage.login', 'name the registry to log in to (berth login REGISTRY)');
    const { key, host } = loginTarget(argv.registry);
    // Loaded here, not at startup: other commands never pay for the registry client.
    const { getCredentials, storeCredentials } = await import('../../image/auth.js');
    if (argv['get-login']) {
      const creds = await getCredentials(host, key.includes('/') ? key.slice(host.length + 1) : undefined, { authfile: argv.authfile });
      if (!creds?.username) throw new UsageError('usage.login', `not logged into ${key}`);
      process.stdout.write(`${creds.username}\n`);
      return;
    }
    if (argv.password !== undefined && argv['password-stdin']) throw new UsageError('usage.login', '--password and --password-stdin are mutually exclusive');
    const username = argv.username ?? await readLine('Username: ', false);
    const password = argv['password-stdin'] ? await readStdin() : argv.password ?? await readLine('Password: ', true);
    if (!username) throw new UsageError('usage.login', 'a user name is required');
    if (!password) throw new UsageError('usage.login', 'a password is required');
    const { isInsecureRegistry } = await import('../../image/pull-sources.js');
    const { loadRegistriesConfig } = await import('../../image/registries-conf.js');
    const { RegistryClient } = await import('../../image/registry-client.js');
    const config = loadRegistriesConfig();
    const client = new RegistryClient({
      registry: host, repository: '', image: key, insecure: isInsecureRegistry(config, key), tlsVerify: argv['tls-verify'],
      credentials: { username, password },
    });
    const { identityToken } = await client.checkLogin();
    const where = await storeCredentials(key, username, password, { authfile: argv.authfile, identityToken });
    if (where.endsWith('.json') && fs.existsSync(where)) fs.chmodSync(where, 0o600);
    process.stdout.write('Login Succeeded!\n');
  },
};
