/**
 * A Docker-registry token service for tests, standing in for an external one (Docker Hub's
 * auth.docker.io, Quay's, …) that cannot be reached here. It checks Basic credentials, grants
 * the scopes asked for, and signs JWTs (RS256) with a certificate made by openssl at test time;
 * docker-registry trusts that certificate through `auth.token.rootcertbundle`.
 * With `oauth`, it also speaks Docker's OAuth2 flow (POST, form-encoded): grant_type=password
 * (with access_type=offline it hands out a refresh token, the "identity token") and
 * grant_type=refresh_token; without, a POST gets 404, as from a GET-only token service.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
  /** Every request the issuer answered: scope and user (for cache checks); POSTs also their grant. */
  requests: { scope: string; user?: string; status: number; grant?: string }[];
  /** Refresh tokens handed out -> their user (delete one to revoke it). */
  refreshTokens: Map<string, string>;
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export async function startTokenIssuer(dir: string, users: Record<string, string>, options: { anonymousPull?: boolean; oauth?: boolean } = {}): Promise<TokenIssuer> {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=berth-test-token-issuer'], { stdio: 'ignore' });
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const certDer = new crypto.X509Certificate(fs.readFileSync(certFile)).raw;
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenIssuer['requests'] = [];
  const refreshTokens = new Map<string, string>();

  const sign = (user: string | undefined, scope: string): string => {
    const access = scope ? scope.split(' ').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',').filter((a) => user || a === 'pull') };
    }) : [];
    const now = Math.floor(Date.now() / 1000);
    const head = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
    const signingInput = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    return `${signingInput}.${b64url(crypto.sign('sha256', Buffer.from(signingInput), key))}`;
  };

  const oauth = (res: http.ServerResponse, body: string): void => {
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type') ?? '';
    const scope = form.get('scope') ?? '';
    const refuse = (user?: string): void => {
      requests.push({ scope, user, status: 401, grant });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    };
    if (form.get('service') !== service || !form.get('client_id')) return refuse();
    let user: string | undefined;
    let refresh: string | undefined;
    if (grant === 'password') {
      user = form.get('username') ?? '';
      if (users[user] === undefined || users[user] !== form.get('password')) return refuse(user);
      if (form.get('access_type') === 'offline') {
        refresh = crypto.randomBytes(24).toString('hex');
        refreshTokens.set(refresh, user);
      }
    } else if (grant === 'refresh_token') {
      user = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!user) return refuse();
    } else {
      requests.push({ scope, status: 400, grant });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unsupported_grant_type"}');
      return;
    }
    requests.push({ scope, user, status: 200, grant });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      access_token: sign(user, scope), expires_in: 300, scope, ...(refresh ? { refresh_token: refresh } : {}),
    }));
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      if (!options.oauth) {
        requests.push({ scope: '', status: 404, grant: 'unsupported' });
        res.writeHead(404).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => oauth(res, body));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const scope = url.searchParams.get('scope') ?? '';
    let user: string | undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (users[u] !== rest.join(':')) {
        requests.push({ scope, user: u, status: 401 });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    if (!user && !options.anonymousPull) {
      requests.push({ scope, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"login required"}');
      return;
    }
    requests.push({ scope, user, status: 200 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: sign(user, scope), expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCertBundle: certFile, requests, refreshTokens,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
