/**
 * Layer unpacking off the main thread. A pull is CPU-bound on one thread otherwise: the HTTP
 * parser, the blob digest and the blob write share it with decompression, the tar parser, the
 * extractor's file writes and the diff-ID hash. Here, for layers of WORKER_MIN_LAYER or more, the
 * second half runs in a worker thread (unpack-worker.ts, the very same extractor code, unpack.ts),
 * and the main thread keeps the network, the blob digest and the blob file; smaller layers are
 * unpacked on the main thread (unpackHere). Chunks are moved to the worker (transferred, not
 * cloned), with backpressure: at most IN_FLIGHT bytes of a job wait in the worker's queue.
 *
 * Workers start on first use (or warmUnpackPool) and are kept for the process; an idle worker
 * does not keep the process alive (unref). A worker that dies fails its jobs with an ImageError.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImageError } from '../../errors/index.js';
import { ChunkFeed } from './chunk-feed.js';
import { unpackLayerStream, type UnpackOptions, type UnpackResult } from './unpack.js';
import { deserializeError, type FromWorker, type ToWorker } from './unpack-protocol.js';

/**
 * Bytes sent to a job but not yet taken by its extractor before push() asks the sender to wait:
 * one download batch (1 MiB measured no faster, for ~5 MB more peak RSS).
 */
const IN_FLIGHT = 512 * 1024;
/**
 * One worker: with the main thread that makes two busy threads, as many as the 2-core machine the
 * goal is measured on has; a second worker measured no faster and costs another isolate (~11 MB).
 */
const MAX_WORKERS = 1;
/**
 * A small young generation: the worker makes ~1 byte of garbage buffers (inflated chunks) per byte
 * unpacked, freed at each scavenge; with V8's default size they piled up to ~15 MB more peak memory.
 */
const WORKER_YOUNG_MB = 2;

export interface StreamUnpack {
  /**
   * Sends compressed bytes: moved when made by chunkBuffer (the caller must not use it again), else
   * copied. Returns a promise to await before the next push when the worker has enough queued,
   * else undefined. After the job ended: ignored.
   */
  push(chunk: Uint8Array): Promise<void> | undefined;
  /** The whole blob was pushed. */
  end(): void;
  /** The download broke: the job fails (its tmp dir is the caller's to remove once `result` settled). */
  abort(message: string): void;
  /** Settles once the worker has stopped writing into `dest`. */
  readonly result: Promise<UnpackResult>;
}

interface PoolWorker {
  worker: Worker;
  active: number;
}

interface Job {
  owner: PoolWorker;
  resolve(result: UnpackResult): void;
  reject(error: unknown): void;
  settled: boolean;
  inFlight: number;
  wake?: () => void;
}

let nextId = 1;
const jobs = new Map<number, Job>();
const workers: PoolWorker[] = [];
/** Chunk memory its owner gave away (chunkBuffer): moved to the worker instead of copied. */
const giveable = new WeakSet<ArrayBuffer>();
/**
 * Batch memory the worker handed back, reused for the next batches: one allocation per batch made
 * peak memory grow with the bytes pulled (freed 512 KiB blocks kept by malloc: a 400 MB pull of 40
 * layers peaked at 155-158 MB, bench/RESULTS.md).
 */
const returned: ArrayBuffer[] = [];
const MAX_RETURNED = 8;

/** How many handed-back buffers wait for reuse (tests). */
export function returnedBuffers(): number {
  return returned.length;
}

/**
 * A buffer of `size` bytes with memory of its own, for a download batch that goes to the blob file
 * and then to the worker: push() moves it there without a copy (push it once the blob write is
 * done with it). Network chunks are slices of the HTTP parser's buffers, which cannot be moved.
 */
export function chunkBuffer(size: number): Buffer {
  const at = returned.findLastIndex((b) => b.byteLength === size);
  const reused = at >= 0 ? returned.splice(at, 1)[0] : undefined;
  const buffer = reused ? Buffer.from(reused, 0, size) : Buffer.allocUnsafeSlow(size);
  giveable.add(buffer.buffer as ArrayBuffer);
  return buffer;
}

/** The worker script: the bundled one next to the CLI bundle, else the tsc output next to this module. */
function workerScript(): URL {
  const bundled = new URL('./unpack-worker.cjs', import.meta.url);
  if (fs.existsSync(fileURLToPath(bundled))) return bundled;
  return new URL('./unpack-worker.js', import.meta.url);
}

function startWorker(): PoolWorker {
  const worker = new Worker(workerScript(), {
    // Not the main thread's --cpu-prof and such (BERTH_UNPACK_WORKER_PROF=1 keeps them, to profile the worker).
    execArgv: process.env.BERTH_UNPACK_WORKER_PROF ? process.execArgv : [],
    stdout: false, stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
  });
  const entry: PoolWorker = { worker, active: 0 };
  worker.on('message', (message: FromWorker) => onMessage(message));
  const fail = (why: string): void => {
    const index = workers.indexOf(entry);
    if (index >= 0) workers.splice(index, 1);
    for (const [id, job] of jobs) {
      if (job.owner !== entry) continue;
      jobs.delete(id);
      settle(job, () => job.reject(new ImageError('layer-unpack-failed', `the layer unpack worker stopped: ${why}`)));
    }
  };
  worker.on('error', (error) => fail(error.message));
  worker.on('exit', (code) => fail(`exit code ${code}`));
  // After the listeners: a 'message' listener added later would keep the process alive again.
  worker.unref();
  workers.push(entry);
  return entry;
}

function pickWorker(): PoolWorker {
  const idle = workers.find((w) => w.active === 0);
  if (idle) return idle;
  if (workers.length < MAX_WORKERS) return startWorker();
  return workers.reduce((a, b) => (b.active < a.active ? b : a));
}

/** Start a worker now (its start-up then overlaps the registry round trips of a pull). */
export function warmUnpackPool(): void {
  try {
    if (workers.length === 0) startWorker();
  } catch {
    // layerUnpacker then unpacks on this thread
  }
}

/**
 * Ends the workers that have no job now: a worker's teardown (its isolate's heap, ~10 ms) then runs
 * beside the rest of the pull (recording the image) instead of at the process's exit, where node
 * waits for it. A later job starts a new worker.
 */
export function stopIdleUnpackWorkers(): void {
  for (const entry of [...workers]) {
    if (entry.active > 0) continue;
    workers.splice(workers.indexOf(entry), 1);
    entry.worker.terminate().catch(() => undefined);
  }
}

function settle(job: Job, how: () => void): void {
  if (job.settled) return;
  job.settled = true;
  if (--job.owner.active === 0) job.owner.worker.unref();
  job.wake?.();
  how();
}

function onMessage(message: FromWorker): void {
  if (message.type === 'return') {
    returned.push(message.buffer);
    if (returned.length > MAX_RETURNED) returned.shift();
    return;
  }
  const job = jobs.get(message.id);
  if (!job) return;
  switch (message.type) {
    case 'consumed':
      job.inFlight -= message.bytes;
      if (job.inFlight < IN_FLIGHT && job.wake) {
        const wake = job.wake;
        job.wake = undefined;
        wake();
      }
      break;
    case 'done':
      jobs.delete(message.id);
      settle(job, () => job.resolve(message.result));
      break;
    case 'failed':
      jobs.delete(message.id);
      settle(job, () => job.reject(deserializeError(message.error)));
      break;
  }
}

/** Unpack a layer in the worker from its compressed bytes, pushed as they arrive (see unpackLayerStream). */
export function unpackInWorker(dest: string, options: UnpackOptions): StreamUnpack {
  const owner = pickWorker();
  const id = nextId++;
  let job!: Job;
  const result = new Promise<UnpackResult>((resolve, reject) => {
    job = { owner, resolve, reject, settled: false, inFlight: 0 };
  });
  jobs.set(id, job);
  if (owner.active++ === 0) owner.worker.ref();
  owner.worker.postMessage({ type: 'stream', id, dest, options } satisfies ToWorker);
  const send = (message: ToWorker, transfer?: ArrayBuffer[]): void => {
    if (!job.settled) job.owner.worker.postMessage(message, transfer);
  };
  return {
    push(chunk) {
      if (job.settled) return undefined;
      let buffer: ArrayBuffer;
      if (chunk.buffer instanceof ArrayBuffer && giveable.delete(chunk.buffer)) buffer = chunk.buffer;
      else buffer = new Uint8Array(chunk).buffer;
      job.inFlight += chunk.byteLength;
      const offset = buffer === chunk.buffer ? chunk.byteOffset : 0;
      send({ type: 'chunk', id, buffer, offset, length: chunk.byteLength }, [buffer]);
      if (job.inFlight < IN_FLIGHT) return undefined;
      return new Promise<void>((resolve) => (job.wake = resolve));
    },
    end: () => send({ type: 'end', id }),
    abort: (message) => send({ type: 'abort', id, message }),
    result,
  };
}

/**
 * The same on this thread: for small layers, whose unpacking costs less than the worker's start
 * (~70 ms of CPU) and the hand-over. The chunks are shared, not copied (both sides only read them).
 */
export function unpackHere(dest: string, options: UnpackOptions): StreamUnpack {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let settled = false;
  const release = (): void => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const feed = new ChunkFeed((bytes) => {
    inFlight -= bytes;
    if (inFlight < IN_FLIGHT) release();
  });
  const result = unpackLayerStream(feed, dest, options).finally(() => {
    settled = true;
    release();
  });
  return {
    push(chunk) {
      if (settled) return undefined;
      inFlight += chunk.byteLength;
      feed.push(chunk);
      if (inFlight < IN_FLIGHT) return undefined;
      return new Promise<void>((resolve) => (wake = resolve));
    },
    end: () => feed.end(),
    abort: (message) => feed.abort(message),
    result,
  };
}

/** Layers this large (compressed bytes) are unpacked in the worker, smaller ones on the main thread. */
export const WORKER_MIN_LAYER = 8 * 1024 * 1024;
/**
 * ...unless the whole image is this large: then every layer goes to the worker. With 20 layers of
 * 2 MB the main thread (HTTP, blob digest and file, and the unpacking) was the bottleneck while
 * the second core stayed idle about half the time; with the worker (its start, ~60 ms, runs on the
 * other core while the first layers are made ready: pull.ts) that pull measured 0.05-0.1 s faster. A small image does
 * not gain the start back: a one-file image's pull measured 0.22 s on the main thread, 0.26 s with
 * the worker (bench/RESULTS.md, "## pull").
 */
export const WORKER_MIN_IMAGE = 16 * 1024 * 1024;

/** Whether a pull of layers of these compressed sizes unpacks them in the worker (then start it early: warmUnpackPool). */
export function unpackInWorkerFor(layerSizes: number[]): boolean {
  return layerSizes.reduce((a, b) => a + b, 0) >= WORKER_MIN_IMAGE || layerSizes.some((s) => s >= WORKER_MIN_LAYER);
}

/**
 * The unpacker for a layer of `size` compressed bytes: in the worker when `inWorker` (default: a
 * layer of WORKER_MIN_LAYER or more), else on this thread.
 */
export function layerUnpacker(size: number, dest: string, options: UnpackOptions, inWorker = size >= WORKER_MIN_LAYER): StreamUnpack {
  if (inWorker) {
    try {
      return unpackInWorker(dest, options);
    } catch {
      // no worker could be started (threads or memory exhausted): the same work on this thread
    }
  }
  return unpackHere(dest, options);
}
