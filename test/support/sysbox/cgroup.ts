/**
 * The sysbox's cgroup: a child of the test process's own cgroup v2 (never the host's root
 * hierarchy as such), so the booted systemd sees only its own subtree. Only the `0::` line of
 * /proc/self/cgroup counts: on hybrid hosts the other lines are v1 hierarchies.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { delay, sleepSync } from './run.js';

export function unifiedMount(): string {
  return existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
}

export function ownCgroupDir(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error('sysbox: no cgroup v2 line (0::) in /proc/self/cgroup');
  return join(unifiedMount(), line.slice(3));
}

export function isPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILL every process in the subtree (cgroup.kill, or one by one on kernels without it). */
export function killCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
    return;
  } catch { /* kernel < 5.14: fall through */ }
  for (const sub of subtree(dir)) {
    let pids: string[] = [];
    try { pids = readFileSync(join(sub, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean); } catch { continue; }
    for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
  }
}

/** The directory and all its descendants, deepest first. */
function subtree(dir: string): string[] {
  const result: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch { return result; }
  for (const name of entries) result.push(...subtree(join(dir, name)));
  result.push(dir);
  return result;
}

function removeTree(dir: string): boolean {
  for (const sub of subtree(dir)) {
    try { rmdirSync(sub); } catch { /* still busy, or already gone */ }
  }
  return !existsSync(dir);
}

/** Kill everything inside, wait until the subtree is empty, remove it. Returns false on timeout. */
export async function destroyCgroup(dir: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(dir)) {
    killCgroup(dir);
    if (!isPopulated(dir) && removeTree(dir)) return true;
    if (Date.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

export function destroyCgroupSync(dir: string, timeoutMs = 5_000): boolean {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(dir)) {
    killCgroup(dir);
    if (!isPopulated(dir) && removeTree(dir)) return true;
    if (Date.now() > deadline) return false;
    sleepSync(20);
  }
  return true;
}
