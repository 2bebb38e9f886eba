/**
 * A small HTTP(S) client on node:http/https for the registry API: keep-alive agents, TLS
 * verification unless told otherwise, abort signals, streamed bodies. No redirects here (the
 * registry client follows them, dropping credentials when the origin changes).
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Accept any server certificate (insecure registries, --tls-verify=false). */
  insecureTls?: boolean;
  signal?: AbortSignal;
  /** Idle socket timeout; the request fails with ETIMEDOUT when no byte arrives for this long. */
  idleTimeoutMs?: number;
}

export interface HttpResponse {
  url: URL;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let httpsAgents: { verified: https.Agent; insecure: https.Agent } | undefined;

/**
 * Made at the first HTTPS request: node:https (and TLS) is loaded only then (bin/cjs-interop.cjs),
 * which a pull from a plain-HTTP registry never pays (~8 ms of the main thread).
 */
function httpsAgent(insecure: boolean): https.Agent {
  httpsAgents ??= {
    verified: new https.Agent({ keepAlive: true, maxSockets: 16 }),
    // No CA list at all: nothing is verified, and Node would otherwise parse its ~140 built-in roots
    // (and NODE_EXTRA_CA_CERTS) for this context, ~50 ms before the first HTTPS try of an insecure registry.
    insecure: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, ca: [] }),
  };
  return insecure ? httpsAgents.insecure : httpsAgents.verified;
}

export class HttpError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function request(url: URL, options: HttpRequest = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const agent = isHttps ? httpsAgent(options.insecureTls === true) : httpAgent;
    const headers: Record<string, string> = { 'user-agent': 'berth/0.1', ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = (isHttps ? https : http).request(url, { method: options.method ?? 'GET', headers, agent, signal: options.signal }, (res) => {
      resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.setTimeout(options.idleTimeoutMs ?? 60000, () => req.destroy(new HttpError(`no response from ${url.host} within ${(options.idleTimeoutMs ?? 60000) / 1000} s`, 'ETIMEDOUT')));
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function readBody(res: HttpResponse, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.body.destroy();
      throw new HttpError(`response from ${res.url.host} larger than ${limit} bytes`, 'ETOOLARGE');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drain and discard a body so the socket can be reused. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

/**
 * Read a small body to its end and drop it: its keep-alive socket is then free for the very next
 * request (after discard() it is freed only later, and that request opens a new connection: one
 * more TCP and, for HTTPS, TLS handshake). A body over `limit` is cut off (that socket is not reused).
 */
export async function drain(res: HttpResponse, limit = 64 * 1024): Promise<void> {
  try {
    await readBody(res, limit);
  } catch {
    // too large, or the connection broke: nothing to reuse, nothing the caller needs
  }
}

/** Network-level failures worth retrying (resets, refused, timeouts, DNS hiccups). */
export function isTransientNetworkError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'ENETUNREACH', 'EHOSTUNREACH',
    'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'EPREMATURE'].includes(code ?? '') || /socket hang up|aborted/i.test((error as Error)?.message ?? '');
}
