/**
 * The messages between the main thread (unpack-pool.ts) and the unpack worker (unpack-worker.ts),
 * and errors across the thread boundary: a structured clone keeps only an Error's message, so a
 * BerthError goes as its class name, code, context and exit code and comes back as the same class.
 */
import { BerthError, ImageError, type ErrorContext } from '../../errors/index.js';
import type { UnpackOptions, UnpackResult } from './unpack.js';

export type ToWorker =
  | { type: 'stream'; id: number; dest: string; options: UnpackOptions }
  /** Compressed bytes of a 'stream' job; `buffer` is transferred (the sender no longer has it). */
  | { type: 'chunk'; id: number; buffer: ArrayBuffer; offset: number; length: number }
  | { type: 'end'; id: number }
  /** The download broke: the job fails with this message (its result is not used). */
  | { type: 'abort'; id: number; message: string };

export type FromWorker =
  /** The extractor took `bytes` of a job's chunks: the sender may send more. */
  | { type: 'consumed'; id: number; bytes: number }
  | { type: 'done'; id: number; result: UnpackResult }
  /** A chunk's memory, handed back (transferred) once the decompressor took its bytes, for the next batch. */
  | { type: 'return'; buffer: ArrayBuffer }
  | { type: 'failed'; id: number; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** A BerthError's code, or a system error's (ENOENT, …). */
  code?: string;
  context?: ErrorContext;
  exitCode?: number;
  berth: boolean;
  cause?: SerializedError;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), berth: false };
  const code = (error as { code?: unknown }).code;
  const out: SerializedError = {
    name: error.name, message: error.message, stack: error.stack, berth: error instanceof BerthError,
    ...(typeof code === 'string' ? { code } : {}),
  };
  if (error instanceof BerthError) {
    out.context = error.context;
    out.exitCode = error.exitCode;
  }
  if (error.cause !== undefined && depth < 3) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

/** The error again, as the class the worker threw (the layer errors are all ImageErrors). */
export function deserializeError(data: SerializedError): Error {
  const cause = data.cause ? deserializeError(data.cause) : undefined;
  let error: Error;
  if (data.berth) {
    error = new ImageError(data.code ?? 'layer-unpack-failed', data.message, { context: data.context, exitCode: data.exitCode, cause });
  } else {
    error = new Error(data.message, cause === undefined ? undefined : { cause });
    error.name = data.name;
    if (data.code !== undefined) (error as NodeJS.ErrnoException).code = data.code;
  }
  if (data.stack) error.stack = `${error.name}: ${error.message}\n    (in the unpack worker)\n${data.stack.split('\n').slice(1).join('\n')}`;
  return error;
}
