/**
 * Facts about the host the engine runs on, read once per command: rlimits, whether crun's eBPF
 * device filter can load, cgroup layout. Warnings about quirks are printed once per process.
 */
import fs from 'node:fs';
import os from 'node:os';
import { warmUpMode } from './warm-up-mode.js';
import { writeOut } from '../process/stdio.js';

/** The hard limits of this process, by RLIMIT_* name (Infinity for "unlimited"). */
export function readRlimitHard(limitsText: string = readOr('/proc/self/limits')): Record<string, number> {
  const map: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA', 'Max stack size': 'RLIMIT_STACK',
    'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS', 'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE',
    'Max locked memory': 'RLIMIT_MEMLOCK', 'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO', 'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Record<string, number> = {};
  for (const line of limitsText.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m || !map[m[1]]) continue;
    out[map[m[1]]] = m[3] === 'unlimited' ? Infinity : Number(m[3]);
  }
  return out;
}

const CAP_SYS_RESOURCE = 24n;

/**
 * crun loads its device filter as an eBPF program after raising RLIMIT_MEMLOCK to infinity; without
 * CAP_SYS_RESOURCE and with a finite memlock limit that setrlimit fails and so does the container.
 */
export function deviceCgroupUsable(statusText: string = readOr('/proc/self/status'), limits: Record<string, number> = readRlimitHard()): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(statusText);
  const capEff = m ? BigInt(`0x${m[1]}`) : 0n;
  if ((capEff >> CAP_SYS_RESOURCE) & 1n) return true;
  return limits.RLIMIT_MEMLOCK === Infinity;
}

export function kernelRelease(): string { return os.release(); }

const warned = new Set<string>();
/** Print a warning at most once per process. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  if (!warmUpMode.rootfs) writeOut(2, `Warning: ${message}\n`);   // the build's warm-up says nothing
}

function readOr(p: string): string {
  try { return fs.readFileSync(p, 'utf8'); } catch { return ''; }
}
