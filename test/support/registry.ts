/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a
 * free port, with its storage, config and log in its own folder under /var/tmp. Optional Basic
 * auth (htpasswd, bcrypt) or token auth (the test supplies the issuer).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

export interface TestRegistry {
  host: string; // "127.0.0.1:PORT"
  dataDir: string; // the registry's own folder: config.yml, storage/, registry.log
  stop(): Promise<void>;
}

export interface TokenAuthOptions {
  realm: string;
  service: string;
  issuer: string;
  /** PEM file holding the certificate whose key signs the tokens. */
  rootCertBundle: string;
}

export interface StartRegistryOptions {
  htpasswd?: { user: string; password: string };
  token?: TokenAuthOptions;
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const BASE_DIR = '/var/tmp/berth-test-registries';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configYaml(storage: string, port: number, auth: string, tls?: { certificate: string; key: string }): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(tls ? ['  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`] : []),
    auth,
    '',
  ].join('\n');
}

function authYaml(dir: string, options: StartRegistryOptions): string {
  if (options.htpasswd) {
    const line = execFileSync('htpasswd', ['-Bbn', options.htpasswd.user, options.htpasswd.password], { encoding: 'utf8' });
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, line.trim() + '\n', { mode: 0o600 });
    return ['auth:', '  htpasswd:', '    realm: berth-test', `    path: ${file}`].join('\n');
  }
  if (options.token) {
    const t = options.token;
    return ['auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`].join('\n');
  }
  return '';
}

async function waitUntilServing(host: string, child: ChildProcess, logFile: string, tls: boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited early (${child.exitCode ?? child.signalCode}): ${readTail(logFile)}`);
    }
    try {
      if (tls) {
        if (await tlsAnswers(host)) return;
      } else {
        const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        if (response.status === 200 || response.status === 401) return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry on ${host} did not answer /v2/ within ${timeoutMs} ms: ${readTail(logFile)}`);
}

function tlsAnswers(host: string): Promise<boolean> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve) => {
    const req = https.get({ hostname, port: Number(port), path: '/v2/', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

async function startOnce(options: StartRegistryOptions, port: number): Promise<TestRegistry> {
  fs.mkdirSync(BASE_DIR, { recursive: true });
  const dir = fs.mkdtempSync(path.join(BASE_DIR, 'reg-'));
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage);
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, configYaml(storage, port, authYaml(dir, options), options.tls));
  const logFile = path.join(dir, 'registry.log');
  const logFd = fs.openSync(logFile, 'a');
  // docker-registry reads REGISTRY_<SECTION>_<KEY> variables as config overrides: REGISTRY_AUTH_FILE
  // (Podman's auth file variable, which tests set) would break its config. Pass none of them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const child = spawn(REGISTRY_BINARY, ['serve', configFile], { stdio: ['ignore', logFd, logFd], detached: false, env });
  fs.closeSync(logFd);
  const host = `127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        if (child.pid && child.exitCode === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(host, child, logFile, !!options.tls);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, dataDir: dir, stop };
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  if (options.port !== undefined) return startOnce(options, options.port);
  let lastError: unknown;
  // The free port can be taken between probing and binding: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Where the registry keeps one blob on disk (for fault tests that corrupt or remove it). */
export function registryBlobPath(registry: TestRegistry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return path.join(registry.dataDir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}
