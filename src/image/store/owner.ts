/**
 * Names for temporary files and dirs that say which process made them, so that repair on open
 * removes only the leftovers of processes that are gone (a live concurrent pull keeps its temps).
 */
import fs from 'node:fs';
import crypto from 'node:crypto';

let cachedBootId: string | undefined;

export function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 12);
    } catch {
      cachedBootId = 'noboot';
    }
  }
  return cachedBootId;
}

/** "<pid>-<boot>-<random>[-suffix]": unique, and tells repair who owns it. */
export function ownedTempName(suffix = ''): string {
  return `${process.pid}-${bootId()}-${crypto.randomBytes(6).toString('hex')}${suffix ? `-${suffix}` : ''}`;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the temp entry's owner is certainly gone (other boot, or dead pid). Unparseable names are stale. */
export function ownerGone(name: string): boolean {
  const match = /^(\d+)-([a-z0-9]+)-/.exec(name);
  if (!match) return true;
  if (match[2] !== bootId()) return true;
  const pid = Number(match[1]);
  if (pid === process.pid) return false;
  return !processAlive(pid);
}
