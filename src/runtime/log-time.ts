/**
 * `logs --since/--until` times, as Podman reads them (its util.ParseInputTime): RFC3339Nano,
 * RFC3339, 2006-01-02T15:04:05[.999999999] (UTC), 2006-01-02Z07:00, 2006-01-02 (UTC midnight);
 * then unix seconds (fraction allowed); then a Go duration (1h30m, 10m, 1.5s, 300ms) counted back
 * from now for --since and, as Podman does, forward from now for --until.
 * Result: nanoseconds since the epoch (log records carry nanoseconds).
 */
import { UsageError } from '../errors/index.js';

const NS_PER: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n };

/** "2024-05-01T10:00:00.5+02:00" → ns since the epoch (undefined if not a date of these shapes). */
export function parseTimestampNs(value: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMin = 0;
  if (zone !== 'Z') offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return BigInt(ms - offsetMin * 60000) * 1000000n + BigInt(frac.padEnd(9, '0'));
}

/** Go's time.ParseDuration, in ns (undefined if not one). */
export function parseGoDurationNs(value: string): bigint | undefined {
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(value);
  if (!m) return undefined;
  let total = 0n;
  for (const [, num, unit] of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const [int, frac = ''] = num.split('.');
    const scale = NS_PER[unit];
    total += BigInt(int || '0') * scale + (frac ? (BigInt(frac.slice(0, 18).padEnd(18, '0')) * scale) / 10n ** 18n : 0n);
  }
  return m[1] === '-' ? -total : total;
}

export function parseLogTime(value: string, flag: '--since' | '--until', nowNs: bigint = BigInt(Date.now()) * 1000000n): bigint {
  const v = value.trim();
  const stamp = parseTimestampNs(v);
  if (stamp !== undefined) return stamp;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) {
    const seconds = Number(v);
    const whole = Math.trunc(seconds);
    return BigInt(whole) * 1000000000n + BigInt(Math.round((seconds - whole) * 1e9));
  }
  const duration = parseGoDurationNs(v);
  if (duration === undefined) {
    throw new UsageError('invalid-time', `${flag} ${value}: unable to interpret time value (use RFC3339, 2006-01-02, unix seconds or a duration such as 10m)`, { context: { flag, value } });
  }
  return flag === '--since' ? nowNs - duration : nowNs + duration;
}

/** ns since the epoch → RFC3339 with nanoseconds, UTC (the log file's timestamps). */
export function formatNs(ns: bigint): string {
  const ms = Number(ns / 1000000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(ns % 1000000000n).padStart(9, '0')}Z`;
}
