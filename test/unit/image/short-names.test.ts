import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegistriesConfig } from '../../../src/image/registries-conf.js';
import { formatReference } from '../../../src/image/reference.js';
import { resolveName } from '../../../src/image/short-names.js';

function config(overrides: Partial<RegistriesConfig>): RegistriesConfig {
  return { unqualifiedSearchRegistries: ['registry.fedoraproject.org', 'docker.io'], shortNameMode: 'enforcing', aliases: new Map(),
    registries: [], files: ['/etc/containers/registries.conf'], aliasCacheFile: '/nonexistent', ...overrides };
}
const names = (r: { candidates: Parameters<typeof formatReference>[0][] }): string[] => r.candidates.map(formatReference);

test('fully qualified names skip resolution', async () => {
  const r = await resolveName('quay.io/a/b:1', config({}));
  assert.equal(r.rationale, 'qualified');
  assert.deepEqual(names(r), ['quay.io/a/b:1']);
});

test('an alias wins; the tag or digest of the input is kept', async () => {
  const c = config({ aliases: new Map([['nginx', { value: 'quay.io/nginx/nginx', file: 'x.conf' }], ['hub', { value: 'docker.io/hub', file: 'x.conf' }]]) });
  assert.deepEqual(names(await resolveName('nginx:1.25', c)), ['quay.io/nginx/nginx:1.25']);
  const digest = `sha256:${'c'.repeat(64)}`;
  assert.deepEqual(names(await resolveName(`nginx@${digest}`, c)), [`quay.io/nginx/nginx@${digest}`]);
  assert.deepEqual(names(await resolveName('hub', c)), ['docker.io/library/hub:latest']);
  assert.equal((await resolveName('nginx', c)).rationale, 'alias');
});

test('enforcing with one search registry: no question', async () => {
  const r = await resolveName('nginx', config({ unqualifiedSearchRegistries: ['docker.io'] }));
  assert.deepEqual(names(r), ['docker.io/library/nginx:latest']);
});

test('enforcing with several candidates: prompt on a terminal, else an error listing them', async () => {
  let asked: string[] = [];
  const r = await resolveName('nginx', config({}), { prompt: async (title, choices) => { asked = [title, ...choices]; return 1; } });
  assert.deepEqual(asked, ['Please select an image:', 'registry.fedoraproject.org/nginx:latest', 'docker.io/library/nginx:latest']);
  assert.equal(r.rationale, 'prompt');
  assert.deepEqual(names(r), ['docker.io/library/nginx:latest']);
  await assert.rejects(resolveName('nginx', config({})), (e: Error & { code: string }) => {
    assert.equal(e.code, 'image.short-name.ambiguous');
    assert.match(e.message, /cannot prompt without a TTY: "nginx" could be any of registry\.fedoraproject\.org\/nginx:latest, docker\.io\/library\/nginx:latest/);
    return true;
  });
});

test('permissive and disabled try every candidate in order; a digest needs no question', async () => {
  assert.deepEqual(names(await resolveName('app', config({ shortNameMode: 'permissive' }))), ['registry.fedoraproject.org/app:latest', 'docker.io/library/app:latest']);
  let prompted = false;
  const r = await resolveName('app', config({ shortNameMode: 'disabled' }), { prompt: async () => { prompted = true; return 0; } });
  assert.equal(prompted, false);
  assert.equal(r.candidates.length, 2);
  const digest = `sha256:${'d'.repeat(64)}`;
  assert.equal((await resolveName(`app@${digest}`, config({}))).candidates.length, 2);
});

test('no search registries: error naming the file', async () => {
  await assert.rejects(resolveName('nginx', config({ unqualifiedSearchRegistries: [], searchRegistriesFile: '/x/registries.conf' })),
    /short-name "nginx" did not resolve to an alias and no unqualified-search registries are defined in \/x\/registries\.conf/);
});
