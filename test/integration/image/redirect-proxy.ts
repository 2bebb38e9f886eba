/**
 * A test fake for registries that keep blobs in object storage (S3, GCS, a CDN) and answer a blob
 * GET with a 307 to a signed URL elsewhere: an HTTP proxy in front of docker-registry that
 * forwards everything, except blob GETs, which it redirects: layers to a separate "storage"
 * server (another origin, serving the files from the registry's own storage), the config to a
 * path on the proxy itself (same origin, forwarded to the registry). Both record the headers
 * they receive, so a test can see where the Authorization header went.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { TestRegistry } from '../../support/registry.js';
import { registryBlobPath } from '../../support/registry.js';

export interface SeenRequest { path: string; authorization?: string; status: number }

export interface RedirectProxy {
  host: string;
  storageHost: string;
  /** Requests to the proxy's same-origin redirect target. */
  sameOrigin: SeenRequest[];
  /** Requests to the storage server (the other origin). */
  storage: SeenRequest[];
  stop(): Promise<void>;
}

export async function startRedirectProxy(registry: TestRegistry, options: { sameOriginDigests: Set<string> }): Promise<RedirectProxy> {
  const [registryHost, registryPort] = registry.host.split(':');
  const seen: Pick<RedirectProxy, 'sameOrigin' | 'storage'> = { sameOrigin: [], storage: [] };

  const storage = http.createServer((req, res) => {
    const hex = /^\/storage\/([0-9a-f]{64})\?sig=/.exec(req.url ?? '')?.[1];
    const record: SeenRequest = { path: req.url ?? '', authorization: req.headers.authorization, status: 200 };
    seen.storage.push(record);
    const file = hex ? registryBlobPath(registry, `sha256:${hex}`) : '';
    if (!hex || !fs.existsSync(file)) {
      record.status = 404;
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size, 'content-type': 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, path: string): void => {
    const upstream = http.request({ host: registryHost, port: Number(registryPort), method: req.method, path, headers: { ...req.headers, host: registry.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  let storageHost = '';
  const proxy = http.createServer((req, res) => {
    const url = req.url ?? '';
    const same = /^\/_same\/([^/]+(?:\/[^/]+)*)\/(sha256:[0-9a-f]{64})\?sig=/.exec(url);
    if (same) {
      seen.sameOrigin.push({ path: url, authorization: req.headers.authorization, status: 0 });
      const record = seen.sameOrigin[seen.sameOrigin.length - 1]!;
      res.on('finish', () => (record.status = res.statusCode));
      forward(req, res, `/v2/${same[1]}/blobs/${same[2]}`);
      return;
    }
    const blob = req.method === 'GET' ? /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url) : null;
    if (blob) {
      const location = options.sameOriginDigests.has(blob[2]!)
        ? `/_same/${blob[1]}/${blob[2]}?sig=same`
        : `http://${storageHost}/storage/${blob[2]!.slice(7)}?sig=other`;
      res.writeHead(307, { location, 'content-length': 0 }).end();
      return;
    }
    forward(req, res, url);
  });

  const listen = (server: http.Server): Promise<string> => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)));
  storageHost = await listen(storage);
  const host = await listen(proxy);
  const close = (server: http.Server): Promise<void> => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return { host, storageHost, ...seen, stop: async () => { await close(proxy); await close(storage); } };
}
