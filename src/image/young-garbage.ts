/**
 * Frees the network's dead buffers during a download. Every socket read is a fresh 64 KiB buffer,
 * dead as soon as it is copied into a download batch; V8 frees such buffers only when it collects
 * the young generation, which the few JS objects a download allocates rarely fill, or when ~64 MB
 * of them have piled up (its external-memory limit). A minor collection every few MiB keeps that
 * pile small.
 *
 * The interval must be longer than a network chunk waits for its batch to fill (one 512 KiB batch
 * per download, up to 6 downloads at once: ~3 MiB of traffic); otherwise waiting chunks live
 * through two collections, move to the old generation and are freed only by the full GC. Measured
 * on the 200 MB bench pull (5 layers, peak RSS, 6 runs each): every 2 MiB 165-172 MB, 4 MiB
 * 129-134 MB, 6 MiB 133-136 MB, 8 MiB 136-139 MB (with 256 KiB batches: none 148-150 MB, 4 MiB
 * 126-129 MB); a collection takes well under a millisecond.
 *
 * The collector is reached the way the `--expose-gc` flag offers it, set at run time: that flag
 * only adds a `gc` function to contexts created afterwards (here a throwaway vm context). Where
 * that is not available, nothing is collected early and memory is as before.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const EVERY = 6 * 1024 * 1024;

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

/** Count `bytes` of network data just consumed; collects the young generation every EVERY bytes. */
export function downloaded(bytes: number): void {
  since += bytes;
  if (since < EVERY) return;
  since = 0;
  collector()?.({ type: 'minor' });
}
