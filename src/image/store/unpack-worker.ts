/**
 * The layer extractor in a worker thread (see unpack-pool.ts, which starts it). Each job unpacks
 * one layer with the same code as the main thread (unpack.ts: the strict extractor, the diff-ID
 * hash, gzip/zstd) from the compressed chunks the main thread sends as they arrive. Several jobs
 * run at once, interleaved on this thread's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { ChunkFeed } from './chunk-feed.js';
import { unpackLayerStream } from './unpack.js';
import { serializeError, type ToWorker, type FromWorker } from './unpack-protocol.js';

const port = parentPort;
if (!port) throw new Error('unpack-worker.js runs as a worker thread (unpack-pool.ts)');
const feeds = new Map<number, ChunkFeed>();

function post(message: FromWorker): void {
  port!.postMessage(message);
}

/**
 * A transferred chunk the decompressor is done with goes back to the main thread, which reuses its
 * memory. Each chunk came in a buffer of its own (a batch may fill only part of it: a blob's last).
 */
function giveBack(chunk: Buffer): void {
  const buffer = chunk.buffer;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) port!.postMessage({ type: 'return', buffer } satisfies FromWorker, [buffer]);
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'stream') {
    const { id } = message;
    // Each chunk the extractor takes is acknowledged: the sender keeps at most IN_FLIGHT bytes queued here.
    const feed = new ChunkFeed((bytes) => post({ type: 'consumed', id, bytes }));
    feeds.set(id, feed);
    unpackLayerStream(feed, message.dest, message.options, giveBack).then(
      (result) => post({ type: 'done', id, result }),
      (error: unknown) => post({ type: 'failed', id, error: serializeError(error) }),
    ).finally(() => feeds.delete(id));
    return;
  }
  const feed = feeds.get(message.id);
  if (!feed) return; // the job already finished (refused): what still arrives is dropped
  if (message.type === 'chunk') feed.push(new Uint8Array(message.buffer, message.offset, message.length));
  else if (message.type === 'end') feed.end();
  else feed.abort(message.message);
});
