/**
 * Opens a layer blob as its uncompressed byte stream. The format comes from the magic bytes,
 * not the media type (registries and tools mislabel): gzip through node's zlib, zstd through the
 * `zstd` binary as a streaming child (node 20's zlib has no zstd), anything else as plain tar.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { ImageError } from '../../errors/index.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export async function detectCompression(file: string): Promise<Compression> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await handle.close();
  }
}

/** The uncompressed stream of a blob file; errors of the decompressor surface as ImageError. */
export async function* openUncompressed(file: string, compression: Compression): AsyncGenerator<Buffer> {
  const highWaterMark = 256 * 1024;
  if (compression === 'none') {
    yield* fs.createReadStream(file, { highWaterMark }) as AsyncIterable<Buffer>;
    return;
  }
  if (compression === 'gzip') {
    const input = fs.createReadStream(file, { highWaterMark });
    const gunzip = zlib.createGunzip({ chunkSize: 128 * 1024 });
    input.on('error', (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      throw new ImageError('layer-decompress', `cannot decompress gzip layer: ${(error as Error).message}`, { cause: error });
    } finally {
      input.destroy();
      gunzip.destroy();
    }
    return;
  }
  const fd = fs.openSync(file, 'r');
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: [fd, 'pipe', 'pipe'] });
  fs.closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  let finished = false;
  try {
    for await (const chunk of child.stdout!) yield chunk as Buffer;
    const code = await exited.catch((error: Error) => {
      throw new ImageError('layer-decompress', `cannot run zstd: ${error.message}`, { cause: error });
    });
    if (code !== 0) throw new ImageError('layer-decompress', `cannot decompress zstd layer: ${stderr.trim() || `zstd exited with ${code}`}`);
    finished = true;
  } finally {
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
}
