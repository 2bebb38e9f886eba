import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandTable } from '../../../src/cli/commands/index.js';
import { commandWord } from '../../../src/cli/main.js';

const repo = fileURLToPath(new URL('../../../..', import.meta.url));

test('every table row loads the module of the command it names', async () => {
  for (const entry of commandTable) {
    const module = await entry.load();
    assert.equal(String(module.command).split(' ')[0], entry.name, `row ${entry.name}`);
  }
});

test('commandWord finds the command after global flags only', () => {
  assert.equal(commandWord(['run', '--rm', 'img', 'true']), 'run');
  assert.equal(commandWord(['--root=/r', '--runroot', '/rr', '--log-level', 'debug', 'ps', '-a']), 'ps');
  assert.equal(commandWord(['--root', 'run', 'ps']), 'ps', 'a global flag value is not the command');
  assert.equal(commandWord(['--help']), undefined);
  assert.equal(commandWord(['--other', 'run']), undefined, 'unknown leading flag: load everything');
  assert.equal(commandWord(['nosuch']), undefined);
  assert.equal(commandWord([]), undefined);
});

test('bin/berth.js from another directory: help lists every command, version is the package\'s', () => {
  const bin = `${repo}bin/berth.js`;
  const help = execFileSync(process.execPath, [bin, '--help'], { cwd: '/', encoding: 'utf8' });
  for (const entry of commandTable.filter((e) => e.name !== 'cleanup')) assert.match(help, new RegExp(`berth ${entry.name}\\b`), entry.name);
  const version = JSON.parse(fs.readFileSync(`${repo}package.json`, 'utf8')).version as string;
  assert.equal(execFileSync(process.execPath, [bin, '--version'], { cwd: '/', encoding: 'utf8' }).trim(), version);
  const ps = execFileSync(process.execPath, [bin, '--root=/var/tmp/berth-cli-table-test/root', '--runroot=/var/tmp/berth-cli-table-test/run', 'ps', '-a'], { cwd: '/', encoding: 'utf8' });
  fs.rmSync('/var/tmp/berth-cli-table-test', { recursive: true, force: true });
  assert.match(ps, /^CONTAINER ID/);
});

test('run --help before the image prints run\'s help; after the image it belongs to the container', async () => {
  const { helpBeforeImage } = await import('../../../src/cli/commands/container-flags.js');
  assert.equal(helpBeforeImage(['run', '--help']), true);
  assert.equal(helpBeforeImage(['--root', '/r', 'create', '--rm', '--help']), true);
  assert.equal(helpBeforeImage(['run', 'img', 'sh', '--help']), false);
  assert.equal(helpBeforeImage(['run', '-h', 'box', 'img']), false, '-h is --hostname for run, as in Podman');
  const out = execFileSync(process.execPath, [`${repo}bin/berth.js`, 'run', '--help'], { cwd: '/', encoding: 'utf8' });
  assert.match(out, /berth run \[image\] \[command\.\.\]/);
  assert.match(out, /--publish/);
});
