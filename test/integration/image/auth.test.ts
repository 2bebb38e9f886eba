/**
 * Registry authentication against a real docker-registry: Basic (htpasswd) and Bearer tokens
 * (with a test token issuer standing in for an external service), through the library and the
 * `berth login` / `pull` / `logout` commands.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pullImage } from '../../../src/image/pull.js';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry } from '../../support/registry.js';
import { berth } from './cli.js';
import { makeScratch, useEnv } from './scratch.js';
import { startTokenIssuer } from './token-issuer.js';

const USER = 'alice';
const PASSWORD = 'pa55-word:with-colon';

test('Basic auth: anonymous refused; login verifies and stores 0600; pull with the stored login; logout', async (t) => {
  const registry = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  t.after(() => registry.stop());
  const scratch = makeScratch([registry.host]);
  t.after(() => scratch.cleanup());
  const layout = await buildImageLayout({ files: { '/secret-image': 'yes' } });
  const ref = await pushImage(layout, registry.host, 'auth/basic', { creds: { user: USER, password: PASSWORD } });
  const rootArgs = ['--root', scratch.paths.root, '--runroot', scratch.paths.runroot];
  const env = scratch.env;

  const anonymous = await berth([...rootArgs, 'pull', ref], { env });
  assert.equal(anonymous.exitCode, 125, anonymous.stderr);
  assert.match(anonymous.stderr, new RegExp(`Error: ${ref.replace(/[.]/g, '\\.')}: manifest latest: authentication required`));

  const wrong = await berth(['login', '-u', USER, '--password-stdin', registry.host], { env, input: 'not-it\n' });
  assert.equal(wrong.exitCode, 125, wrong.stderr);
  assert.match(wrong.stderr, /login to 127\.0\.0\.1:\d+ failed: invalid username\/password/);
  assert.ok(!wrong.stderr.includes('not-it'));
  assert.equal(fs.existsSync(env.REGISTRY_AUTH_FILE), false, 'nothing stored after a failed login');

  const login = await berth(['login', '-u', USER, '--password-stdin', registry.host], { env, input: `${PASSWORD}\n` });
  assert.equal(login.exitCode, 0, login.stderr);
  assert.equal(login.stdout, 'Login Succeeded!\n');
  assert.equal(fs.statSync(env.REGISTRY_AUTH_FILE).mode & 0o777, 0o600);
  const stored = JSON.parse(fs.readFileSync(env.REGISTRY_AUTH_FILE, 'utf8'));
  assert.equal(Buffer.from(stored.auths[registry.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);
  const getLogin = await berth(['login', '--get-login', registry.host], { env });
  assert.equal(getLogin.stdout, `${USER}\n`, getLogin.stderr);

  const pulled = await berth([...rootArgs, 'pull', '-q', ref], { env });
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.match(pulled.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal(pulled.stderr, '');

  const logout = await berth(['logout', registry.host], { env });
  assert.equal(logout.stdout, `Removed login credentials for ${registry.host}\n`);
  const again = await berth(['logout', registry.host], { env });
  assert.equal(again.exitCode, 125, again.stderr);
  assert.match(again.stderr, /not logged into 127\.0\.0\.1:\d+/);
  const afterLogout = await berth(['--root', path.join(scratch.dir, 'other'), 'pull', ref], { env });
  assert.equal(afterLogout.exitCode, 125, afterLogout.stderr);
});

test('Bearer tokens: scope per repository, one token per pull (cached), wrong password refused without leaking it', async (t) => {
  fs.mkdirSync('/var/tmp/berth-it-image', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-it-image/token-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const issuer = await startTokenIssuer(dir, { [USER]: PASSWORD });
  t.after(() => issuer.stop());
  const registry = await startRegistry({ token: issuer });
  t.after(() => registry.stop());
  const scratch = makeScratch([registry.host]);
  t.after(() => scratch.cleanup());
  const restore = useEnv(scratch.env);
  t.after(restore);

  const layout = await buildImageLayout({ files: { '/t': 'token' }, layers: [{ '/t2': 'two' }, { '/t3': 'three' }] });
  const ref = await pushImage(layout, registry.host, 'auth/token', { creds: { user: USER, password: PASSWORD } });

  await assert.rejects(pullImage(ref, { paths: scratch.paths, quiet: true }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.registry.unauthorized');
    assert.match(e.message, /auth\/token:latest: authentication to 127\.0\.0\.1:\d+ failed: the token service 127\.0\.0\.1:\d+ refused the anonymous request/);
    return true;
  });

  issuer.requests.length = 0;
  const handle = await pullImage(ref, { paths: scratch.paths, quiet: true, credentials: { username: USER, password: PASSWORD } });
  assert.equal(fs.readFileSync(path.join(handle.layerDirs[2], 't3'), 'utf8'), 'three');
  assert.deepEqual(issuer.requests, [{ scope: 'repository:auth/token:pull', user: USER, status: 200 }], 'one token for manifest, config and 3 layers');

  await assert.rejects(pullImage(ref, { paths: scratch.paths, quiet: true, credentials: { username: USER, password: 'wrong-secret' } }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.registry.unauthorized');
    assert.match(e.message, /refused the credentials \(HTTP 401\)/);
    assert.ok(!e.message.includes('wrong-secret'));
    return true;
  });

  // Through the CLI with an auth file written by `berth login` (token flow for login too).
  issuer.requests.length = 0;
  const login = await berth(['login', '-u', USER, '-p', PASSWORD, registry.host], { env: scratch.env });
  assert.equal(login.exitCode, 0, login.stderr);
  // This token service has no OAuth2 (POST answers 404): login falls back to GET and keeps the password.
  assert.deepEqual(issuer.requests.map((r: { grant?: string; status: number }) => `${r.grant ?? 'GET'} ${r.status}`), ['unsupported 404', 'GET 200']);
  const stored = JSON.parse(fs.readFileSync(scratch.env.REGISTRY_AUTH_FILE, 'utf8')).auths[registry.host];
  assert.deepEqual(stored, { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') });
  const pulled = await berth(['--root', path.join(scratch.dir, 'cli-root'), 'pull', ref], { env: scratch.env });
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.equal(pulled.stdout.trim(), handle.id);
  assert.match(pulled.stderr, /^Trying to pull 127\.0\.0\.1:\d+\/auth\/token:latest\.\.\./);
  assert.match(pulled.stderr, /Copying blob [0-9a-f]{12} done/);
});

test('Identity tokens: login stores the OAuth2 refresh token, not the password; pulls use it (POST refresh_token); revoked, refused', async (t) => {
  fs.mkdirSync('/var/tmp/berth-it-image', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-it-image/oauth-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const issuer = await startTokenIssuer(dir, { [USER]: PASSWORD }, { oauth: true });
  t.after(() => issuer.stop());
  const registry = await startRegistry({ token: issuer });
  t.after(() => registry.stop());
  const scratch = makeScratch([registry.host]);
  t.after(() => scratch.cleanup());
  const layout = await buildImageLayout({ files: { '/o': 'oauth' }, layers: [{ '/o2': 'two' }] });
  const ref = await pushImage(layout, registry.host, 'auth/oauth', { creds: { user: USER, password: PASSWORD } });

  const wrong = await berth(['login', '-u', USER, '-p', 'not-it', registry.host], { env: scratch.env });
  assert.notEqual(wrong.exitCode, 0);
  assert.match(wrong.stderr, /login to 127\.0\.0\.1:\d+ failed: the token service 127\.0\.0\.1:\d+ refused the credentials \(HTTP 401\)/);
  assert.ok(!wrong.stderr.includes('not-it'));
  assert.equal(fs.existsSync(scratch.env.REGISTRY_AUTH_FILE), false, 'nothing stored for a refused login');

  issuer.requests.length = 0;
  const login = await berth(['login', '-u', USER, '-p', PASSWORD, registry.host], { env: scratch.env });
  assert.equal(login.exitCode, 0, login.stderr);
  assert.deepEqual(issuer.requests, [{ scope: '', user: USER, status: 200, grant: 'password' }]);
  assert.equal(fs.statSync(scratch.env.REGISTRY_AUTH_FILE).mode & 0o777, 0o600);
  const text = fs.readFileSync(scratch.env.REGISTRY_AUTH_FILE, 'utf8');
  assert.ok(!text.includes(PASSWORD) && !text.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'the password is not stored');
  const entry = JSON.parse(text).auths[registry.host];
  assert.deepEqual(Object.keys(entry).sort(), ['auth', 'identitytoken']);
  assert.equal(Buffer.from(entry.auth, 'base64').toString(), `${USER}:`);
  assert.equal(issuer.refreshTokens.get(entry.identitytoken), USER, 'the stored token is the one the service handed out');
  const who = await berth(['login', '--get-login', registry.host], { env: scratch.env });
  assert.equal(who.stdout.trim(), USER, who.stderr);

  issuer.requests.length = 0;
  const pulled = await berth(['--root', path.join(scratch.dir, 'root-1'), 'pull', '-q', ref], { env: scratch.env });
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.deepEqual(issuer.requests, [{ scope: 'repository:auth/oauth:pull', user: USER, status: 200, grant: 'refresh_token' }]);

  issuer.refreshTokens.clear();
  const revoked = await berth(['--root', path.join(scratch.dir, 'root-2'), 'pull', '-q', ref], { env: scratch.env });
  assert.notEqual(revoked.exitCode, 0);
  assert.match(revoked.stderr, /authentication to 127\.0\.0\.1:\d+ failed: the token service 127\.0\.0\.1:\d+ refused the credentials \(HTTP 401\)/);
  assert.ok(!revoked.stderr.includes(entry.identitytoken), 'the token is not printed');
});
