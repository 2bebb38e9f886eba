/**
 * The yargs-free command lines (src/cli/fast-path.ts, option-table.ts): the same values and
 * errors as through yargs, a fallback to yargs for anything else, and the CommonJS bundle with
 * its code cache as bin/berth.js loads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { BerthError } from '../../../src/errors/index.js';
import { OptionIndex, parsePlain, registerOptions, splitTokens, type OptionSpec } from '../../../src/cli/option-table.js';
import { fastCommand } from '../../../src/cli/fast-path.js';
import { parseWithTrailingCommand } from '../../../src/cli/commands/argv-split.js';
import { containerFlags, parseRunArgs, parseRunTokens } from '../../../src/cli/commands/container-flags.js';
import { RM_OPTIONS } from '../../../src/cli/commands/rm.js';
import { PULL_OPTIONS } from '../../../src/cli/commands/pull.js';

const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const globals = { root: '/var/tmp/berth-fast-path-test/root', runroot: '/var/tmp/berth-fast-path-test/run' };

const table: OptionSpec[] = [
  { name: 'name', type: 'string' },
  { name: 'detach', aliases: ['d'], type: 'boolean', default: false },
  { name: 'interactive', aliases: ['i'], type: 'boolean', default: false },
  { name: 'env', aliases: ['e'], type: 'string', array: true },
  { name: 'read-only-tmpfs', type: 'boolean', default: true },
];

test('splitTokens: --flag=value and --flag value, -it, --no-flag, the first word and -- end the flags', () => {
  const index = new OptionIndex(table);
  const r = splitTokens(['--name=a', '-e', 'A=1', '--env=B=2', '-di', '--no-read-only-tmpfs', 'img', 'sh', '-c', '--name'], index, 1);
  assert.deepEqual(r.values, { name: 'a', env: ['A=1', 'B=2'], detach: true, interactive: true, 'read-only-tmpfs': false });
  assert.deepEqual(r.positional, ['img']);
  assert.deepEqual(r.rest, ['sh', '-c', '--name']);
  const dashed = splitTokens(['--name', 'x', '--', '-img-', '--detach'], index, 1);
  assert.deepEqual(dashed.positional, ['-img-']);
  assert.deepEqual(dashed.rest, ['--detach']);
  assert.equal(dashed.values.detach, false, 'defaults filled in');
});

test('splitTokens: an unknown flag or a missing value is a usage error, exit status 125', () => {
  const index = new OptionIndex(table);
  for (const [tokens, message] of [[['--bogus', 'img'], 'unknown flag: --bogus'], [['-dx', 'img'], 'unknown flag: -x'], [['--name'], 'flag needs an argument: --name']] as const) {
    assert.throws(() => splitTokens([...tokens], index, 1), (e: unknown) => e instanceof BerthError && e.message === message && e.exitCode === 125);
  }
});

test('parsePlain: what the units emit is parsed; anything yargs reads differently is left to yargs', () => {
  const index = new OptionIndex(RM_OPTIONS);
  assert.deepEqual(parsePlain(['-v', '-f', '-i', '--cidfile=/run/x.cid'], index), {
    values: { volumes: true, force: true, ignore: true, cidfile: ['/run/x.cid'], all: false }, positional: [],
  });
  assert.deepEqual(parsePlain(['-fi', 'a', '-t', '3', 'b'], index)?.positional, ['a', 'b']);
  assert.deepEqual(parsePlain(['--force=false', '--ignore=true', 'x'], index)?.values, { force: false, ignore: true, volumes: false, all: false });
  for (const tokens of [['--bogus', 'x'], ['-t', '3', '--time=4', 'x'], ['--', 'x'], ['--cidfile', 'f', 'x'], ['-t5', 'x'], ['--force=no', 'x'], ['-f', '-f', 'x'], ['--force', '--force=false', 'x']]) {
    assert.equal(parsePlain(tokens, index), undefined, tokens.join(' '));
  }
});

test('pull: the plain table gives the values yargs gives; help, no image and other lines go to yargs', async () => {
  const index = new OptionIndex(PULL_OPTIONS);
  for (const line of [['-q', '--tls-verify=false', 'a/b:1'], ['--tls-verify', '--authfile=/x.json', '--creds', 'u:p', 'a', 'b'], ['--platform=linux/arm64', '--quiet=true', '--tls-verify=true', 'img']]) {
    const fast = parsePlain(line, index);
    assert.ok(fast, line.join(' '));
    const slow = registerOptions(yargs(line), PULL_OPTIONS).parseSync() as Record<string, unknown> & { _: unknown[] };
    for (const o of PULL_OPTIONS) assert.deepEqual(fast.values[o.name], slow[o.name], `${line.join(' ')}: --${o.name}`);
    assert.deepEqual(fast.positional, slow._.map(String));
  }
  assert.equal(typeof await fastCommand(['--root=/r', 'pull', '-q', '--tls-verify=false', 'img']), 'function');
  for (const argv of [['pull'], ['pull', '--help'], ['pull', '--no-tls-verify', 'img'], ['pull', '--bogus', 'img'], ['pull', '-q', '-q', 'img']]) {
    assert.equal(await fastCommand(argv), undefined, argv.join(' '));
  }
});

test('run/create: the plain table gives the same ParsedRun as the yargs table', async () => {
  const lines = [
    ['--rm', '--network=none', 'img', 'true'],
    ['--name', 'web', '--cidfile=/run/web.cid', '--replace', '--rm', '--cgroups=split', '--sdnotify=conmon', '-d', '-p', '8080:80', '--net', 'none',
      '-e', 'A=1', '--env=B=2', '-l', 'k=v', '-v', '/srv:/srv:ro', '--tmpfs', '/tmp', '--cap-drop=all', '--cap-add', 'NET_ADMIN', '-it', '-h', 'box',
      '--no-read-only-tmpfs', '--read-only', '--health-cmd', 'true', '--root=/var/tmp/berth-fast-path-test/other', 'img', 'sh', '-c', 'exec "$@"', '--rm'],
    ['-u', '1000:1000', '-w', '/srv', '--entrypoint=["/bin/sh","-c"]', '--pull', 'never', '--', 'img', '--version'],
  ];
  for (const line of lines) {
    const fast = parseRunTokens(line, globals, {});
    const viaYargs = await parseWithTrailingCommand({ ...globals, '--': ['run', ...line] }, 'run', (y: Argv) => containerFlags(y), 1);
    const slow = parseRunArgs({ ...viaYargs.args, image: viaYargs.positional[0], command: viaYargs.command }, {});
    assert.deepEqual(fast, slow, line.join(' '));
  }
});

test('fastCommand: container commands after global flags only; help and everything else go to yargs', async () => {
  for (const argv of [['run', '--rm', 'img', 'true'], ['--root', '/r', '--runroot=/rr', 'create', 'img'], ['rm', '-v', '-f', '-i', '--cidfile=/x.cid'], ['stop', '-t', '10', 'web'], ['start', 'web'], ['pull', 'img']]) {
    assert.equal(typeof await fastCommand(argv), 'function', argv.join(' '));
  }
  for (const argv of [['run', '--help'], ['--help'], ['--version'], ['ps'], ['exec', 'x', 'true'], ['--debug', 'run', 'img'], ['start'], ['rm', '--bogus', 'x'], ['--root=/a', '--root=/b', 'run', 'img'], []]) {
    assert.equal(await fastCommand(argv), undefined, argv.join(' '));
  }
  const run = await fastCommand(['run', 'img', 'sh', '--help']);
  assert.equal(typeof run, 'function', '--help after the image is the container\'s');
});

test('the CommonJS bundle runs with its code cache (not rejected) and holds no yargs', () => {
  const bundle = `${repo}dist/bundle/cli/fast.cjs`;
  const source = fs.readFileSync(bundle, 'utf8');
  assert.doesNotMatch(source, /yargs-parser|yargs-factory/);
  const { loadBundle } = createRequire(import.meta.url)(`${repo}bin/berth.js`) as { loadBundle(file: string, cache?: Buffer): { exports: Record<string, unknown>; script: { cachedDataRejected?: boolean } } };
  const { exports, script } = loadBundle(bundle, fs.readFileSync(`${repo}dist/bundle/cli/fast.cache`));
  assert.equal(script.cachedDataRejected, false);
  assert.equal(typeof exports.fastMain, 'function');
});
