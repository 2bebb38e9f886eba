/**
 * Registry credentials as containers-auth.json(5) and Docker's config.json keep them.
 * Read order: --authfile or $REGISTRY_AUTH_FILE (alone, when given); else
 * $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/UID/auth.json without it),
 * $XDG_CONFIG_HOME (~/.config)/containers/auth.json, $DOCKER_CONFIG/config.json or ~/.docker/config.json.
 * Keys may name a registry or a repository namespace (most specific wins); `credHelpers` and
 * `credsStore` hand the lookup to `docker-credential-NAME get`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImageError } from '../errors/index.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (Docker's "identitytoken"). */
  identityToken?: string;
}

export interface AuthOptions {
  authfile?: string;
  env?: NodeJS.ProcessEnv;
}

interface AuthEntry { auth?: string; identitytoken?: string; username?: string; password?: string }
export interface AuthFileContent {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** The file `berth login` writes (and `berth logout` edits) unless --authfile/REGISTRY_AUTH_FILE say otherwise. */
export function defaultAuthFile(options: AuthOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.authfile) return options.authfile;
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return `/run/containers/${process.getuid?.() ?? 0}/auth.json`;
}

/** Every file consulted for credentials, in order. */
export function authFilePaths(options: AuthOptions = {}): string[] {
  const env = options.env ?? process.env;
  const explicit = options.authfile || env.REGISTRY_AUTH_FILE;
  if (explicit) return [explicit];
  const configHome = env.XDG_CONFIG_HOME || path.join(home(env), '.config');
  const docker = env.DOCKER_CONFIG ? path.join(env.DOCKER_CONFIG, 'config.json') : path.join(home(env), '.docker', 'config.json');
  return [defaultAuthFile({ env }), path.join(configHome, 'containers', 'auth.json'), docker];
}

export function readAuthFile(file: string): AuthFileContent | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ImageError('image.auth.unreadable', `cannot read ${file}: ${(error as Error).message}`, { context: { file } });
  }
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as AuthFileContent;
  } catch (error) {
    // Never echo the file's text: it holds secrets.
    throw new ImageError('image.auth.invalid', `${file}: invalid JSON (${(error as Error).message.replace(/ in JSON at .*$/, '').replace(/"[^"]*"/g, '"…"')})`, { context: { file } });
  }
}

/** "https://index.docker.io/v1/" → "docker.io"; "quay.io/ns" stays; schemes and trailing slashes dropped. */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  const legacy = /^https?:\/\//.test(k);
  k = k.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (legacy) k = k.split('/')[0]; // Docker's legacy keys carry an API path, not a namespace
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') return 'docker.io';
  return k;
}

/** Keys to try for a repository, most specific first: "host/a/b", "host/a", "host". */
export function lookupKeys(registry: string, repository?: string): string[] {
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let i = parts.length; i > 0; i--) keys.push(`${registry}/${parts.slice(0, i).join('/')}`);
  }
  keys.push(registry);
  return keys;
}

export function decodeEntry(entry: AuthEntry, file: string, key: string): Credentials | undefined {
  if (entry.identitytoken) {
    // Docker writes the user name beside the token, in "auth" as "user:" (no password).
    const decoded = entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8') : '';
    const username = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : entry.username;
    return { identityToken: entry.identitytoken, ...(username ? { username } : {}) };
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ImageError('image.auth.invalid', `${file}: auths."${key}".auth is not base64 of "user:password"`, { context: { file, key } });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

function helperKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function runHelper(helper: string, verb: 'get' | 'store' | 'erase', input: string): Promise<string> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, [verb], { timeout: 30000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const text = `${stdout}${stderr}`.trim();
        if (verb === 'get' && /credentials not found/i.test(text)) return resolve('');
        const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found in PATH' : text.split('\n')[0] || error.message;
        return reject(new ImageError('image.auth.helper', `credential helper ${program} ${verb} failed: ${why}`, { context: { key: helper } }));
      }
      resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export async function helperGet(helper: string, registry: string): Promise<Credentials | undefined> {
  const out = await runHelper(helper, 'get', helperKey(registry));
  if (!out.trim()) return undefined;
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new ImageError('image.auth.helper', `credential helper docker-credential-${helper} returned invalid JSON`, { context: { key: helper } });
  }
  if (!parsed.Secret) return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: parsed.Username ?? '', password: parsed.Secret };
}

/** Credentials for `registry` (and repository, for namespaced keys), or undefined for anonymous access. */
export async function getCredentials(registry: string, repository: string | undefined, options: AuthOptions = {}): Promise<Credentials | undefined> {
  const keys = lookupKeys(registry, repository);
  for (const file of authFilePaths(options)) {
    const content = readAuthFile(file);
    if (!content) continue;
    const helper = content.credHelpers?.[registry] ?? (registry === 'docker.io' ? content.credHelpers?.['index.docker.io'] : undefined);
    if (helper) {
      const fromHelper = await helperGet(helper, registry);
      if (fromHelper) return fromHelper;
    }
    const auths = new Map<string, { key: string; entry: AuthEntry }>();
    for (const [key, entry] of Object.entries(content.auths ?? {})) auths.set(normalizeAuthKey(key), { key, entry });
    for (const key of keys) {
      const found = auths.get(key);
      if (found) {
        const creds = decodeEntry(found.entry, file, found.key);
        if (creds) return creds;
      }
    }
    if (content.credsStore) {
      const fromStore = await helperGet(content.credsStore, registry);
      if (fromStore) return fromStore;
    }
  }
  return undefined;
}

function writeAuthFile(file: string, content: AuthFileContent): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(content, null, '\t') + '\n', { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

/**
 * Store credentials under `key` ("registry" or "registry/namespace"); returns where they went.
 * With `identityToken` (an OAuth2 refresh token from the registry's token service) the token is
 * stored instead of the password, as Docker does: auth.json "identitytoken" beside "auth" = "user:",
 * or a credential helper's Username "<token>".
 */
export async function storeCredentials(key: string, username: string, password: string, options: AuthOptions & { identityToken?: string } = {}): Promise<string> {
  const file = defaultAuthFile(options);
  const content = readAuthFile(file) ?? {};
  const helper = content.credHelpers?.[key];
  const token = options.identityToken;
  if (helper) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: helperKey(key), Username: token ? '<token>' : username, Secret: token ?? password }));
    return `docker-credential-${helper}`;
  }
  const entry: AuthEntry = token ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: token } : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  content.auths = { ...(content.auths ?? {}), [key]: entry };
  writeAuthFile(file, content);
  return file;
}

/** Remove credentials for `key` (or every key with `all`); returns whether anything was removed. */
export async function removeCredentials(key: string | undefined, options: AuthOptions & { all?: boolean } = {}): Promise<boolean> {
  const file = defaultAuthFile(options);
  const content = readAuthFile(file);
  if (!content) return false;
  if (options.all) {
    const had = Object.keys(content.auths ?? {}).length > 0;
    content.auths = {};
    writeAuthFile(file, content);
    return had;
  }
  if (!key) return false;
  const helper = content.credHelpers?.[key];
  if (helper) {
    await runHelper(helper, 'erase', helperKey(key));
    return true;
  }
  const auths = content.auths ?? {};
  const matching = Object.keys(auths).filter((k) => normalizeAuthKey(k) === normalizeAuthKey(key));
  if (matching.length === 0) return false;
  for (const k of matching) delete auths[k];
  writeAuthFile(file, content);
  return true;
}
