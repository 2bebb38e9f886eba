import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rawSpawn, rawSpawnAvailable, RawSpawnError } from '../../../src/process/raw-spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rawSpawnModule = path.resolve(here, '../../../src/process/raw-spawn.js');

/** Runs a snippet in a fresh node (a clean module list), printing JSON to stdout. */
function fresh(code: string, env: NodeJS.ProcessEnv = {}): { status: number | null; out: unknown; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
  let out: unknown;
  try { out = JSON.parse(r.stdout.trim().split('\n').pop() ?? ''); } catch { out = r.stdout; }
  return { status: r.status, out, stderr: r.stderr };
}

describe('rawSpawn: child processes without node:child_process', () => {
  it('is available on this Node', () => {
    assert.equal(rawSpawnAvailable(), true);
  });

  it('talks to a child over its stdin and stdout pipes, line by line', async () => {
    const child = rawSpawn('/usr/bin/perl', ['-e', '$| = 1; while (my $l = <STDIN>) { print "got $l"; } print "bye\\n";'], { stdio: ['pipe', 'pipe', 'ignore'] })!;
    assert.ok(child.pid > 0);
    let text = '';
    const lines = (n: number) => new Promise<void>((resolve) => {
      const check = () => { if (text.split('\n').length > n) resolve(); else setTimeout(check, 2); };
      check();
    });
    child.onOutput((t) => { text += t; });
    child.write('one\n');
    await lines(1);
    child.write('two\n');
    await lines(2);
    child.closeInput();
    const exit = await child.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(text, 'got one\ngot two\nbye\n');
  });

  it('decodes UTF-8 split across reads', async () => {
    // 30000 × "é" (2 bytes each) in one print: more than one read of the pipe, split anywhere
    const child = rawSpawn('/usr/bin/perl', ['-e', 'binmode STDOUT; print "\\xc3\\xa9" x 30000; print "\\n";'], { stdio: ['ignore', 'pipe', 'ignore'] })!;
    let text = '';
    child.onOutput((t) => { text += t; });
    await child.exited;
    for (let i = 0; i < 500 && !text.endsWith('\n'); i++) await new Promise((r) => setTimeout(r, 2));
    assert.equal(text, `${'é'.repeat(30000)}\n`);
  });

  it('reports exit codes and signals, and kill() delivers the named signal', async () => {
    const exit3 = rawSpawn('/bin/sh', ['-c', 'exit 3'], { stdio: ['ignore', 'ignore', 'ignore'] })!;
    assert.deepEqual(await exit3.exited, { code: 3, signal: null });
    const sleeper = rawSpawn('/bin/sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore'] })!;
    assert.equal(sleeper.kill('SIGTERM'), true);
    assert.deepEqual(await sleeper.exited, { code: null, signal: 'SIGTERM' });
    assert.equal(sleeper.kill('SIGTERM'), false, 'a child that has exited is not signalled');
  });

  it('passes the environment and inherited fds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-raw-'));
    try {
      const out = path.join(dir, 'out');
      const fd = fs.openSync(out, 'w');
      // the child's stdout is fd 1 of a node that has `out` as its stdout
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
        const { rawSpawn } = await import(${JSON.stringify(rawSpawnModule)});
        const c = rawSpawn('/bin/sh', ['-c', 'echo "$GREETING"'], { stdio: ['ignore', 'inherit', 'inherit'], env: { PATH: '/usr/bin:/bin', GREETING: 'hello from env' } });
        const e = await c.exited; process.exitCode = e.code;`], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      fs.closeSync(fd);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(out, 'utf8'), 'hello from env\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws RawSpawnError naming the file when the program does not exist', () => {
    assert.throws(() => rawSpawn('/nonexistent/berth-no-such-program', [], { stdio: ['ignore', 'ignore', 'ignore'] }),
      (e: unknown) => e instanceof RawSpawnError && e.code === 'ENOENT' && e.message.includes('/nonexistent/berth-no-such-program'));
  });

  it('looks programs up in PATH', async () => {
    const child = rawSpawn('sh', ['-c', 'exit 7'], { stdio: ['ignore', 'ignore', 'ignore'], env: { PATH: '/usr/bin:/bin' } })!;
    assert.deepEqual(await child.exited, { code: 7, signal: null });
  });

  it('an unref()ed child does not keep node alive; a ref()ed one does', () => {
    const code = (unref: boolean) => `
      const { rawSpawn } = await import(${JSON.stringify(rawSpawnModule)});
      const c = rawSpawn('/bin/sleep', ['5'], { stdio: ['pipe', 'pipe', 'ignore'] });
      ${unref ? 'c.unref();' : 'setTimeout(() => c.kill("SIGKILL"), 300);'}
      console.log(JSON.stringify({ pid: c.pid }));`;
    const t0 = Date.now();
    const detached = fresh(code(true));
    assert.equal(detached.status, 0, detached.stderr);
    assert.ok(Date.now() - t0 < 4000, 'node waited for an unref()ed child');
    const pid = (detached.out as { pid: number }).pid;
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    const t1 = Date.now();
    const held = fresh(code(false));
    assert.equal(held.status, 0, held.stderr);
    assert.ok(Date.now() - t1 >= 250, 'node exited while a ref()ed child ran');
  });

  it('loads neither node:child_process nor node:net nor node:stream', () => {
    const r = fresh(`
      const before = new Set(process.moduleLoadList);
      const { rawSpawn } = await import(${JSON.stringify(rawSpawnModule)});
      const c = rawSpawn('/usr/bin/perl', ['-e', '$|=1; print scalar <STDIN>'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let got = '';
      c.onOutput((t) => { got += t; });
      c.write('ping\\n');
      await c.exited;
      while (!got.endsWith('\\n')) await new Promise((r) => setTimeout(r, 2));
      const loaded = process.moduleLoadList.filter((m) => !before.has(m) && /NativeModule (child_process|net|stream|dgram)$/.test(m));
      require('node:fs').writeSync(1, JSON.stringify({ loaded, got }) + '\\n');`.replace("require('node:fs')", '(await import("node:fs")).default'));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out, { loaded: [], got: 'ping\n' });
  });

  it('under --pending-deprecation it stays off (no DEP0111 warning on berth\'s stderr)', () => {
    for (const env of [{ NODE_PENDING_DEPRECATION: '1' }, { NODE_OPTIONS: '--pending-deprecation' }]) {
      const r = fresh(`
        const { rawSpawnAvailable } = await import(${JSON.stringify(rawSpawnModule)});
        (await import('node:fs')).default.writeSync(1, JSON.stringify({ available: rawSpawnAvailable() }) + '\\n');`, env);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.out, { available: false });
      assert.doesNotMatch(r.stderr, /DEP0111/);
    }
  });

  it('BERTH_NO_RAW_SPAWN=1 turns it off (callers then use node:child_process)', () => {
    const r = fresh(`
      const { rawSpawn, rawSpawnAvailable } = await import(${JSON.stringify(rawSpawnModule)});
      (await import('node:fs')).default.writeSync(1, JSON.stringify({ available: rawSpawnAvailable(), child: rawSpawn('/bin/true', [], { stdio: ['ignore', 'ignore', 'ignore'] }) === undefined }) + '\\n');`,
    { BERTH_NO_RAW_SPAWN: '1' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out, { available: false, child: true });
  });
});
