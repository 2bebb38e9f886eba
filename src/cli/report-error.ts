import { BerthError, redact } from '../errors/index.js';

/** One line on stderr (the whole error as JSON with BERTH_DEBUG); returns the exit status. */
export function reportError(error: unknown): number {
  if (error instanceof BerthError) {
    process.stderr.write(`Error: ${redact(error.message)}\n`);
    if (process.env.BERTH_DEBUG) process.stderr.write(`${redact(JSON.stringify(error.toJSON(), null, 2))}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (process.env.BERTH_DEBUG ? error.stack ?? error.message : error.message) : String(error);
  process.stderr.write(`Error: ${redact(message)}\n`);
  return 125;
}
