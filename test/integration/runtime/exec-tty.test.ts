/**
 * `berth exec -t` / `-it` and a foreground `berth run -t` / `-it` through a real pseudo-terminal: berth runs under util-linux `script`
 * (as from an interactive shell), inside the test namespace, against a real crun container.
 * The pty must be the container's own (/dev/pts/0 of its devpts), sized like berth's terminal
 * (and resized on SIGWINCH), typed input must reach the process, and its status pass through.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startWorld, BERTH, TERM_AWARE, type World } from './harness.js';

let w: World;
test.before(async () => {
  w = await startWorld('exectty', { service: { busybox: true, entrypoint: TERM_AWARE, stopSignal: 'SIGTERM' }, busybox: { busybox: true } });
  const r = await w.berth(['run', '-d', '--name', 'svc', '--network=none', w.images.service]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await w.berth(['pull', w.images.busybox])).exitCode, 0);
});
test.after(async () => {
  await w?.berth(['rm', '-f', 'svc']);
  await w?.stop();
});

interface Session { output(): string; waitFor(pattern: RegExp, ms?: number): Promise<string>; type(text: string): void; done: Promise<number> }

/**
 * A terminal session: `script` gives the shell a pty whose size is set first, then runs berth.
 * The outer shell prints `outer=<its tty>` so a test can resize that terminal from outside.
 */
function terminal(berthArgs: string): Session {
  const berth = `${process.execPath} ${BERTH} --root=${w.dir}/root --runroot=${w.dir}/run ${berthArgs}`;
  const shell = `stty rows 33 cols 101; echo outer=$(tty); exec ${berth}`;
  const child = spawn('nsenter', ['-t', String(w.ns.pid), '-m', '-C', '-p', '--', 'sh', '-c', 'echo $$ > /sys/fs/cgroup/ns-exec/cgroup.procs && exec "$@"', 'ns-exec', 'script', '-qfec', shell, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', TERM: 'xterm', CONTAINERS_REGISTRIES_CONF: `${w.dir}/registries.conf` }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); for (const l of listeners) l(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); for (const l of listeners) l(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  const done = new Promise<number>((resolve) => child.on('exit', (code) => { clearTimeout(timer); child.stdin.end(); resolve(code ?? -1); }));
  return {
    output: () => out,
    type: (text) => child.stdin.write(text),
    done,
    waitFor: (pattern, ms = 15000) => new Promise((resolve, reject) => {
      const check = () => { const m = pattern.exec(out); if (m) { listeners.delete(check); clearTimeout(t); resolve(m[1] ?? m[0]); } };
      const t = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out waiting for ${pattern}; output so far: ${JSON.stringify(out)}`)); }, ms);
      listeners.add(check);
      check();
    }),
  };
}

test('exec -t: the container\'s own pty (/dev/pts/0 of its devpts), the terminal\'s size, no NUL, exit status passes through', async () => {
  const s = terminal(`exec -t svc sh -c 'tty; stty size; echo TERM=$TERM; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-terminals; exit 3'`);
  assert.equal(await s.done, 3, s.output());
  const out = s.output();
  assert.doesNotMatch(out, /\0|\^@/, 'no NUL byte in the output');
  const lines = out.split('\r\n');
  assert.match(lines[0], /^outer=\/dev\/pts\/\d+$/);
  assert.deepEqual(lines.slice(1, 5), ['/dev/pts/0', '33 101', 'TERM=xterm', 'all-terminals'], out);
  // The pty is the container's: its devpts holds exactly this one.
  const ls = terminal(`exec -t svc sh -c 'ls -1 /dev/pts; readlink /proc/self/fd/1'`);
  assert.equal(await ls.done, 0, ls.output());
  assert.match(ls.output(), /\r\n0\r\nptmx\r\n\/dev\/pts\/0\r\n/);
  // Without a terminal on berth's side (a pipe, as in CI) the process still gets its pty.
  const piped = await w.berth(['exec', '-t', 'svc', 'sh', '-c', 'tty; exit 2']);
  assert.equal(piped.exitCode, 2, piped.stderr);
  assert.equal(piped.stdout, '/dev/pts/0\r\n');
});

test('exec -it: typed input reaches the process, a resize of berth\'s terminal reaches its pty, exit status passes through', async () => {
  const s = terminal(`exec -it svc sh -c 'echo ready; read line; echo got:$line; stty size; read again; stty size; exit 4'`);
  const outer = await s.waitFor(/outer=(\/dev\/pts\/\d+)/);
  await s.waitFor(/ready\r\n/);
  s.type('hello there\r');
  await s.waitFor(/got:hello there\r\n33 101\r\n/);
  // Resize the user's terminal from outside, as a window manager would: the kernel sends SIGWINCH.
  const resize = await w.ns.exec(['stty', '-F', outer, 'rows', '40', 'cols', '120']);
  assert.equal(resize.exitCode, 0, resize.stderr);
  await new Promise((r) => setTimeout(r, 500));
  s.type('x\r');
  assert.equal(await s.done, 4, s.output());
  assert.match(s.output(), /got:hello there\r\n33 101\r\n.*40 120\r\n/s);
  assert.doesNotMatch(s.output(), /\0/);
});

test('exec -it: ^C typed goes to the process (raw terminal), not to berth; a missing command is 127', async () => {
  const s = terminal(`exec -it svc sh -c 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done'`);
  await s.waitFor(/ready\r\n/);
  s.type('\x03');
  assert.equal(await s.done, 9, s.output());
  assert.match(s.output(), /got-int/);
  const missing = terminal('exec -t svc nope-not-here');
  assert.equal(await missing.done, 127, missing.output());
  assert.match(missing.output(), /nope-not-here/);
  const leftovers = await w.ns.exec(['sh', '-c', `ls -A ${w.dir}/run/exec`]);
  assert.equal(leftovers.stdout, '', 'no console socket left behind');
});

test('run -t / -it in the foreground: the container\'s pty, the terminal\'s size, typed input, exit status; --rm leaves nothing', async () => {
  const s = terminal(`run --rm -t --network=none ${w.images.busybox} sh -c 'tty; stty size; exit 6'`);
  assert.equal(await s.done, 6, s.output());
  assert.doesNotMatch(s.output(), /\0/);
  assert.match(s.output(), /\r\n\/dev\/pts\/0\r\n33 101\r\n$/);
  const it = terminal(`run --rm -it --network=none ${w.images.busybox} sh -c 'echo ready; read line; echo got:$line'`);
  await it.waitFor(/ready\r\n/);
  it.type('typed words\r');
  assert.equal(await it.done, 0, it.output());
  assert.match(it.output(), /got:typed words\r\n/);
  const ls = await w.berth(['ps', '-a', '-q']);
  assert.deepEqual(ls.stdout.split('\n').filter(Boolean).length, 1, 'only the exec tests\' container is left');
  const exec = await w.ns.exec(['sh', '-c', `ls -A ${w.dir}/run/exec`]);
  assert.equal(exec.stdout, '');
});
