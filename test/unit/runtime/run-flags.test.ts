import test from 'node:test';
import assert from 'node:assert/strict';
import { parseRunCommandLine } from '../../../src/cli/commands/container-flags.js';

const parse = (tokens: string[]) => parseRunCommandLine({ '--': ['run', ...tokens] }, 'run', {});

test('everything after the image belongs to the container command', async () => {
  const r = await parse(['--rm', '-d', '-e', 'A=1', '--env=B=2', '-v', '/a:/b:ro', '--name=web', '--network', 'none', 'img', 'sh', '-c', 'echo x', '--rm', '-e']);
  assert.equal(r.image, 'img');
  assert.deepEqual(r.options.command, ['sh', '-c', 'echo x', '--rm', '-e']);
  assert.equal(r.options.rm, true);
  assert.equal(r.detach, true);
  assert.deepEqual(r.options.env, { A: '1', B: '2' });
  assert.deepEqual(r.options.mounts, [{ kind: 'bind', source: '/a', destination: '/b', options: ['ro'] }]);
  assert.equal(r.options.name, 'web');
  assert.deepEqual(r.options.network, ['none']);
});

test('defaults, negated booleans, short clusters, the Quadlet ExecStart line', async () => {
  const r = await parse(['--name', 'systemd-web', '--cidfile=/run/web.cid', '--replace', '--rm', '--cgroups=split', '--sdnotify=conmon', '-d', '--read-only', '--read-only-tmpfs=false', '-it', 'img']);
  assert.equal(r.options.cgroups, 'split');
  assert.equal(r.options.sdnotify, 'conmon');
  assert.equal(r.cidfile, '/run/web.cid');
  assert.equal(r.replace, true);
  assert.equal(r.options.readOnly, true);
  assert.equal(r.options.readOnlyTmpfs, false);
  assert.equal(r.pull, 'missing');
  assert.equal(r.options.logDriver, 'journald');
  assert.deepEqual(r.options.command, []);
  assert.equal((await parse(['--no-init', 'img'])).options.init, false);
});

test('bad flags: unknown, missing value, invalid value — one clear error each', async () => {
  await assert.rejects(parse(['--bogus', 'img']), /unknown flag: --bogus/);
  await assert.rejects(parse(['img', '--name']).then(() => parse(['--name'])), /flag needs an argument: --name/);
  await assert.rejects(parse(['--sdnotify=sometimes', 'img']), /invalid value for --sdnotify "sometimes": expected one of conmon, container, healthy, ignore/);
  await assert.rejects(parse(['--pull', 'maybe', 'img']), /--pull "maybe"/);
  await assert.rejects(parse(['--stop-signal', 'SIGNOPE', 'img']), /invalid signal: SIGNOPE/);
  await assert.rejects(parse([]), /an image name \(or ID\) is required/);
});
