/**
 * Retrying transient failures: exponential backoff with jitter, or the server's Retry-After.
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 8000 };

/** An error that may succeed when tried again; `retryAfterMs` is the server's wish (429/503 Retry-After). */
export class TransientError extends Error {
  readonly retryAfterMs?: number;
  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Retry-After: delta-seconds or an HTTP date. Capped at 60 s. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const cap = 60000;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value.trim()) * 1000, cap);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), cap);
}

export function backoffDelay(policy: RetryPolicy, attempt: number, hintMs?: number): number {
  if (hintMs !== undefined) return hintMs;
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` until it succeeds, `isTransient` says an error is final, or attempts run out
 * (then the last error is thrown).
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, isTransient: (error: unknown) => boolean,
  options: { policy?: RetryPolicy; signal?: AbortSignal; onRetry?: (error: unknown, attempt: number, delayMs: number) => void } = {}): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= policy.attempts || !isTransient(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(policy, attempt, error instanceof TransientError ? error.retryAfterMs : undefined);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
