/**
 * Programs run by the lock helper with berth's stdio (src/image/store/locks.ts helperExec), as
 * src/runtime/launch.ts runs a foreground `crun run`: output reaches berth's own stdout/stderr,
 * input comes from berth's stdin, exit statuses and signals come back, the environment is the
 * caller's, and the helper declines what it cannot do exactly (the caller then spawns it itself).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'node:test';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOCKS = path.resolve(HERE, '../../../../src/image/store/locks.js');

/** Runs `script` (an ES module body) in a fresh node whose stdin is `input`. */
function run(script: string, input = '', env: Record<string, string | undefined> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { helperExec, startLockHelper, lockHelperPid } = await import(${JSON.stringify(LOCKS)});\n${script}`], {
    encoding: 'utf8', input, env: { ...process.env, ...env }, timeout: 30000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the child has berth\'s stdin, stdout and stderr; its exit status comes back; it is the helper\'s child', () => {
  const r = run(`
    const c = await helperExec('/bin/sh', ['-c', 'read line; echo "out:$line"; echo err >&2; echo "ppid:$PPID" >&2; exit 7'], process.env);
    const exit = await c.exited;
    process.stdout.write('exit:' + JSON.stringify(exit) + ' helper:' + lockHelperPid() + '\\n');`, 'hello\n');
  assert.equal(r.status, 0, r.stderr);
  const helper = /helper:(\d+)/.exec(r.stdout)?.[1];
  assert.match(r.stdout, /^out:hello\nexit:\{"code":7,"signal":null\} helper:\d+\n$/);
  assert.match(r.stderr, new RegExp(`^err\\nppid:${helper}\\n$`));
});

test('kill() signals the child; a signal death comes back by name; after exit kill() is a no-op', () => {
  const r = run(`
    const c = await helperExec('/bin/sleep', ['30'], process.env);
    await new Promise((r) => setTimeout(r, 100));
    c.kill('SIGTERM');
    const exit = await c.exited;
    c.kill('SIGKILL');   // reaped: the helper sends nothing (GONE)
    const t = await helperExec('/bin/sh', ['-c', 'trap "exit 42" HUP; echo ready; while :; do sleep 0.05; done'], process.env);
    await new Promise((r) => setTimeout(r, 300));
    t.kill('SIGHUP');
    process.stdout.write(JSON.stringify([exit, await t.exited]) + '\\n');`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ready\n[{"code":null,"signal":"SIGTERM"},{"code":42,"signal":null}]\n');
});

test('the environment: variables the caller removed are removed; anything added or changed is declined', () => {
  const r = run(`
    const env = { ...process.env }; delete env.BERTH_TEST_GONE;
    const c = await helperExec('/bin/sh', ['-c', 'echo "gone=[$BERTH_TEST_GONE] kept=[$BERTH_TEST_KEPT]"'], env);
    await c.exited;
    const added = await helperExec('/bin/true', [], { ...process.env, BERTH_TEST_NEW: '1' });
    const changed = await helperExec('/bin/true', [], { ...process.env, BERTH_TEST_KEPT: 'other' });
    const tab = await helperExec('/bin/echo', ['a\\tb'], process.env);
    process.stdout.write(JSON.stringify([added, changed, tab]) + '\\n');`, '', { BERTH_TEST_GONE: 'x', BERTH_TEST_KEPT: 'y' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'gone=[] kept=[y]\n[null,null,null]\n');
});

test('a program that cannot be executed: status 127 and the reason on stderr', () => {
  const r = run(`
    const c = await helperExec('/nonexistent/program', [], process.env);
    process.stdout.write(JSON.stringify(await c.exited) + '\\n');`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"code":127,"signal":null}\n');
  assert.match(r.stderr, /cannot run \/nonexistent\/program: No such file or directory/);
});

test('without perl the helper declines (the caller spawns the program itself)', () => {
  const noPerl = run(`process.stdout.write(String(await helperExec('/bin/true', [], process.env)) + '\\n');`, '', { BERTH_LOCKS_NO_PERL: '1' });
  assert.equal(noPerl.status, 0, noPerl.stderr);
  assert.equal(noPerl.stdout, 'undefined\n');
});

test('the helper does not keep berth\'s stdout open once berth has exited (a $(berth …) caller gets EOF)', async () => {
  // After berth exits the helper still deletes a deferred tree (a deep one here, ~6000 entries):
  // the caller's $(…) must end when berth does, not when the helper does.
  const r = spawnSync('sh', ['-c', `out=$("$0" --input-type=module -e "$1"); set -- $out; if kill -0 "$2" 2>/dev/null; then echo "$1 helper-still-running $3"; else echo "$1 helper-gone $3"; fi`, process.execPath, `
    const { helperExec, deferRemoval, lockHelperPid } = await import(${JSON.stringify(LOCKS)});
    const fs = (await import('node:fs')).default;
    const c = await helperExec('/bin/echo', ['-n', 'child-output '], process.env);
    await c.exited;
    const d = fs.mkdtempSync('/var/tmp/berth-helper-exec-');
    let p = d; for (let i = 0; i < 300; i++) { p += '/d'; fs.mkdirSync(p); for (let j = 0; j < 20; j++) fs.writeFileSync(p + '/f' + j, ''); }
    await deferRemoval(d);
    process.stdout.write(lockHelperPid() + ' ' + d + '\\n');`], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  const m = /^child-output (helper-still-running|helper-gone) (\S+)\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(m[1], 'helper-still-running', 'the caller waited for the helper to finish deleting');
  for (let i = 0; i < 200 && fs.existsSync(m[2]); i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(fs.existsSync(m[2]), false, 'the deferred tree was deleted');
});

test('the helper ignores INT/TERM/HUP sent to the whole process group; its children get the default actions back', () => {
  const r = run(`
    const helper = lockHelperPid() ?? (startLockHelper(), lockHelperPid());
    await new Promise((res) => setTimeout(res, 200));   // the helper is up
    process.kill(helper, 'SIGINT'); process.kill(helper, 'SIGTERM'); process.kill(helper, 'SIGHUP');
    await new Promise((res) => setTimeout(res, 100));
    const c = await helperExec('/bin/sh', ['-c', 'kill -INT $$; sleep 2; echo still-here'], process.env);
    process.stdout.write(JSON.stringify({ helperAlive: lockHelperPid() === helper, exit: await c.exited }) + '\\n');`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"helperAlive":true,"exit":{"code":null,"signal":"SIGINT"}}\n');
});

test('a helper killed while its child runs: berth waits for the child to end, then reports 125', () => {
  const r = run(`
    const c = await helperExec('/bin/sleep', ['0.6'], process.env);
    const t0 = Date.now();
    process.kill(lockHelperPid(), 'SIGKILL');
    const exit = await c.exited;
    process.stdout.write(JSON.stringify({ exit, waited: Date.now() - t0 >= 450 }) + '\\n');`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"exit":{"code":125,"signal":null},"waited":true}\n');
});
