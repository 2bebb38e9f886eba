/**
 * Frees dead buffers during a pull. Every socket read is a fresh 64 KiB buffer, dead as soon as it
 * is copied into a download batch; every 128 KiB of a layer's unpacked bytes is a fresh zlib output
 * buffer, dead once written. V8 frees such buffers only when it collects the young generation,
 * which the few JS objects a pull allocates rarely fill, or when ~32 MB of them have piled up in a
 * thread; malloc then keeps the pile's pages. A minor collection every few MiB, in each thread that
 * makes such garbage (the main one, and the unpack worker), keeps the pile small.
 *
 * Buffers still in use at two collections move to the old generation and, once dead, wait for a
 * full collection: so the interval must be longer than a buffer stays in use. Network chunks are
 * copied into their batch on arrival (pull.ts); batches are reused, not dropped (unpack-pool.ts).
 * Peak RSS (bench/RESULTS.md, "## pull": 80 layers, 800 MB): every 1 MiB 212 MB, 2 MiB 137-142 MB,
 * 4 MiB 125 MB, 6 MiB 131-133 MB, 16 MiB 155 MB. A collection takes well under a millisecond.
 *
 * The collector is reached the way the `--expose-gc` flag offers it, set at run time: that flag
 * only adds a `gc` function to contexts created afterwards (here a throwaway vm context). Where
 * that is not available, nothing is collected early and memory is as before.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const EVERY = 4 * 1024 * 1024;

let collect: ((options: { type: 'minor' }) => void) | null | undefined;
let since = 0;

function collector(): typeof collect {
  if (collect !== undefined) return collect;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    collect = typeof gc === 'function' ? (gc as (options: { type: 'minor' }) => void) : null;
  } catch {
    collect = null;
  }
  return collect;
}

/** Count `bytes` of buffers just dead (or about to be); collects the young generation every EVERY bytes. */
export function deadBytes(bytes: number): void {
  since += bytes;
  if (since < EVERY) return;
  since = 0;
  collector()?.({ type: 'minor' });
}
