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
  private unfinished = new Map<string, LogLine>();

  push(chunk: string): LogLine[] {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    const out: LogLine[] = [];
    for (const raw of lines) {
      const m = RECORD.exec(raw);
      const timeNs = m ? parseTimestampNs(m[1]) : undefined;
      if (!m || timeNs === undefined) { out.push({ stream: 'stdout', text: raw, complete: true }); continue; }
      const stream = m[2] as 'stdout' | 'stderr';
      const line = this.unfinished.get(stream) ?? { timeNs, time: m[1], stream, text: '', complete: false };
      line.text += m[4];
      if (m[3] === 'F') { line.complete = true; this.unfinished.delete(stream); out.push(line); } else this.unfinished.set(stream, line);
    }
    return out;
  }

  /** Lines still waiting for their newline, as far as they have come (not consumed). */
  pending(): LogLine[] {
    return [...this.unfinished.values()].map((l) => ({ ...l }));
  }

  /** At the end of the file: pieces still without their newline (a prompt, output cut by exit). */
  flush(): LogLine[] {
    const out = this.rest ? this.push('\n') : [];
    out.push(...this.unfinished.values());
    this.unfinished.clear();
    return out;
  }
}
