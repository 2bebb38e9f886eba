/**
 * A queue of compressed chunks between a download and the extractor reading them (an async
 * iterable). The downloader pushes, ends or aborts; `onTaken` reports each chunk the extractor
 * takes, so the downloader can bound what waits in between (backpressure). Used in the unpack
 * worker (unpack-worker.ts) and for layers unpacked on the main thread (unpack-pool.ts).
 */
export class ChunkFeed implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure?: Error;
  private wake?: () => void;

  constructor(private readonly onTaken: (bytes: number) => void) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The extractor's next read fails with `message`; what is queued is dropped. */
  abort(message: string): void {
    this.failure = new Error(message);
    this.chunks.length = 0;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.onTaken(chunk.byteLength);
        yield chunk;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
