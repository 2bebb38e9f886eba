import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ImageStore } from '../../../../src/image/store/index.js';
import { lockHelperPid, rangeOffset, RANGES_FILE } from '../../../../src/image/store/locks.js';
import { openTestStore, tempDir } from '../../../unit/image/store/store-fixtures.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'store-child.js');

/** Starts a child that takes `name` and holds it; resolves once it holds the lock. */
function holder(store: ImageStore, name: string, holdMs: number, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; events: string[]; done: Promise<number | null> }> {
  const proc = spawn(process.execPath, [CHILD, store.paths.root, store.paths.runroot, name, String(holdMs)], { env: { ...process.env, ...env, BERTH_STORE_CHILD: 'lock' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const events: string[] = [];
  const done = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        events.push(`${line}@${Date.now()}`);
        if (line === 'locked') resolve({ proc, events, done });
      }
    });
    void done.then((code) => reject(new Error(`lock child exited (${code}) before locking`)));
  });
}

describe('cross-process store locks', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  const procs: ChildProcess[] = [];
  before(async () => { t = tempDir('locks'); store = await openTestStore(t.dir); });
  after(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    t.cleanup();
  });

  it('excludes another process until the holder releases', { timeout: 60_000 }, async () => {
    const h = await holder(store, 'mutex-test', 800);
    procs.push(h.proc);
    const acquiredAt = await store.withLock('mutex-test', async () => Date.now());
    const released = h.events.find((e) => e.startsWith('released@'));
    assert.ok(released, `acquired while the other process still held the lock: ${h.events.join(' ')}`);
    assert.ok(acquiredAt >= Number(released.split('@')[1]));
    assert.equal(await h.done, 0);
  });

  it('a release does not wait for the helper to answer, and the next lock of the name still comes after it', { timeout: 60_000 }, async () => {
    await store.withLock('prime-helper', async () => undefined);
    const helper = lockHelperPid();
    assert.ok(helper, 'the lock helper runs');
    let stopped = false;
    try {
      const released = store.withLock('quick-release', async () => {
        process.kill(helper, 'SIGSTOP');   // from now on the helper answers nothing
        stopped = true;
      });
      const outcome = await Promise.race([released.then(() => 'returned'), new Promise((resolve) => setTimeout(() => resolve('waited'), 3000))]);
      assert.equal(outcome, 'returned', 'withLock waited for the unlock to be answered');
    } finally {
      if (stopped) process.kill(helper, 'SIGCONT');
    }
    const h = await holder(store, 'quick-release', 300);
    procs.push(h.proc);
    assert.equal(await h.done, 0, 'another process got the lock once the helper went on');
    assert.equal(await store.withLock('quick-release', async () => 'again'), 'again');
  });

  it('is released by the kernel when the holder is killed', { timeout: 60_000 }, async () => {
    const h = await holder(store, 'killed-test', 600_000);
    procs.push(h.proc);
    const started = Date.now();
    setTimeout(() => h.proc.kill('SIGKILL'), 300);
    await store.withLock('killed-test', async () => undefined);
    assert.ok(Date.now() - started < 30_000);
    assert.equal(h.proc.signalCode, 'SIGKILL');
  });

  it('queues holders of one name inside a process and lets different names run together', async () => {
    const order: string[] = [];
    const slow = (label: string, ms: number) => async () => { order.push(`${label}+`); await new Promise((r) => setTimeout(r, ms)); order.push(`${label}-`); };
    await Promise.all([store.withLock('same', slow('a', 100)), store.withLock('same', slow('b', 10)), store.withLock('other', slow('c', 10))]);
    assert.ok(order.indexOf('a-') < order.indexOf('b+'), order.join(' '));
    assert.ok(order.indexOf('c+') < order.indexOf('a-'), order.join(' '));
    await assert.rejects(store.withLock('../escape', async () => undefined), /invalid lock name/);
  });

  /** `procs` processes each take `name` `times` times and count under it; resolves with the exit codes. */
  async function contend(name: string, processes: number, times: number, env: Record<string, string> = {}): Promise<{ codes: (number | null)[]; counter: string; stderr: string }> {
    const counter = path.join(t.dir, `${name}.count`);
    fs.writeFileSync(counter, '0');
    let stderr = '';
    const codes = await Promise.all(Array.from({ length: processes }, () => {
      const proc = spawn(process.execPath, [CHILD, store.paths.root, store.paths.runroot, name, String(times), counter],
        { env: { ...process.env, ...env, BERTH_STORE_CHILD: 'count' }, stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(proc);
      proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise<number | null>((resolve) => proc.once('close', resolve));
    }));
    return { codes, counter: fs.readFileSync(counter, 'utf8'), stderr };
  }

  it('takes a byte of one file, creating no file per lock, and contending processes never hold one name together', { timeout: 120_000 }, async () => {
    const before = fs.readdirSync(store.layout.locksDir).filter((n) => n !== RANGES_FILE);
    let offset = -1;
    await store.withLock('range-test', async () => {
      assert.deepEqual(fs.readdirSync(store.layout.locksDir).filter((n) => n !== RANGES_FILE), before, 'no file made for the lock');
      // The helper holds an open-file-description lock on the name's byte: /proc/locks lists it.
      offset = rangeOffset('range-test');
      const inode = fs.statSync(path.join(store.layout.locksDir, RANGES_FILE)).ino;
      const held = fs.readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => /\bOFDLCK\b/.test(l) && l.includes(`:${inode} `));
      assert.ok(held.some((l) => l.trim().endsWith(`${offset} ${offset}`)), `no OFD lock on byte ${offset} of inode ${inode}:\n${held.join('\n')}`);
    });
    assert.ok(offset >= 0);
    const counted = await contend('count-test', 6, 60);
    assert.deepEqual(counted.codes, [0, 0, 0, 0, 0, 0], counted.stderr);
    assert.equal(counted.counter, '360');
    assert.deepEqual(fs.readdirSync(store.layout.locksDir).filter((n) => n.startsWith('count-test')), []);
  });

  it('a file per lock (BERTH_LOCKS_PER_FILE=1): deleted on release, and contending processes still never hold one name together', { timeout: 120_000 }, async () => {
    const lockFile = path.join(store.layout.locksDir, 'file-held.lock');
    const h = await holder(store, 'file-held', 500, { BERTH_LOCKS_PER_FILE: '1' });
    procs.push(h.proc);
    assert.ok(fs.existsSync(lockFile), 'the holder has its lock file');
    assert.equal(await h.done, 0);
    assert.equal(fs.existsSync(lockFile), false, 'the lock file is removed on release');
    // Every release deletes the file others are waiting on: a waiter that then locks the deleted
    // file must notice and start over, or two processes would be inside at once (the marker
    // fails) and increments would be lost.
    const result = await contend('file-test', 6, 60, { BERTH_LOCKS_PER_FILE: '1' });
    assert.deepEqual(result.codes, [0, 0, 0, 0, 0, 0], result.stderr);
    assert.equal(result.counter, '360');
    assert.deepEqual(fs.readdirSync(store.layout.locksDir).filter((n) => n.startsWith('file-test')), []);
  });

  it('the flock(1) way (no perl) keeps the same protocol', { timeout: 120_000 }, async () => {
    const result = await contend('flock-test', 3, 8, { BERTH_LOCKS_NO_PERL: '1' });
    assert.deepEqual(result.codes, [0, 0, 0], result.stderr);
    assert.equal(result.counter, '24');
    assert.deepEqual(fs.readdirSync(store.layout.locksDir).filter((n) => n.startsWith('flock-test')), []);
  });
});
