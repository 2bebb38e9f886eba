/**
 * The OCI distribution API (registry v2) for pulling: /v2/ ping that settles the scheme (HTTPS,
 * or HTTP for insecure registries) and the auth challenge; anonymous, Basic and Bearer-token auth
 * (tokens cached per realm, service, scope and user); manifests; blobs streamed with Range resume.
 * Every error names the image and the registry; credentials never appear in messages.
 */
import crypto from 'node:crypto';
import { ImageError } from '../errors/index.js';
import type { Credentials } from './auth.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { discard, drain, HttpError, isTransientNetworkError, readBody, request, type HttpResponse } from './http.js';
import { MediaType } from './oci.js';
import { DEFAULT_RETRY, parseRetryAfter, TransientError, withRetries, type RetryPolicy } from './retry.js';

export const MANIFEST_ACCEPT = [
  MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
  MediaType.dockerSchema1Signed, MediaType.dockerSchema1,
].join(', ');
const MANIFEST_LIMIT = 4 * 1024 * 1024;

export interface RegistryClientOptions {
  registry: string;
  repository: string;
  /** The image as the user named it, for messages. */
  image: string;
  /** Marked insecure in registries.conf: HTTPS without verification, then plain HTTP. */
  insecure?: boolean;
  /** Overrides `insecure` when given: false = insecure, true = HTTPS with verification only. */
  tlsVerify?: boolean;
  credentials?: Credentials;
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Buffer;
}

interface CachedToken { token: string; expires: number }
const tokenCache = new Map<string, CachedToken>();

/** Docker Hub's API lives on another host than its name. */
export function registryEndpointHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

interface RegistryErrorBody { errors?: { code?: string; message?: string }[] }

async function registryErrorText(res: HttpResponse): Promise<string> {
  try {
    const body = (await readBody(res, 64 * 1024)).toString('utf8');
    const parsed = JSON.parse(body) as RegistryErrorBody;
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
    return body.trim().slice(0, 200);
  } catch {
    return '';
  }
}

/** How long the plain-HTTP ping of an insecure registry has before HTTPS is asked too (RegistryClient.ping). */
const HTTPS_GRACE_MS = 20;

export class RegistryClient {
  readonly options: RegistryClientOptions;
  private baseUrl?: URL;
  private insecureTls = false;
  private challenge?: Challenge;

  constructor(options: RegistryClientOptions) {
    this.options = options;
  }

  private get retryPolicy(): RetryPolicy {
    return this.options.retry ?? DEFAULT_RETRY;
  }

  private error(code: string, message: string, extra: Record<string, string | number | undefined> = {}, cause?: unknown): ImageError {
    return new ImageError(code, `${this.options.image}: ${message}`, { context: { image: this.options.image, registry: this.options.registry, ...extra }, cause });
  }

  private networkError(error: unknown, what: string): ImageError {
    const e = error as { code?: string; message?: string };
    const detail = e.code && !e.message?.includes(e.code) ? `${e.code} ${e.message}` : e.message;
    return this.error('image.registry.unreachable', `cannot reach registry ${this.options.registry} (${what}): ${detail}`, {}, error);
  }

  /** Find the scheme and the auth challenge. */
  async ping(): Promise<void> {
    if (this.baseUrl) return;
    const host = registryEndpointHost(this.options.registry);
    // An explicit --tls-verify wins over registries.conf's `insecure`, as in Podman.
    const loose = this.options.tlsVerify === undefined ? !!this.options.insecure : !this.options.tlsVerify;
    const attempts: { url: URL; insecureTls: boolean }[] = [{ url: new URL(`https://${host}/v2/`), insecureTls: loose }];
    if (loose) attempts.push({ url: new URL(`http://${host}/v2/`), insecureTls: false });
    // An insecure registry is asked over both schemes: plain HTTP first, and HTTPS when that fails,
    // answers as no registry, or has not answered within HTTPS_GRACE_MS. The first answer as a
    // registry (200 or 401) wins, without waiting for the other: a port speaks TLS or plain HTTP, not
    // both (a TLS port answers a plain request with 400), so this is the scheme Podman's HTTPS-then-HTTP
    // finds. A plain-HTTP registry then costs one round trip and no TLS at all (loading it is ~8 ms of
    // this thread, while the pull has nothing else to do); a TLS one at most the grace more.
    const stops = attempts.map(() => new AbortController());
    const outer = this.options.signal;
    if (outer) for (const stop of stops) outer.addEventListener('abort', () => stop.abort(outer.reason), { once: true });
    const errors: unknown[] = [];
    const ask = (i: number): Promise<{ i: number; res: HttpResponse }> => this.pingOnce(attempts[i]!.url, attempts[i]!.insecureTls, i === attempts.length - 1, stops[i]!.signal).then((res) => {
      if (res.status === 200 || res.status === 401) return { i, res };
      throw new Error(`/v2/ answered HTTP ${res.status}`);
    }).catch((error: unknown) => {
      errors[i] = error;
      throw error;
    });
    let grace: NodeJS.Timeout | undefined;
    let answers: Promise<{ i: number; res: HttpResponse }>[];
    if (attempts.length === 1) answers = [ask(0)];
    else {
      const plain = ask(1);
      const tls = new Promise<void>((resolve) => {
        grace = setTimeout(resolve, HTTPS_GRACE_MS);
        plain.catch(() => resolve());
      }).then(() => ask(0));
      answers = [tls, plain];
    }
    let winner: { i: number; res: HttpResponse } | undefined;
    try {
      winner = await Promise.any(answers);
    } catch {
      // every scheme failed: reported below
    } finally {
      clearTimeout(grace);
    }
    if (winner) {
      const { i, res } = winner;
      this.baseUrl = new URL(`${attempts[i]!.url.protocol}//${host}/`);
      this.insecureTls = attempts[i]!.insecureTls;
      if (res.status === 401) this.challenge = parseChallenges(res.headers['www-authenticate'])[0];
      for (const [j, stop] of stops.entries()) if (j !== i) stop.abort();   // the other scheme's request (or its retries) ends
      return;
    }
    const lastError = errors[errors.length - 1];
    if (lastError instanceof TransientError) throw this.error('image.registry.unavailable', `registry ${this.options.registry} keeps failing: ${lastError.message}`);
    throw this.networkError(lastError, 'pinging /v2/');
  }

  /** One /v2/ request, retried on 5xx and 429 (and on network errors when `last`), its body read to the end. */
  private async pingOnce(url: URL, insecureTls: boolean, last: boolean, signal: AbortSignal): Promise<HttpResponse> {
    const res = await withRetries(async () => {
      const r = await request(url, { insecureTls, signal, idleTimeoutMs: 30000 });
      if (r.status >= 500 || r.status === 429) {
        discard(r);
        throw new TransientError(`HTTP ${r.status}`, { retryAfterMs: parseRetryAfter(r.headers['retry-after'] as string | undefined) });
      }
      return r;
    }, (e) => e instanceof TransientError || (isTransientNetworkError(e) && last), { policy: { ...this.retryPolicy, attempts: Math.min(3, this.retryPolicy.attempts) }, signal });
    await drain(res); // the manifest request right after reuses this connection
    return res;
  }

  private scope(): string {
    return `repository:${this.options.repository}:pull`;
  }

  private async authorization(challengeOverride?: Challenge, forceRefresh = false): Promise<string | undefined> {
    const challenge = challengeOverride ?? this.challenge;
    if (!challenge) return undefined;
    const creds = this.options.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds?.username && !creds?.password) return undefined;
      return `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') {
      throw this.error('image.registry.auth', `registry ${this.options.registry} asks for unsupported authentication "${challenge.scheme}"`);
    }
    const realm = challenge.params.realm;
    if (!realm) throw this.error('image.registry.auth', `registry ${this.options.registry} sent a Bearer challenge without a realm`);
    const service = challenge.params.service ?? '';
    const scope = challenge.params.scope ?? this.scope();
    // Keyed by a hash of the credentials too: another password must not reuse a token.
    const who = creds ? crypto.createHash('sha256').update(`${creds.username ?? ''}\0${creds.password ?? ''}\0${creds.identityToken ?? ''}`).digest('hex') : '';
    const key = [realm, service, scope, who].join('\n');
    const cached = tokenCache.get(key);
    if (cached && !forceRefresh && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(realm, service, scope);
    tokenCache.set(key, token);
    return `Bearer ${token.token}`;
  }

  /** The token service's URL from a Bearer challenge's realm, and whether its TLS is checked. */
  private tokenEndpoint(realm: string): { url: URL; insecureTls: boolean } {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw this.error('image.registry.auth', `registry ${this.options.registry} sent an invalid token realm`);
    }
    return { url, insecureTls: this.insecureTls || (this.options.tlsVerify === undefined ? !!this.options.insecure : !this.options.tlsVerify) };
  }

  private async fetchToken(realm: string, service: string, scope: string): Promise<CachedToken> {
    const creds = this.options.credentials;
    const { url, insecureTls } = this.tokenEndpoint(realm);
    let res: HttpResponse;
    try {
      res = await withRetries(async () => {
        let r: HttpResponse;
        if (creds?.identityToken) {
          const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service, client_id: 'berth' });
          if (scope) form.set('scope', scope);
          r = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), insecureTls, signal: this.options.signal });
        } else {
          const u = new URL(url);
          if (service) u.searchParams.set('service', service);
          if (scope) u.searchParams.set('scope', scope);
          if (creds?.username) u.searchParams.set('account', creds.username);
          const headers: Record<string, string> = {};
          if (creds?.username || creds?.password) headers.authorization = `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
          r = await request(u, { headers, insecureTls, signal: this.options.signal });
        }
        if (r.status >= 500 || r.status === 429) {
          discard(r);
          throw new TransientError(`token service answered HTTP ${r.status}`, { retryAfterMs: parseRetryAfter(r.headers['retry-after'] as string | undefined) });
        }
        return r;
      }, (e) => e instanceof TransientError || isTransientNetworkError(e), { policy: this.retryPolicy, signal: this.options.signal });
    } catch (error) {
      if (error instanceof TransientError) throw this.error('image.registry.auth', `token service ${url.host}: ${error.message}`);
      throw this.networkError(error, `token service ${url.host}`);
    }
    if (res.status === 401 || res.status === 403) {
      discard(res);
      throw this.error('image.registry.unauthorized', `authentication to ${this.options.registry} failed: the token service ${url.host} refused the ${creds ? 'credentials' : 'anonymous request'} (HTTP ${res.status})`);
    }
    if (res.status !== 200) {
      discard(res);
      throw this.error('image.registry.auth', `token service ${url.host} answered HTTP ${res.status}`);
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse((await readBody(res, 1024 * 1024)).toString('utf8'));
    } catch {
      throw this.error('image.registry.auth', `token service ${url.host} returned invalid JSON`);
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw this.error('image.registry.auth', `token service ${url.host} returned no token`);
    const lifetime = Math.max(60, parsed.expires_in ?? 60) * 1000;
    return { token, expires: Date.now() + lifetime - 10000 };
  }

  /**
   * Verify credentials the way `login` does: Basic against /v2/; Bearer by obtaining a token,
   * first with OAuth2 (POST, grant_type=password, access_type=offline) as Docker does, so that a
   * token service that offers a refresh token gives one: `login` stores it (auth.json's
   * "identitytoken") instead of the password. A service without OAuth2 (404/405/400) is asked with
   * GET and Basic credentials instead.
   */
  async checkLogin(): Promise<{ identityToken?: string }> {
    await this.ping();
    const challenge = this.challenge;
    if (!challenge) return {}; // the registry lets anyone in: nothing to verify
    if (challenge.scheme === 'bearer') {
      const realm = challenge.params.realm ?? '';
      const service = challenge.params.service ?? '';
      const creds = this.options.credentials;
      if (creds?.username && creds.password !== undefined && !creds.identityToken) {
        const refresh = await this.passwordGrant(realm, service);
        if (refresh !== undefined) return refresh ? { identityToken: refresh } : {};
      }
      await this.fetchToken(realm, service, '');
      return {};
    }
    const auth = await this.authorization();
    const res = await request(new URL('/v2/', this.baseUrl), { headers: auth ? { authorization: auth } : {}, insecureTls: this.insecureTls, signal: this.options.signal });
    discard(res);
    if (res.status === 401 || res.status === 403) {
      throw this.error('image.registry.unauthorized', `login to ${this.options.registry} failed: invalid username/password (HTTP ${res.status})`);
    }
    if (res.status !== 200) throw this.error('image.registry.failed', `login to ${this.options.registry}: /v2/ answered HTTP ${res.status}`);
    return {};
  }

  /**
   * OAuth2 password grant at the token realm. Returns the refresh token ('' when the service
   * accepted the credentials but gave none), or undefined when the service does not speak OAuth2.
   */
  private async passwordGrant(realm: string, service: string): Promise<string | undefined> {
    const creds = this.options.credentials!;
    const { url, insecureTls } = this.tokenEndpoint(realm);
    const form = new URLSearchParams({ grant_type: 'password', username: creds.username ?? '', password: creds.password ?? '', service, client_id: 'berth', access_type: 'offline' });
    let res: HttpResponse;
    try {
      res = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), insecureTls, signal: this.options.signal });
    } catch (error) {
      throw this.networkError(error, `token service ${url.host}`);
    }
    if ([400, 404, 405].includes(res.status)) {
      discard(res);
      return undefined;
    }
    if (res.status === 401 || res.status === 403) {
      discard(res);
      throw this.error('image.registry.unauthorized', `login to ${this.options.registry} failed: the token service ${url.host} refused the credentials (HTTP ${res.status})`);
    }
    if (res.status !== 200) {
      discard(res);
      throw this.error('image.registry.auth', `token service ${url.host} answered HTTP ${res.status}`);
    }
    try {
      const parsed = JSON.parse((await readBody(res, 1024 * 1024)).toString('utf8')) as { refresh_token?: unknown };
      return typeof parsed.refresh_token === 'string' ? parsed.refresh_token : '';
    } catch {
      throw this.error('image.registry.auth', `token service ${url.host} returned invalid JSON`);
    }
  }

  /** A GET on the registry with auth; re-authenticates once on 401 (new scope, expired token). */
  private async get(path: string, headers: Record<string, string>): Promise<HttpResponse> {
    await this.ping();
    const url = new URL(path, this.baseUrl);
    let auth = await this.authorization();
    let res = await request(url, { headers: auth ? { ...headers, authorization: auth } : headers, insecureTls: this.insecureTls, signal: this.options.signal });
    if (res.status === 401) {
      const challenge = parseChallenges(res.headers['www-authenticate'])[0];
      if (challenge && (challenge.scheme === 'bearer' || !auth)) {
        discard(res);
        if (!this.challenge) this.challenge = challenge;
        auth = await this.authorization(challenge, true);
        res = await request(url, { headers: auth ? { ...headers, authorization: auth } : headers, insecureTls: this.insecureTls, signal: this.options.signal });
      }
    }
    return res;
  }

  private async failure(res: HttpResponse, what: string): Promise<never> {
    const detail = await registryErrorText(res);
    const suffix = detail ? `: ${detail}` : '';
    if (res.status === 401 || res.status === 403) {
      const who = this.options.credentials ? 'the credentials were refused' : 'authentication required (berth login?)';
      throw this.error('image.registry.unauthorized', `${what}: ${who} (HTTP ${res.status} from ${this.options.registry})${suffix}`);
    }
    if (res.status === 404) throw this.error('image.registry.not-found', `${what}: not found in ${this.options.registry} (HTTP 404)${suffix}`);
    if (res.status === 429 || res.status >= 500) {
      throw new TransientError(`${what}: HTTP ${res.status} from ${this.options.registry}${suffix}`, { retryAfterMs: parseRetryAfter(res.headers['retry-after'] as string | undefined) });
    }
    throw this.error('image.registry.failed', `${what}: HTTP ${res.status} from ${this.options.registry}${suffix}`);
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(fn, (e) => e instanceof TransientError || isTransientNetworkError(e), { policy: this.retryPolicy, signal: this.options.signal });
    } catch (error) {
      if (error instanceof TransientError) throw this.error('image.registry.unavailable', error.message, {}, error);
      if (error instanceof ImageError) throw error;
      if (this.options.signal?.aborted) throw this.error('image.pull.aborted', `${what}: aborted`);
      throw this.networkError(error, what);
    }
  }

  /** GET a manifest (tag or digest); verifies a requested digest. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const what = `manifest ${reference}`;
    return this.retrying(what, async () => {
      const res = await this.get(`/v2/${this.options.repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
      if (res.status !== 200) return this.failure(res, what);
      const body = await readBody(res, MANIFEST_LIMIT).catch((error) => {
        if (error instanceof HttpError && error.code === 'ETOOLARGE') throw this.error('image.manifest.invalid', `${what} is larger than ${MANIFEST_LIMIT} bytes`);
        throw error;
      });
      const digest = sha256Digest(body);
      if (reference.includes(':') && reference !== digest) {
        throw this.error('image.manifest.digest-mismatch', `${what}: the registry sent content with digest ${digest}`, { digest: reference });
      }
      const contentType = String(res.headers['content-type'] ?? '').split(';')[0].trim();
      return { mediaType: contentType, digest, body };
    });
  }

  /**
   * The blob's bytes from `offset` on. Opens the request only when iterated; follows redirects
   * (credentials kept only on the same origin). When the server ignores Range, the first
   * `offset` bytes are skipped here, so the caller always gets exactly the rest.
   */
  async *blob(digest: string, offset = 0, onResponse?: (info: { total?: number; resumed: boolean }) => void): AsyncGenerator<Uint8Array> {
    const what = `blob ${digest}`;
    const res = await this.retrying(what, async () => {
      const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      let r = await this.get(`/v2/${this.options.repository}/blobs/${digest}`, range);
      for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(r.status) && r.headers.location; hops++) {
        const next = new URL(r.headers.location, r.url);
        discard(r);
        const sameOrigin = next.origin === this.baseUrl!.origin;
        const auth = sameOrigin ? await this.authorization() : undefined;
        r = await request(next, { headers: { ...range, ...(auth ? { authorization: auth } : {}) }, insecureTls: this.insecureTls, signal: this.options.signal });
      }
      if (r.status === 416 && offset > 0) {
        // The kept part is not a prefix the server recognizes: the caller starts over.
        discard(r);
        throw this.error('image.blob.range', `${what}: the registry refused to resume at byte ${offset}`, { digest });
      }
      if (r.status !== 200 && r.status !== 206) return this.failure(r, what);
      return r;
    });
    const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
    const resumed = res.status === 206;
    onResponse?.({ total: length === undefined ? undefined : resumed ? offset + length : length, resumed });
    let skip = resumed ? 0 : offset;
    let received = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (skip > 0) {
        if (chunk.length <= skip) {
          skip -= chunk.length;
          continue;
        }
        const rest = chunk.subarray(skip);
        skip = 0;
        yield rest;
        continue;
      }
      yield chunk;
    }
    if (length !== undefined && received < length) {
      throw new HttpError(`${what}: connection closed after ${received} of ${length} bytes`, 'EPREMATURE');
    }
  }
}
