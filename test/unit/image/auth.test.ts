import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { authFilePaths, defaultAuthFile, getCredentials, lookupKeys, normalizeAuthKey, removeCredentials, storeCredentials } from '../../../src/image/auth.js';
import { redact } from '../../../src/errors/index.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  fs.mkdirSync('/var/tmp/berth-unit', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-unit/auth-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('file order: XDG_RUNTIME_DIR, XDG_CONFIG_HOME, docker config; an explicit file alone', () => {
  const env = { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' };
  assert.deepEqual(authFilePaths({ env }), ['/run/user/7/containers/auth.json', '/h/.config/containers/auth.json', '/h/.docker/config.json']);
  assert.deepEqual(authFilePaths({ env: { ...env, REGISTRY_AUTH_FILE: '/x.json' } }), ['/x.json']);
  assert.deepEqual(authFilePaths({ env, authfile: '/y.json' }), ['/y.json']);
  assert.equal(defaultAuthFile({ env: { HOME: '/h' } }), `/run/containers/${process.getuid!()}/auth.json`);
});

test('keys: legacy Docker URLs normalized; namespaced keys most specific first', () => {
  assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeAuthKey('http://reg.example:5000/v2/'), 'reg.example:5000');
  assert.equal(normalizeAuthKey('quay.io/team'), 'quay.io/team');
  assert.deepEqual(lookupKeys('quay.io', 'team/app'), ['quay.io/team/app', 'quay.io/team', 'quay.io']);
});

test('reads auth.json and docker config.json, namespaced entries, identity tokens', async (t) => {
  const dir = scratch(t);
  const runtime = path.join(dir, 'run');
  fs.mkdirSync(path.join(runtime, 'containers'), { recursive: true });
  fs.writeFileSync(path.join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: {
    'quay.io': { auth: b64('general:pw1') }, 'quay.io/team': { auth: b64('team:pw:with:colons') },
  } }));
  fs.mkdirSync(path.join(dir, 'home', '.docker'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'home', '.docker', 'config.json'), JSON.stringify({ auths: {
    'https://index.docker.io/v1/': { auth: b64('hubuser:hubpw') }, 'ghcr.io': { identitytoken: 'refresh-me' },
  } }));
  const env = { HOME: path.join(dir, 'home'), XDG_RUNTIME_DIR: runtime };
  assert.deepEqual(await getCredentials('quay.io', 'team/app', { env }), { username: 'team', password: 'pw:with:colons' });
  assert.deepEqual(await getCredentials('quay.io', 'other/app', { env }), { username: 'general', password: 'pw1' });
  assert.deepEqual(await getCredentials('docker.io', 'library/nginx', { env }), { username: 'hubuser', password: 'hubpw' });
  assert.deepEqual(await getCredentials('ghcr.io', 'x', { env }), { identityToken: 'refresh-me' });
  assert.equal(await getCredentials('nowhere.example', 'x', { env }), undefined);
});

test('credential helpers: credHelpers per registry and credsStore, via docker-credential-NAME', async (t) => {
  const dir = scratch(t);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // A real helper program speaking the protocol: reads the server on stdin, answers JSON.
  fs.writeFileSync(path.join(bin, 'docker-credential-berthtest'), `#!/bin/sh
read server
case "$1:$server" in
  get:helped.example) echo '{"ServerURL":"helped.example","Username":"helper-user","Secret":"helper-secret"}' ;;
  get:tok.example) echo '{"ServerURL":"tok.example","Username":"<token>","Secret":"idtok"}' ;;
  get:*) echo "credentials not found in native keychain"; exit 1 ;;
  store:*) printf '%s' "$server" > "$(dirname "$0")/stored.json" ;;
esac
`, { mode: 0o755 });
  const file = path.join(dir, 'auth.json');
  fs.writeFileSync(file, JSON.stringify({ credHelpers: { 'helped.example': 'berthtest' }, credsStore: 'berthtest', auths: { 'plain.example': { auth: b64('p:q') } } }));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath}`;
  t.after(() => { process.env.PATH = oldPath; });
  const env = { HOME: dir };
  assert.deepEqual(await getCredentials('helped.example', 'a', { env, authfile: file }), { username: 'helper-user', password: 'helper-secret' });
  assert.deepEqual(await getCredentials('tok.example', 'a', { env, authfile: file }), { identityToken: 'idtok' });
  assert.deepEqual(await getCredentials('plain.example', 'a', { env, authfile: file }), { username: 'p', password: 'q' });
  assert.equal(await getCredentials('unknown.example', 'a', { env, authfile: file }), undefined);
  // An identity token goes to the helper as Docker sends it: Username "<token>", the token as Secret.
  assert.equal(await storeCredentials('helped.example', 'someone', 'the-password', { env, authfile: file, identityToken: 'refresh-123' }), 'docker-credential-berthtest');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(bin, 'stored.json'), 'utf8')), { ServerURL: 'helped.example', Username: '<token>', Secret: 'refresh-123' });
  fs.writeFileSync(file, JSON.stringify({ credHelpers: { 'x.example': 'missinghelper' } }));
  await assert.rejects(getCredentials('x.example', 'a', { env, authfile: file }), /docker-credential-missinghelper get failed: not found in PATH/);
});

test('store and remove: mode 0600, other entries kept; invalid JSON reported without content', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'sub', 'auth.json');
  const env = { HOME: dir };
  await storeCredentials('a.example', 'u1', 'secret-one', { env, authfile: file });
  await storeCredentials('b.example/ns', 'u2', 'secret-two', { env, authfile: file });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const content = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(content.auths), ['a.example', 'b.example/ns']);
  assert.deepEqual(await getCredentials('b.example', 'ns/app', { env, authfile: file }), { username: 'u2', password: 'secret-two' });
  assert.equal(await removeCredentials('a.example', { env, authfile: file }), true);
  assert.equal(await removeCredentials('a.example', { env, authfile: file }), false);
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).auths), ['b.example/ns']);
  // With an identity token (login at an OAuth2 token service): the token, not the password, as Docker writes it.
  await storeCredentials('c.example', 'u3', 'secret-three', { env, authfile: file, identityToken: 'refresh-456' });
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).auths['c.example'], { auth: b64('u3:'), identitytoken: 'refresh-456' });
  assert.ok(!fs.readFileSync(file, 'utf8').includes('secret-three'));
  assert.deepEqual(await getCredentials('c.example', 'app', { env, authfile: file }), { identityToken: 'refresh-456', username: 'u3' });
  assert.equal(await removeCredentials(undefined, { env, authfile: file, all: true }), true);
  fs.writeFileSync(file, '{"auths": {"x": {"auth": "c2VjcmV0LXRocmVl"}');
  await assert.rejects(getCredentials('x', undefined, { env, authfile: file }), (e: Error) => {
    assert.match(e.message, /auth\.json: invalid JSON/);
    assert.ok(!e.message.includes('c2VjcmV0LXRocmVl'));
    return true;
  });
});

test('redact removes credentials from text', () => {
  const text = 'GET https://user:hunter2@reg.example/v2/ authorization: Basic dXNlcjpodW50ZXIy {"auth":"dXNlcjpodW50ZXIy","password":"hunter2"}';
  const out = redact(text);
  assert.ok(!out.includes('hunter2') && !out.includes('dXNlcjpodW50ZXIy'), out);
});
