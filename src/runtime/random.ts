/**
 * Random ids and picks for the start path, read from /dev/urandom: node:crypto would give the
 * same bytes, but loading it costs ~8 ms of every `berth run` (bin/cjs-interop.cjs loads it lazily).
 */
import fs from 'node:fs';

export function randomBytes(count: number): Buffer {
  const out = Buffer.alloc(count);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < count;) got += fs.readSync(fd, out, got, count - got, null);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export function randomHex(count: number): string {
  return randomBytes(count).toString('hex');
}

/** A uniform integer in [0, max), max < 2^32 (rejection sampling, no modulo bias). */
export function randomInt(max: number): number {
  const limit = Math.floor(0x100000000 / max) * max;
  for (;;) {
    const n = randomBytes(4).readUInt32LE(0);
    if (n < limit) return n % max;
  }
}
