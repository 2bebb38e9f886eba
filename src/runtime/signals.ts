/** Signal names and numbers as users write them: "TERM", "SIGTERM", "15", "sigkill". */
import os from 'node:os';
import { UsageError } from '../errors/index.js';

export function parseSignal(value: string): { name: string; number: number } {
  const v = value.trim().toUpperCase();
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    const name = Object.keys(signals).find((k) => signals[k] === n);
    if (name && n > 0 && n < 65) return { name, number: n };
    if (n >= 34 && n <= 64) return { name: `SIGRTMIN+${n - 34}`, number: n };
  } else {
    const name = v.startsWith('SIG') ? v : `SIG${v}`;
    if (signals[name] !== undefined) return { name, number: signals[name] };
  }
  throw new UsageError('invalid-signal', `invalid signal: ${value}`, { context: { signal: value } });
}
