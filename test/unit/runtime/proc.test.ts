import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/runtime/proc.js');

/** runProc's results for a few commands, in a fresh node (with or without raw-spawn). */
function results(env: Record<string, string>): unknown {
  const script = `
    const { runProc } = await import(${JSON.stringify(PROC)});
    const big = 'x'.repeat(300000) + '\\n';
    const out = [];
    out.push(await runProc('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']));
    const echoed = await runProc('/bin/sh', ['-c', 'wc -c'], { input: big });
    out.push(echoed.stdout.trim());
    const missing = await runProc('berth-no-such-program', []);
    out.push([missing.exitCode, missing.error?.code, missing.stderr]);
    const t0 = Date.now();
    const slow = await runProc('/bin/sleep', ['5'], { timeoutMs: 200 });
    out.push([slow.exitCode, Date.now() - t0 < 3000]);
    out.push((await runProc('/bin/sh', ['-c', 'printf "%s" "$PROC_TEST"'], { env: { PATH: '/usr/bin:/bin', PROC_TEST: 'é€' } })).stdout);
    (await import('node:fs')).default.writeSync(1, JSON.stringify(out) + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('runProc', () => {
  const expected = [
    { exitCode: 3, stdout: 'out\n', stderr: 'err\n' },
    '300001',
    [127, 'ENOENT', 'spawn berth-no-such-program ENOENT'],
    [128, true],
    'é€',
  ];
  it('through raw-spawn: output, exit status, input larger than a pipe, a missing program, timeout, environment', () => {
    assert.deepEqual(results({}), expected);
  });
  it('the same through node:child_process (BERTH_NO_RAW_SPAWN=1)', () => {
    assert.deepEqual(results({ BERTH_NO_RAW_SPAWN: '1' }), expected);
  });
});
