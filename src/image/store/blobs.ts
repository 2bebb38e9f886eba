/**
 * Content-addressed blobs. A write streams into <partial>/<hex>, hashing as it goes; only when
 * size and digest match is the file fsynced and renamed into blobs/ (so a blob that exists is
 * always complete and verified). The rename itself is made durable by recordImage, which fsyncs
 * blobs/ once before the index names the blobs (one directory fsync per pull, not one per blob);
 * a blob a crash forgets was named by no record, and is fetched again. An interrupted download stays in partial/ for a Range resume
 * (`append`); a wrong digest or size removes it. One writer per digest at a time (file lock), so
 * two processes pulling the same blob do not interleave; the second finds it present.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImageError } from '../../errors/index.js';
import { syncDir } from './atomic.js';
import { digestHex } from './digest.js';
import type { StoreLayout } from './layout.js';

export function blobPath(layout: StoreLayout, digest: string): string {
  return path.join(layout.blobsDir, digestHex(digest));
}

export function partialPath(layout: StoreLayout, digest: string): string {
  return path.join(layout.partialDir, digestHex(digest));
}

/**
 * Whether `file` exists. Asked synchronously (a few microseconds of a local file system), as the
 * other quick looks of the store below: a thread-pool round trip costs milliseconds while a pull
 * keeps the thread pool and the event loop busy, and a layer took six of them before its first byte.
 */
export async function exists(file: string): Promise<boolean> {
  return fs.existsSync(file);
}

export async function partialSize(layout: StoreLayout, digest: string): Promise<number> {
  try {
    return fs.statSync(partialPath(layout, digest), { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}

export interface WriteBlobOptions {
  /** Continue the kept partial download (the source yields the bytes after it). */
  append?: boolean;
  /** With append: the byte offset the source starts at; the partial file is cut back to it (or the write is refused if shorter). */
  offset?: number;
  /**
   * Runs once size and digest are verified, before the blob becomes visible (the streaming
   * unpack finishes its layer here). If it throws, the bytes are dropped and nothing is committed.
   */
  beforeCommit?: () => Promise<void>;
}

/** Call with the blob's lock held. Returns without reading `source` when the blob is already stored. */
export async function writeBlobLocked(layout: StoreLayout, digest: string, size: number | undefined, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: WriteBlobOptions = {}): Promise<boolean> {
  const final = blobPath(layout, digest);
  if (await exists(final)) return false;
  const partial = partialPath(layout, digest);
  const hash = crypto.createHash('sha256');
  let written = 0;
  let handle: fs.promises.FileHandle;
  if (options.append) {
    handle = await fs.promises.open(partial, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
    let have = (await handle.stat()).size;
    if (options.offset !== undefined) {
      if (options.offset > have) {
        await handle.close();
        throw new ImageError('blob-resume-mismatch', `cannot resume blob ${digest} at ${options.offset}: only ${have} bytes kept`, { context: { digest } });
      }
      if (options.offset < have) await handle.truncate(options.offset);
      have = options.offset;
    }
    // Hash what is already there, then append.
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    while (written < have) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, have - written), written);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      written += bytesRead;
    }
  } else {
    handle = await fs.promises.open(partial, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
  }
  let verified = false;
  const writeback = new Writeback(handle);
  try {
    for await (const chunk of source) {
      if (size !== undefined && written + chunk.byteLength > size) {
        throw new ImageError('blob-size-mismatch', `blob ${digest} is larger than the expected ${size} bytes`, { context: { digest, expected: size } });
      }
      hash.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset, written + offset);
        offset += bytesWritten;
      }
      written += chunk.byteLength;
      writeback.wrote(chunk.byteLength);
    }
    await writeback.settle();
    if (size !== undefined && written !== size) {
      throw new ImageError('blob-size-mismatch', `blob ${digest}: got ${written} bytes, expected ${size}`, { context: { digest, expected: size, actual: written } });
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) {
      throw new ImageError('blob-digest-mismatch', `blob ${digest}: content has digest ${actual}`, { context: { digest, actual } });
    }
    // The fsync and the caller's last step (the streaming unpack finishing its layer) run at once;
    // both are done before the rename.
    const [synced, ready] = await Promise.allSettled([
      handle.sync(),
      options.beforeCommit?.(),
    ]);
    if (synced.status === 'rejected') throw synced.reason;
    if (ready.status === 'rejected') throw ready.reason;
    verified = true;
  } catch (error) {
    await writeback.settle().catch(() => undefined);
    await handle.close();
    // A verification failure means the bytes are wrong: drop them. A broken source (network) keeps
    // them for resume (the streaming unpack drops them itself when it refused the layer).
    if (error instanceof ImageError && /^blob-(size|digest)-mismatch$/.test(error.code)) await fs.promises.rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  if (verified) await fs.promises.rename(partial, final);
  return true;
}

/** fsync blobs/: every blob renamed into it so far is there after a crash (recordImage, before the index names them). */
export async function syncBlobsDir(layout: StoreLayout): Promise<void> {
  await syncDir(layout.blobsDir);
}

const WRITEBACK_EVERY = 8 * 1024 * 1024;
/** Background datasyncs at once in this process: libuv's pool has 4 threads, and file writes need some. */
const WRITEBACK_AT_ONCE = 2;
let writebacksRunning = 0;

/**
 * Disk writes while the download goes on: after every 8 MiB a datasync of the partial file
 * starts in the background, so the fsync before the commit finds little left. Otherwise the
 * page cache holds a whole pull until its end, and a 200 MB pull spent ~0.3-0.4 s in its
 * final fsyncs on ext4 (no cost on tmpfs). A failed datasync fails the write (at settle()), as the final fsync would.
 */
class Writeback {
  private pending?: Promise<void>;
  private error?: unknown;
  private unsynced = 0;

  constructor(private readonly handle: fs.promises.FileHandle) {}

  wrote(bytes: number): void {
    this.unsynced += bytes;
    if (this.unsynced < WRITEBACK_EVERY || this.pending || writebacksRunning >= WRITEBACK_AT_ONCE) return;
    this.unsynced = 0;
    writebacksRunning++;
    this.pending = this.handle.datasync().then(
      () => undefined,
      (error: unknown) => { this.error ??= error; },
    ).finally(() => {
      writebacksRunning--;
      this.pending = undefined;
    });
  }

  /** Wait for a running datasync (before the final fsync, and before the handle is closed). */
  async settle(): Promise<void> {
    await this.pending;
    if (this.error !== undefined) throw this.error;
  }
}
