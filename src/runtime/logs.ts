/**
 * Container output. Under systemd the container writes to the service's journal streams (it
 * inherits them), so `berth logs` asks journalctl for the unit's stdout. Outside systemd the
 * monitor's log-writer.py appends timestamped records to <root>/containers/<id>/ctr.log
 * (Podman's k8s-file format), read here with --since/--until/-n/-t/-f.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { spawn } from 'node:child_process';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord } from './types.js';
import { logFile, readState } from './state.js';
import { RuntimeError } from '../errors/index.js';
import { parseLogTime } from './log-time.js';
import { LogParser, type LogLine } from './log-file.js';

export interface LogsOptions { follow?: boolean; since?: string; until?: string; tail?: number; timestamps?: boolean }

/** The systemd unit a container runs under, from PODMAN_SYSTEMD_UNIT or its cgroup. */
export function systemdUnitOf(record: ContainerRecord): { unit: string; user: boolean } | undefined {
  const unit = record.options.systemdUnit ?? /\/([^/]+\.service)(?:\/|$)/.exec(record.cgroupParent ?? '')?.[1];
  if (!unit) return undefined;
  return { unit, user: /\/user@\d+\.service\//.test(record.cgroupParent ?? '') };
}

export function journalctlArgs(record: ContainerRecord, o: LogsOptions, nowNs?: bigint): string[] | undefined {
  const u = systemdUnitOf(record);
  if (!u) return undefined;
  const args = ['--no-pager', '-o', o.timestamps ? 'short-iso' : 'cat', `${u.user ? '_SYSTEMD_USER_UNIT' : '_SYSTEMD_UNIT'}=${u.unit}`, '_TRANSPORT=stdout'];
  if (o.since) args.push('--since', journalTime(parseLogTime(o.since, '--since', nowNs)));
  if (o.until) args.push('--until', journalTime(parseLogTime(o.until, '--until', nowNs)));
  if (o.tail !== undefined && o.tail >= 0) args.push('-n', String(o.tail));
  if (o.follow) args.push('-f');
  return args;
}

/** systemd.time(7): "@" and seconds since the epoch, microseconds allowed; no time zone to get wrong. */
function journalTime(ns: bigint): string {
  const us = ns / 1000n;
  return `@${us / 1000000n}.${String(us % 1000000n).padStart(6, '0')}`;
}

export async function streamLogs(paths: StoragePaths, record: ContainerRecord, o: LogsOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<void> {
  const state = readState(paths, record.id);
  const journal = journalctlArgs(record, o);
  if (journal && (state.supervisor === 'systemd' || record.options.systemdUnit)) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('journalctl', journal, { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.pipe(out, { end: false });
      child.on('error', (e) => reject(new RuntimeError('logs', `cannot run journalctl: ${e.message}`, { cause: e })));
      child.on('exit', () => resolve());
    });
    return;
  }
  await readLogFile(paths, record, o, out, err);
}

/**
 * The log file outside systemd (log-writer.py's records): --since/--until compare each line's
 * time (inclusive, as Podman), -n keeps the last N lines of what is left, -t prints the time.
 * With -f, a line still without its newline (a prompt) is shown as it comes, the rest when it
 * ends; following stops when the container does, or once --until has passed.
 */
async function readLogFile(paths: StoragePaths, record: ContainerRecord, o: LogsOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
  const since = o.since ? parseLogTime(o.since, '--since') : undefined;
  const until = o.until ? parseLogTime(o.until, '--until') : undefined;
  const wanted = (l: LogLine) => (since === undefined && until === undefined)
    || (l.timeNs !== undefined && (since === undefined || l.timeNs >= since) && (until === undefined || l.timeNs <= until));
  const shown = new Map<string, number>(); // per stream: characters of an unfinished line already printed
  const print = (lines: LogLine[]) => {
    for (const l of lines) {
      if (!wanted(l)) continue;
      const from = shown.get(l.stream) ?? 0;
      if (l.complete) shown.delete(l.stream);
      else if (l.text.length > from) shown.set(l.stream, l.text.length);
      else continue;
      (l.stream === 'stderr' ? err : out).write(`${o.timestamps && l.time && from === 0 ? `${l.time} ` : ''}${l.text.slice(from)}${l.complete ? '\n' : ''}`);
    }
  };
  const file = logFile(paths, record.id);
  const parser = new LogParser();
  const decoder = new StringDecoder('utf8');
  let offset = 0;
  const readNew = (): string => {
    let fd: number;
    try { fd = fs.openSync(file, 'r'); } catch { return ''; }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return '';
      const buf = Buffer.alloc(size - offset);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      return decoder.write(buf.subarray(0, n));
    } finally { fs.closeSync(fd); }
  };
  let lines = parser.push(readNew());
  if (!o.follow) lines.push(...parser.flush());
  lines = lines.filter(wanted);
  if (o.tail !== undefined && o.tail >= 0) lines = o.tail === 0 ? [] : lines.slice(-o.tail);
  print(lines);
  if (!o.follow) return;
  print(parser.pending());
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const over = readState(paths, record.id).status !== 'running' || (until !== undefined && BigInt(Date.now()) * 1000000n > until);
    print([...parser.push(readNew()), ...parser.pending()]);
    if (over) { print([...parser.push(readNew() + decoder.end()), ...parser.flush()]); return; }
  }
}
