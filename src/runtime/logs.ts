/**
 * Container output. Under systemd the container writes to the service's journal streams (it
 * inherits them), so `berth logs` asks journalctl for the unit's stdout. Outside systemd the
 * monitor appends the raw output to <root>/containers/<id>/ctr.log, which is tailed here
 * (no per-line timestamps: writing them needs a process reading every line; --since is then
 * answered from the journal only).
 */
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord } from './types.js';
import { logFile, readState } from './state.js';
import { RuntimeError } from '../errors/index.js';

export interface LogsOptions { follow?: boolean; since?: string; tail?: number; timestamps?: boolean }

/** The systemd unit a container runs under, from PODMAN_SYSTEMD_UNIT or its cgroup. */
export function systemdUnitOf(record: ContainerRecord): { unit: string; user: boolean } | undefined {
  const unit = record.options.systemdUnit ?? /\/([^/]+\.service)(?:\/|$)/.exec(record.cgroupParent ?? '')?.[1];
  if (!unit) return undefined;
  return { unit, user: /\/user@\d+\.service\//.test(record.cgroupParent ?? '') };
}

/** "10m", "2h", "30s" → ISO time that long ago; anything else is passed through (RFC3339, journalctl formats). */
export function parseSince(value: string, now = Date.now()): string {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) return value;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return new Date(now - Number(m[1]) * unit).toISOString();
}

export function journalctlArgs(record: ContainerRecord, o: LogsOptions): string[] | undefined {
  const u = systemdUnitOf(record);
  if (!u) return undefined;
  const args = ['--no-pager', '-o', o.timestamps ? 'short-iso' : 'cat', `${u.user ? '_SYSTEMD_USER_UNIT' : '_SYSTEMD_UNIT'}=${u.unit}`, '_TRANSPORT=stdout'];
  if (o.since) args.push('--since', journalTime(parseSince(o.since)));
  if (o.tail !== undefined && o.tail >= 0) args.push('-n', String(o.tail));
  if (o.follow) args.push('-f');
  return args;
}

function journalTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export async function streamLogs(paths: StoragePaths, record: ContainerRecord, o: LogsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
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
  if (o.since) throw new RuntimeError('logs-since', '--since needs the journal: this container was not started by systemd and its log file has no timestamps', { context: { container: record.name } });
  const file = logFile(paths, record.id);
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { /* no output yet */ }
  if (o.tail !== undefined && o.tail >= 0) {
    const lines = text.split('\n');
    const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
    text = lines.slice(Math.max(0, lines.length - o.tail)).join('\n') + (trailing === '' ? '\n' : '');
    if (o.tail === 0) text = '';
  }
  out.write(text);
  if (!o.follow) return;
  let offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    if (size > offset) {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      out.write(buf);
      offset = size;
    }
    if (readState(paths, record.id).status !== 'running' && size === offset) return;
  }
}
