/**
 * Reading ctr.log, the k8s-file records log-writer.py appends ("<RFC3339Nano> <stream> <F|P> text"):
 * records become output lines (P pieces joined up to their F), each with the time its first piece
 * was written. A line that is not a record (e.g. an error of the monitor's shell) is kept as
 * stdout without a time.
 */
import { parseTimestampNs } from './log-time.js';

export interface LogLine { timeNs?: bigint; time?: string; stream: 'stdout' | 'stderr'; text: string; complete: boolean }

const RECORD = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Incremental: feed text as the file grows; complete output lines come out, pieces wait. */
export class LogParser {
  private rest = '';
  private pending = new Map<string, LogLine>();

  push(chunk: string): LogLine[] {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogLine[] = [];
    for (const raw of lines) {
      const m = RECORD.exec(raw);
      const timeNs = m ? parseTimestampNs(m[1]) : undefined;
      if (!m || timeNs === undefined) { out.push({ stream: 'stdout', text: raw, complete: true }); continue; }
      const stream = m[2] as 'stdout' | 'stderr';
      const line = this.pending.get(stream) ?? { timeNs, time: m[1], stream, text: '', complete: false };
      line.text += m[4];
      if (m[3] === 'F') { line.complete = true; this.pending.delete(stream); out.push(line); } else this.pending.set(stream, line);
    }
    return out;
  }

  /** At the end of the file: pieces still without their newline (a prompt, output cut by exit). */
  flush(): LogLine[] {
    const out = this.rest ? this.push('\n') : [];
    out.push(...this.pending.values());
    this.pending.clear();
    return out;
  }
}
