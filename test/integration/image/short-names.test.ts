/**
 * Short names end to end through `berth pull`: enforcing mode with one and several candidates,
 * aliases, and the terminal prompt driven through a pseudo-terminal (util-linux `script`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ImageStore } from '../../../src/image/index.js';
import { buildImageLayout, pushImage } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { BERTH, berth } from './cli.js';
import { makeScratch } from './scratch.js';

let a: TestRegistry;
let b: TestRegistry;
const cleanups: (() => void)[] = [];

before(async () => {
  a = await startRegistry();
  b = await startRegistry();
  await pushImage(await buildImageLayout({ files: { '/origin': 'A' } }), a.host, 'sn/app');
  await pushImage(await buildImageLayout({ files: { '/origin': 'B' } }), b.host, 'sn/app');
});
after(async () => {
  for (const c of cleanups) c();
  await a?.stop();
  await b?.stop();
});

function setup(search: string[], extraConf?: string) {
  const scratch = makeScratch([a.host, b.host], { searchRegistries: search, shortNameMode: 'enforcing', extraConf });
  cleanups.push(scratch.cleanup);
  return { scratch, args: ['--root', scratch.paths.root, '--runroot', scratch.paths.runroot] };
}

async function originOf(root: string, name: string): Promise<string> {
  const store = await ImageStore.open({ root, runroot: `${root}-run`, rootless: false });
  const image = await store.findImage(name);
  assert.ok(image, `${name} stored`);
  const dirs = await store.layerDirs(image);
  return fs.readFileSync(path.join(dirs[0], 'origin'), 'utf8');
}

test('enforcing, one search registry: pulled from it without a question', async () => {
  const { scratch, args } = setup([b.host]);
  const r = await berth([...args, 'pull', '-q', 'sn/app'], { env: scratch.env });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(await originOf(scratch.paths.root, `${b.host}/sn/app:latest`), 'B');
});

test('enforcing, several candidates, no terminal: fails listing them, nothing pulled', async () => {
  const { scratch, args } = setup([a.host, b.host]);
  const r = await berth([...args, 'pull', 'sn/app:latest'], { env: scratch.env });
  assert.equal(r.exitCode, 125);
  assert.equal(r.stderr, `Error: short-name resolution enforced but cannot prompt without a TTY: "sn/app:latest" could be any of ${a.host}/sn/app:latest, ${b.host}/sn/app:latest; use a fully qualified name or add an alias in registries.conf\n`);
  assert.equal(fs.existsSync(path.join(scratch.paths.root, 'images', 'images.json')), false);
});

test('an alias resolves the short name (and the tag is kept)', async () => {
  const { scratch, args } = setup([a.host, b.host], `[aliases]\n"sn/app" = "${b.host}/sn/app"\n`);
  const r = await berth([...args, 'pull', '-q', 'sn/app:latest'], { env: scratch.env });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(await originOf(scratch.paths.root, `${b.host}/sn/app:latest`), 'B');
});

test('on a terminal: arrow-key prompt, the choice is pulled and recorded as an alias', async () => {
  const { scratch, args } = setup([a.host, b.host]);
  const command = [process.execPath, BERTH, ...args, 'pull', 'sn/app'].map((w) => `'${w}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...scratch.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let answered = false;
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (!answered && output.includes('Please select an image:') && output.includes(`${b.host}/sn/app:latest`)) {
      answered = true;
      child.stdin.write('\x1b[B'); // down: the second candidate
      setTimeout(() => child.stdin.write('\r'), 200);
    }
  });
  const code = await done;
  clearTimeout(timer);
  assert.equal(code, 0, output);
  assert.ok(output.includes(`▸ ${a.host}/sn/app:latest`), 'first candidate preselected');
  assert.match(output, /[0-9a-f]{64}/);
  assert.equal(await originOf(scratch.paths.root, `${b.host}/sn/app:latest`), 'B');
  const aliases = fs.readFileSync(scratch.env.BERTH_SHORT_NAME_ALIASES_CONF, 'utf8');
  assert.equal(aliases, `[aliases]\n  "sn/app" = "${b.host}/sn/app"\n`);

  // Next time the recorded alias answers without a terminal.
  const again = await berth([...args, 'pull', '-q', 'sn/app'], { env: scratch.env });
  assert.equal(again.exitCode, 0, again.stderr);
});
