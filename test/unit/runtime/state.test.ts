import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bootId, readState, withLock, writeState } from '../../../src/runtime/state.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join('/var/tmp', 'berth-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('withLock serialises concurrent holders and breaks a lock left by a dead process', async (t) => {
  const dir = tmp(t);
  const order: string[] = [];
  await Promise.all([1, 2, 3].map((n) => withLock(dir, 'x', async () => {
    order.push(`in${n}`);
    await new Promise((r) => setTimeout(r, 20));
    order.push(`out${n}`);
  })));
  for (let i = 0; i < order.length; i += 2) assert.equal(order[i].slice(2), order[i + 1].slice(3), order.join(' '));
  // A crashed holder: pid that does not exist, same boot.
  fs.writeFileSync(path.join(dir, 'y.lock'), `999999999 1 ${bootId()}`);
  assert.equal(await withLock(dir, 'y', async () => 'taken', 2000), 'taken');
  // A holder from a previous boot.
  fs.writeFileSync(path.join(dir, 'z.lock'), `${process.pid} 1 another-boot`);
  assert.equal(await withLock(dir, 'z', async () => 'taken', 2000), 'taken');
  assert.ok(!fs.existsSync(path.join(dir, 'z.lock')));
});

test('state: a running container whose process died reads as exited with the monitor\'s exit code; a previous boot as exited', (t) => {
  const runroot = tmp(t);
  const paths = { root: path.join(runroot, 'root'), runroot, rootless: false };
  const id = 'd'.repeat(64);
  writeState(paths, id, { status: 'running', bootId: bootId(), pid: 999999999, startedAt: '2026-01-01T00:00:00.000Z', mounted: true });
  fs.writeFileSync(path.join(runroot, 'containers', id, 'exit'), '42\n');
  const s = readState(paths, id);
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 42);
  writeState(paths, id, { status: 'running', bootId: 'old-boot', pid: process.pid, mounted: true, networkSetUp: true });
  const stale = readState(paths, id);
  assert.equal(stale.status, 'exited');
  assert.equal(stale.pid, undefined);
  assert.equal(stale.networkSetUp, true, 'rm still runs the network teardown');
  writeState(paths, id, { status: 'running', bootId: bootId(), pid: process.pid });
  assert.equal(readState(paths, id).status, 'running');
});
