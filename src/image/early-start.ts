/**
 * A download whose request goes out at once, before its reader is ready: the registry's answer
 * (a round trip, more when the registry is busy) then overlaps the store's work before the first
 * byte is written (locks, a temp dir, the partial file) instead of following it. Only the request
 * and the first chunk are taken early; the rest is read as the reader asks (backpressure as before).
 */
export class EarlyStart<T> implements AsyncIterable<T> {
  private readonly iterator: AsyncIterator<T>;
  private first: Promise<IteratorResult<T>> | undefined;
  private taken = false;

  constructor(source: AsyncIterable<T>) {
    this.iterator = source[Symbol.asyncIterator]();
    this.first = this.iterator.next();
    // A failure is the reader's to see; until it reads, it must not be an unhandled rejection.
    this.first.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.taken) throw new Error('an early-started download is read once');
    this.taken = true;
    const iterator = this.iterator;
    return {
      next: () => {
        const first = this.first;
        this.first = undefined;
        return first ?? iterator.next();
      },
      return: async (value?: unknown) => {
        this.first = undefined;
        return (await iterator.return?.(value)) ?? { done: true, value: undefined };
      },
    };
  }

  /** Drops the download when nothing read it (the blob was stored meanwhile, or the store failed first). */
  close(): void {
    if (this.taken) return;
    this.taken = true;
    this.first = undefined;
    this.iterator.return?.().catch(() => undefined);
  }
}
