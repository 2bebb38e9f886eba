/**
 * The layer extractor in a worker thread (see unpack-pool.ts, which starts it). Each job unpacks
 * one layer with the same code as the main thread (unpack.ts: the strict extractor, the diff-ID
 * hash, gzip/zstd): from compressed chunks the main thread sends as they arrive, or from a blob
 * file. Several jobs run at once, interleaved on this thread's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { unpackLayerFile, unpackLayerStream, type UnpackResult } from './unpack.js';
import { serializeError, type ToWorker, type FromWorker } from './unpack-protocol.js';

interface Feed {
  chunks: Uint8Array[];
  ended: boolean;
  failure?: Error;
  wake?: () => void;
}

const port = parentPort;
if (!port) throw new Error('unpack-worker.js runs as a worker thread (unpack-pool.ts)');
const feeds = new Map<number, Feed>();

function post(message: FromWorker): void {
  port!.postMessage(message);
}

/** The chunks of one job as the extractor pulls them; each pulled chunk is acknowledged (backpressure). An abort drops what is queued. */
async function* chunksOf(id: number, feed: Feed): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = feed.chunks.shift();
    if (chunk !== undefined) {
      post({ type: 'consumed', id, bytes: chunk.byteLength });
      yield chunk;
      continue;
    }
    if (feed.failure) throw feed.failure;
    if (feed.ended) return;
    await new Promise<void>((resolve) => (feed.wake = resolve));
    feed.wake = undefined;
  }
}

function run(id: number, work: Promise<UnpackResult>): void {
  work.then(
    (result) => post({ type: 'done', id, result }),
    (error: unknown) => post({ type: 'failed', id, error: serializeError(error) }),
  ).finally(() => feeds.delete(id));
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'stream': {
      const feed: Feed = { chunks: [], ended: false };
      feeds.set(message.id, feed);
      run(message.id, unpackLayerStream(chunksOf(message.id, feed), message.dest, message.options));
      break;
    }
    case 'file':
      run(message.id, unpackLayerFile(message.file, message.dest, message.options));
      break;
    case 'chunk':
    case 'end':
    case 'abort': {
      const feed = feeds.get(message.id);
      if (!feed) break; // the job already finished (refused): what still arrives is dropped
      if (message.type === 'chunk') feed.chunks.push(new Uint8Array(message.buffer, message.offset, message.length));
      else if (message.type === 'end') feed.ended = true;
      else {
        feed.failure = new Error(message.message);
        feed.chunks.length = 0;
      }
      feed.wake?.();
      break;
    }
  }
});
