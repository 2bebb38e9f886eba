/**
 * The real executable (generators/berth-generator, as systemd runs it): exit status, one stderr
 * line per broken file, complete files only, the user-generator name, dry run; and every
 * generated unit passes `systemd-analyze verify` with the engine path present.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { FIXTURES, REPO_ROOT, unitFilesOf } from '../../unit/quadlet/golden-support.js';

const GENERATOR = `${REPO_ROOT}generators/berth-generator`;
const ENGINE = `${REPO_ROOT}bin/berth.js`;

function run(argv: string[], env: Record<string, string>, program = GENERATOR): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [program, ...argv], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env }, encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('generators/berth-generator', () => {
  const scratch = mkdtempSync('/var/tmp/berth-quadlet-exec-');
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('broken files: exit 1, one line each, stand-ins written, the rest generated', () => {
    const out = `${scratch}/errors`;
    const result = run([out, out, out], { BERTH_UNIT_DIRS: `${FIXTURES}/errors` });
    assert.equal(result.status, 1);
    const lines = result.stderr.trim().split('\n');
    const broken = unitFilesOf(`${FIXTURES}/errors`).filter((name) => readFileSync(`${FIXTURES}/errors/${name}`, 'utf8').includes('## assert-error'));
    assert.ok(broken.length >= 15);
    assert.equal(lines.length, broken.length, result.stderr);
    assert.ok(lines.every((line) => /^berth-generator: [\w@.-]+(\.d\/[\w.-]+)?(:\d+)?: /.test(line)), result.stderr);
    const files = readdirSync(out);
    assert.ok(files.includes('good.service') && files.includes('typo.service'));
    assert.deepEqual(files.filter((name) => name.startsWith('.')), [], 'no temporary files');
    const typo = readFileSync(`${out}/typo.service`, 'utf8');
    assert.match(typo, /^X-Berth-Error=typo\.container:8: \[Container\] unknown key "Imagee" \(did you mean "Image"\?\)$/m);
    assert.doesNotMatch(typo, /berth\.js/, 'a broken unit never runs the engine');
  });

  test('under a user-generator name it is the user generator', () => {
    const program = `${scratch}/berth-user-generator`;
    symlinkSync(GENERATOR, program);
    const result = run(['--dryrun'], { BERTH_UNIT_DIRS: `${FIXTURES}/main`, BERTH_ENGINE: ENGINE }, program);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^---basic\.service---$/m);
    assert.match(result.stdout, /^Wants=podman-user-wait-network-online\.service$/m);
    assert.doesNotMatch(result.stdout, /network-online\.target/);
  });

  test('default engine path is this checkout\'s bin/berth.js', () => {
    const result = run(['--dryrun'], { BERTH_UNIT_DIRS: `${FIXTURES}/main` });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.stdout.includes(`ExecStart=${ENGINE} run --name systemd-%N`));
  });

  test('usage errors exit 2', () => {
    const result = run([], { BERTH_UNIT_DIRS: `${FIXTURES}/main` });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /missing output folder/);
  });

  test('systemd-analyze verify accepts every generated unit', () => {
    const out = `${scratch}/verify`;
    mkdirSync(out);
    for (const corpus of ['main', 'dropins', 'errors']) {
      const result = run([out, out, out], { BERTH_UNIT_DIRS: `${FIXTURES}/${corpus}`, BERTH_ENGINE: ENGINE });
      assert.equal(result.status, corpus === 'errors' ? 1 : 0, result.stderr);
    }
    const units = readdirSync(out).filter((name) => name.endsWith('.service')).map((name) => `${out}/${name}`);
    assert.ok(units.length > 40, `only ${units.length} units`);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { encoding: 'utf8', cwd: out });
    assert.equal(verify.status, 0, `${verify.stdout}\n${verify.stderr}`);
    assert.equal(verify.stderr.trim(), '', verify.stderr);

    // the check has teeth: a missing engine is reported
    const bad = `${scratch}/verify-bad`;
    mkdirSync(bad);
    run([bad, bad, bad], { BERTH_UNIT_DIRS: `${FIXTURES}/main`, BERTH_ENGINE: '/nonexistent/berth' });
    const failing = spawnSync('systemd-analyze', ['verify', '--man=no', `${bad}/basic.service`], { encoding: 'utf8', cwd: bad });
    assert.notEqual(failing.status, 0);
    assert.match(failing.stderr, /is not executable/);
  });
});
