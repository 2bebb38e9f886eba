/**
 * Pull progress for people: on a terminal, one line per layer with bytes and rate, redrawn in
 * place; otherwise Podman-like plain lines ("Copying blob 3f4e5a6b7c8d done"). Quiet prints nothing.
 */
import type { PullProgress } from './pull-types.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)}${units[unit]}`;
}

function shortDigest(digest: string | undefined): string {
  return (digest ?? '').replace(/^sha256:/, '').slice(0, 12);
}

interface LayerLine { digest: string; bytes: number; total?: number; started: number; done: boolean; note?: string }

export interface ProgressRenderer {
  onProgress: (event: PullProgress) => void;
  finish: () => void;
}

export function createProgressRenderer(stream: NodeJS.WriteStream = process.stderr, options: { tty?: boolean; quiet?: boolean } = {}): ProgressRenderer {
  if (options.quiet) return { onProgress: () => {}, finish: () => {} };
  const tty = options.tty ?? !!stream.isTTY;
  return tty ? ttyRenderer(stream) : plainRenderer(stream);
}

function plainRenderer(stream: NodeJS.WriteStream): ProgressRenderer {
  const announced = new Set<string>();
  return {
    onProgress(event) {
      if (event.phase === 'resolving' || event.phase === 'manifest') {
        if (event.message) stream.write(`${event.message}\n`);
      } else if (event.phase === 'layer') {
        const d = event.layer ?? '';
        if (event.message.startsWith('retry')) stream.write(`Copying blob ${shortDigest(d)}: ${event.message}\n`);
        else if (event.total !== undefined && event.bytes === event.total && !announced.has(d)) {
          announced.add(d);
          stream.write(`Copying blob ${shortDigest(d)} done${event.message === 'skipped' ? ' (already present)' : ''}\n`);
        }
      }
    },
    finish() {},
  };
}

function ttyRenderer(stream: NodeJS.WriteStream): ProgressRenderer {
  const lines = new Map<string, LayerLine>();
  let header: string[] = [];
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    timer = undefined;
    const width = stream.columns || 100;
    const out: string[] = [...header];
    for (const line of lines.values()) {
      const total = line.total;
      const elapsed = Math.max(0.001, (Date.now() - line.started) / 1000);
      const rate = line.done ? '' : `  ${formatBytes(Math.round(line.bytes / elapsed))}/s`;
      let bar = '';
      if (total) {
        const cells = 20;
        const filled = Math.min(cells, Math.round((line.bytes / total) * cells));
        bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled === cells ? '=' : '>') : ''}${' '.repeat(cells - filled)}] `;
      }
      const amount = total ? `${formatBytes(line.bytes)} / ${formatBytes(total)}` : formatBytes(line.bytes);
      const text = line.done ? `Copying blob ${shortDigest(line.digest)} done ${line.note ? `(${line.note}) ` : ''}${formatBytes(total ?? line.bytes)}`
        : `Copying blob ${shortDigest(line.digest)} ${bar}${amount}${rate}${line.note ? `  ${line.note}` : ''}`;
      out.push(text.slice(0, width - 1));
    }
    let s = drawnLines > 0 ? `\x1b[${drawnLines}A` : '';
    for (const l of out) s += `\x1b[2K${l}\n`;
    stream.write(s);
    drawnLines = out.length;
  };
  const schedule = (): void => {
    if (!timer) timer = setTimeout(draw, 100);
  };
  return {
    onProgress(event) {
      if (event.phase === 'resolving' || event.phase === 'manifest') {
        if (event.message) header.push(event.message);
        schedule();
      } else if (event.phase === 'layer' && event.layer) {
        let line = lines.get(event.layer);
        if (!line) {
          line = { digest: event.layer, bytes: 0, started: Date.now(), done: false };
          lines.set(event.layer, line);
        }
        if (event.bytes !== undefined) line.bytes = event.bytes;
        if (event.total !== undefined) line.total = event.total;
        line.note = event.message.startsWith('retry') ? event.message : event.message === 'skipped' ? 'already present' : undefined;
        if (line.total !== undefined && line.bytes >= line.total) line.done = true;
        schedule();
      } else if (event.phase === 'done') {
        if (timer) clearTimeout(timer);
        draw();
      }
    },
    finish() {
      if (timer) {
        clearTimeout(timer);
        draw();
      }
      header = [];
    },
  };
}
