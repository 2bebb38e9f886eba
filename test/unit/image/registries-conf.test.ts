import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findRegistry, loadRegistriesConfig, recordAlias } from '../../../src/image/registries-conf.js';
import { pullSources } from '../../../src/image/pull-sources.js';
import { formatReference, normalizeReference } from '../../../src/image/reference.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  fs.mkdirSync('/var/tmp/berth-unit', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-unit/regconf-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function envFor(dir: string, main: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const file = path.join(dir, 'registries.conf');
  fs.writeFileSync(file, main);
  fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
  return { HOME: path.join(dir, 'home'), CONTAINERS_REGISTRIES_CONF: file, BERTH_REGISTRIES_CONF_DIR: path.join(dir, 'conf.d'),
    BERTH_SHORT_NAME_ALIASES_CONF: path.join(dir, 'cache', 'short-name-aliases.conf'), ...extra };
}

test('reads v2: search registries, mode, aliases, registries with mirrors; drop-ins override in order', (t) => {
  const dir = scratch(t);
  const env = envFor(dir, `
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]
short-name-mode = "enforcing"
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"old" = "quay.io/old"
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror-a.example.com/hub"
[[registry.mirror]]
location = "mirror-b.example.com"
insecure = true
[[registry]]
location = "internal.example.com:5000"
insecure = true
[[registry]]
location = "evil.example.com"
blocked = true
[[registry]]
prefix = "example.com/foo"
location = "rewritten.example.net/bar"
`);
  fs.mkdirSync(path.join(dir, 'conf.d'));
  fs.writeFileSync(path.join(dir, 'conf.d', '10-a.conf'), '[aliases]\n"old" = ""\n"app" = "quay.io/team/app"\n');
  fs.writeFileSync(path.join(dir, 'conf.d', '20-b.conf'), 'short-name-mode = "permissive"\n[[registry]]\nlocation = "internal.example.com:5000"\ninsecure = false\n');
  fs.writeFileSync(path.join(dir, 'conf.d', 'ignored.txt'), 'not = [valid');
  const config = loadRegistriesConfig({ env });
  assert.deepEqual(config.unqualifiedSearchRegistries, ['registry.fedoraproject.org', 'docker.io']);
  assert.equal(config.shortNameMode, 'permissive');
  assert.equal(config.aliases.get('fedora')?.value, 'registry.fedoraproject.org/fedora');
  assert.equal(config.aliases.has('old'), false, 'an empty value removes an alias');
  assert.equal(config.aliases.get('app')?.value, 'quay.io/team/app');
  assert.equal(findRegistry(config, 'internal.example.com:5000/x')?.insecure, false, 'a later drop-in replaces the entry with the same prefix');

  const hub = pullSources(config, normalizeReference('docker.io/library/nginx:1'));
  assert.deepEqual(hub.map((s) => [formatReference(s.ref), s.insecure, s.mirror]), [
    ['mirror-a.example.com/hub/library/nginx:1', false, true],
    ['mirror-b.example.com/library/nginx:1', true, true],
    ['docker.io/library/nginx:1', false, false],
  ]);
  assert.deepEqual(pullSources(config, normalizeReference('example.com/foo/baz:2')).map((s) => formatReference(s.ref)), ['rewritten.example.net/bar/baz:2']);
  assert.deepEqual(pullSources(config, normalizeReference('example.com/foobar:2')).map((s) => formatReference(s.ref)), ['example.com/foobar:2'], 'prefix matches whole components only');
  assert.throws(() => pullSources(config, normalizeReference('evil.example.com/x')), /blocked/);
});

test('mirror-by-digest-only / pull-from-mirror limit mirrors', (t) => {
  const dir = scratch(t);
  const env = envFor(dir, `
[[registry]]
location = "r.example.com"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m.example.com"
[[registry]]
location = "t.example.com"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "tm.example.com"
`);
  const config = loadRegistriesConfig({ env });
  const digest = `sha256:${'b'.repeat(64)}`;
  assert.equal(pullSources(config, normalizeReference('r.example.com/x:1')).length, 1);
  assert.equal(pullSources(config, normalizeReference(`r.example.com/x@${digest}`)).length, 2);
  assert.equal(pullSources(config, normalizeReference('t.example.com/x:1')).length, 2);
  assert.equal(pullSources(config, normalizeReference(`t.example.com/x@${digest}`)).length, 1);
});

test('v1 format, wildcard prefixes, user file replaces the system file', (t) => {
  const dir = scratch(t);
  const env = envFor(dir, '[registries.search]\nregistries = ["a.example.com"]\n[registries.insecure]\nregistries = ["b.example.com"]\n[registries.block]\nregistries = ["c.example.com"]\n');
  const config = loadRegistriesConfig({ env });
  assert.deepEqual(config.unqualifiedSearchRegistries, ['a.example.com']);
  assert.equal(findRegistry(config, 'b.example.com/x')?.insecure, true);
  assert.equal(findRegistry(config, 'c.example.com/x')?.blocked, true);

  const env2 = envFor(dir, '[[registry]]\nprefix = "*.corp.example"\ninsecure = true\n');
  assert.equal(findRegistry(loadRegistriesConfig({ env: env2 }), 'reg.corp.example/x')?.insecure, true);

  const home = path.join(dir, 'home2');
  fs.mkdirSync(path.join(home, '.config', 'containers'), { recursive: true });
  fs.writeFileSync(path.join(home, '.config', 'containers', 'registries.conf'), 'unqualified-search-registries = ["user.example.com"]\n');
  const userConfig = loadRegistriesConfig({ env: { HOME: home, BERTH_REGISTRIES_CONF_DIR: path.join(dir, 'none'), BERTH_SHORT_NAME_ALIASES_CONF: path.join(dir, 'none.conf') } });
  assert.deepEqual(userConfig.unqualifiedSearchRegistries, ['user.example.com']);
  assert.deepEqual(userConfig.files, [path.join(home, '.config', 'containers', 'registries.conf')]);
});

test('errors name the file, line and key', (t) => {
  const dir = scratch(t);
  const cases: [string, RegExp][] = [
    ['unqualified-search-registries = "docker.io"\n', /registries\.conf: unqualified-search-registries: must be an array of strings/],
    ['short-name-mode = "strict"\n', /short-name-mode: "strict" is not enforcing, permissive or disabled/],
    ['[aliases]\n"x" = "noregistry"\n', /aliases\."x": value "noregistry" must include a registry/],
    ['[aliases]\n"x" = "quay.io/x:1"\n', /must not contain a tag or digest/],
    ['[aliases]\n"quay.io/x" = "quay.io/x"\n', /must be a short name/],
    ['[[registry]]\ninsecure = true\n', /registry\[0\]: needs a location or a prefix/],
    ['[[registry]]\nlocation = "https://x.example"\n', /must not contain a scheme/],
    ['[[registry]]\nlocation = "x.example"\ninsecure = "yes"\n', /registry\[0\]\.insecure: must be true or false/],
    ['a = 1\nb = [\n', /registries\.conf:\d+: invalid TOML/],
    ['[registries.search]\nregistries = []\n[[registry]]\nlocation = "x"\n', /mixes the v1 format/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => loadRegistriesConfig({ env: envFor(dir, text) }), (e: Error & { code: string; context: Record<string, unknown> }) => {
      assert.equal(e.code, 'image.registries-conf.invalid');
      assert.match(e.message, why);
      assert.ok(e.message.startsWith(path.join(dir, 'registries.conf')), e.message);
      return true;
    }, text);
  }
});

test('recordAlias writes the cache (0600) and the cache overrides registries.conf aliases', (t) => {
  const dir = scratch(t);
  const env = envFor(dir, '[aliases]\n"web" = "a.example.com/web"\n');
  const config = loadRegistriesConfig({ env });
  recordAlias(config, 'web', 'b.example.com/web');
  recordAlias(config, 'db', 'b.example.com/db');
  const file = env.BERTH_SHORT_NAME_ALIASES_CONF!;
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(file, 'utf8'), /^\[aliases\]\n {2}"web" = "b\.example\.com\/web"\n {2}"db" = "b\.example\.com\/db"\n$/);
  const again = loadRegistriesConfig({ env });
  assert.equal(again.aliases.get('web')?.value, 'b.example.com/web');
  assert.equal(again.aliases.get('web')?.file, file);
});
