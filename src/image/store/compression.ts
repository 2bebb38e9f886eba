/**
 * A layer blob's uncompressed byte stream. The format comes from the magic bytes, not the media
 * type (registries and tools mislabel): gzip through node's zlib, zstd through the `zstd` binary
 * as a streaming child (node 20's zlib has no zstd), anything else as plain tar.
 */
import { spawn } from 'node:child_process';
import zlib from 'node:zlib';
import { ImageError } from '../../errors/index.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** The format of a blob from its first bytes (at least 4 when the blob has them). */
export function compressionOf(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && Buffer.from(head.buffer, head.byteOffset, 4).readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/**
 * The uncompressed stream of a compressed byte stream (a download in progress). The format is
 * read from the first bytes and reported through `onFormat` before the first output. Reads
 * `source` only as fast as the output is consumed (backpressure through the decompressor).
 */
export async function* decompressStream(source: AsyncIterable<Uint8Array>, onFormat: (compression: Compression) => void, onConsumed?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 4) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    headBytes += next.value.byteLength;
  }
  const compression = compressionOf(Buffer.concat(head));
  onFormat(compression);
  async function* input(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }
  if (compression === 'none') {
    yield* input();
    return;
  }
  if (compression === 'gzip') {
    const gunzip = zlib.createGunzip({ chunkSize: 128 * 1024 });
    const feeding = feed(input(), gunzip, onConsumed);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
      await feeding;
    } catch (error) {
      // zlib's own errors (Z_DATA_ERROR, Z_BUF_ERROR, …) say the blob is bad; others are the input's.
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('Z_')) throw error;
      throw new ImageError('layer-decompress', `cannot decompress gzip layer: ${(error as Error).message}`, { cause: error });
    } finally {
      gunzip.destroy();
    }
    return;
  }
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => undefined); // EPIPE when zstd gives up: its exit code says why
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const feeding = feed(input(), child.stdin!, onConsumed);
  let finished = false;
  try {
    for await (const chunk of child.stdout!) yield chunk as Buffer;
    const code = await exited.catch((error: Error) => {
      throw new ImageError('layer-decompress', `cannot run zstd: ${error.message}`, { cause: error });
    });
    await feeding;
    if (code !== 0) throw new ImageError('layer-decompress', `cannot decompress zstd layer: ${stderr.trim() || `zstd exited with ${code}`}`);
    finished = true;
  } finally {
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
}

function writable(sink: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

/**
 * Writes `input` into `sink` honouring its backpressure, then ends it. A failing input destroys
 * the sink with that error (so the reader of the sink's output sees it); the returned promise
 * rejects with it too, and is marked handled. `onConsumed` gets each chunk once the sink is done
 * with it (zlib has taken its bytes; the pipe to zstd has them).
 */
function feed(input: AsyncIterable<Buffer>, sink: NodeJS.WritableStream & { destroy(error?: Error): void; destroyed: boolean }, onConsumed?: (chunk: Buffer) => void): Promise<void> {
  const done = (async () => {
    try {
      for await (const chunk of input) {
        if (sink.destroyed) return;
        const written = onConsumed ? sink.write(chunk, (error?: Error | null) => { if (!error) onConsumed(chunk); }) : sink.write(chunk);
        if (!written) await writable(sink);
      }
      sink.end();
    } catch (error) {
      sink.destroy(error as Error);
      throw error;
    }
  })();
  done.catch(() => undefined);
  return done;
}
