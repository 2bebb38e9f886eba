/**
 * `berth logs --since/--until/-t` for a container started outside systemd (its log file, written
 * by the monitor's log-writer.py with a time per line), against real crun in the test namespace.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startWorld, BERTH, type World } from './harness.js';

let w: World;
test.before(async () => { w = await startWorld('logsince', { busybox: { busybox: true } }); });
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z) (.*)$/;

test('log file: a time per line; --since/--until in Podman\'s formats (RFC3339, unix seconds, durations); -t; -n; stderr apart', async () => {
  const script = 'echo first; echo oops >&2; sleep 8; echo second; printf "no-newline"; sleep 0.3; echo " joined"; echo done';
  await ok(['run', '-d', '--name', 'talker', '--network=none', w.images.busybox, 'sh', '-c', script]);
  let all = '';
  for (let i = 0; i < 150 && !all.includes('done'); i++) { await new Promise((r) => setTimeout(r, 100)); all = (await ok(['logs', 'talker'])).stdout; }
  const secondAt = Date.parse(STAMP.exec((await ok(['logs', '-t', 'talker'])).stdout.split('\n')[1])![1]);
  // A duration counts back from when berth reads it: 4 s more than "second"'s age reaches back to
  // between "first" and "second" (8 s apart) as long as berth starts within 4 s (a busy machine).
  const recent = await ok(['logs', '--since', `${Date.now() - secondAt + 4000}ms`, 'talker']);
  assert.equal(recent.stdout, 'second\nno-newline joined\ndone\n');
  assert.equal(recent.stderr, '', 'oops is older than that');

  const plain = await ok(['logs', 'talker']);
  assert.equal(plain.stdout, 'first\nsecond\nno-newline joined\ndone\n');
  assert.equal(plain.stderr, 'oops\n', 'stderr lines go to stderr');

  const stamped = (await ok(['logs', '-t', 'talker'])).stdout.trim().split('\n').map((l) => STAMP.exec(l));
  assert.ok(stamped.every(Boolean), 'every line carries its time');
  const [first, second] = [stamped[0]!, stamped[1]!];
  assert.deepEqual([first[2], second[2]], ['first', 'second']);
  const gapMs = Date.parse(second[1]) - Date.parse(first[1]);
  assert.ok(gapMs >= 7900 && gapMs < 11000, `the times are when the lines were written (${gapMs} ms apart)`);

  // RFC3339Nano, inclusive at both ends.
  assert.equal((await ok(['logs', '--since', second[1], 'talker'])).stdout, 'second\nno-newline joined\ndone\n');
  assert.equal((await ok(['logs', '--until', first[1], 'talker'])).stdout, 'first\n');
  // Unix seconds with a fraction, and a time zone offset.
  const secondsOf = (iso: string) => (Date.parse(iso) / 1000).toFixed(3);
  const between = secondsOf(new Date(Date.parse(first[1]) + 1000).toISOString());
  assert.equal((await ok(['logs', '--since', between, 'talker'])).stdout, 'second\nno-newline joined\ndone\n');
  const plusTwo = new Date(Date.parse(first[1]) + 1000 + 2 * 3600000).toISOString().slice(0, 19) + '+02:00';
  assert.equal((await ok(['logs', '--until', plusTwo, 'talker'])).stdout, 'first\n');
  const until = await ok(['logs', '--since', '10m', '--until', between, 'talker']);
  assert.equal(until.stdout, 'first\n');
  assert.equal(until.stderr, 'oops\n');
  // A duration for --until counts forward (Podman): everything so far.
  assert.equal((await ok(['logs', '--until', '1m', 'talker'])).stdout, 'first\nsecond\nno-newline joined\ndone\n');
  assert.equal((await ok(['logs', '--since', '2023-01-01', '-n', '2', 'talker'])).stdout, 'no-newline joined\ndone\n');
  assert.equal((await ok(['logs', '--since', '2999-01-01', 'talker'])).stdout, '');

  const bad = await w.berth(['logs', '--since', 'yesterday', 'talker']);
  assert.equal(bad.exitCode, 125);
  assert.match(bad.stderr, /--since yesterday: unable to interpret time value/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);

  // What the file holds: Podman's k8s-file records.
  const id = (await ok(['inspect', '--format', '{{.Id}}', 'talker'])).stdout.trim();
  const file = fs.readFileSync(path.join(w.dir, 'root', 'containers', id, 'ctr.log'), 'utf8');
  assert.match(file, /^\S+Z stdout F first\n/);
  assert.match(file, /\n\S+Z stderr F oops\n/);
  assert.match(file, /\n\S+Z stdout P no-newline\n\S+Z stdout F  joined\n/);
  await ok(['rm', '-f', 'talker']);
  assert.deepEqual(await w.leftovers(), []);
});

test('logs -f --since: follows new lines, from the given time, and ends when the container does', async () => {
  await ok(['run', '-d', '--name', 'follow', '--network=none', w.images.busybox, 'sh', '-c', 'echo old; sleep 6; for i in 1 2 3; do echo new$i; sleep 0.2; done']);
  await new Promise((r) => setTimeout(r, 1500));
  const r = await ok(['logs', '-f', '--since', '1s', 'follow']);
  assert.equal(r.stdout, 'new1\nnew2\nnew3\n');
  await ok(['rm', '-f', 'follow']);
});

test('logs -f shows a line still without its newline (a prompt) as it comes; --until ends following', async () => {
  await ok(['run', '-d', '--name', 'prompt', '--network=none', w.images.busybox, 'sh', '-c', 'echo hello; printf "name? "; sleep 6; echo bob; sleep 30']);
  const started = Date.now();
  const child = spawn('nsenter', ['-t', String(w.ns.pid), '-m', '-C', '-p', '--', process.execPath, BERTH, `--root=${w.dir}/root`, `--runroot=${w.dir}/run`, 'logs', '-f', '--until', '10s', 'prompt'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let promptAt = 0;
  let answerAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!promptAt && out.endsWith('name? ')) promptAt = Date.now();
    if (!answerAt && out.includes('bob')) answerAt = Date.now();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.equal(out, 'hello\nname? bob\n');
  assert.ok(promptAt > 0 && answerAt - promptAt > 1500, `the prompt was shown before its line ended (${answerAt - promptAt} ms before)`);
  const ended = Date.now() - started;
  assert.ok(ended < 20000, `--until 10s stops following although the container still runs (${ended} ms)`);
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}}', 'prompt'])).stdout.trim(), 'running');
  await ok(['rm', '-f', '-t', '0', 'prompt']);
});
