/**
 * A pull under systemd (a unit's ExecStart pulling its image): its progress becomes the unit's
 * status line (STATUS=, `systemctl status`), and every message that shows progress also extends
 * the start timeout (EXTEND_TIMEOUT_USEC=), so a long first pull does not fail on
 * TimeoutStartSec while a stalled one still does, 30 s after its last byte.
 */
export interface PullEvent { phase: string; message: string; image?: string; layer?: string; bytes?: number; total?: number }

export const EXTEND_USEC = 30_000_000;
const MIN_INTERVAL_MS = 1000;

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** Aggregates layer events into one line: "Pulling IMAGE: 1.2 of 2.2 MB (0 of 1 layers)". */
export class PullStatus {
  private readonly layers = new Map<string, { bytes: number; total: number }>();
  constructor(private readonly reference: string) {}

  line(e: PullEvent): string {
    const name = e.image ?? this.reference;
    if (e.phase === 'layer' && e.layer && e.total !== undefined) {
      this.layers.set(e.layer, { bytes: e.bytes ?? 0, total: e.total });
      const all = [...this.layers.values()];
      const bytes = all.reduce((n, l) => n + Math.min(l.bytes, l.total), 0);
      const total = all.reduce((n, l) => n + l.total, 0);
      const done = all.filter((l) => l.bytes >= l.total).length;
      const note = /^(downloading|downloaded|skipped)$/.test(e.message) ? '' : `, ${e.message}`;
      return `Pulling ${name}: ${mb(bytes)} of ${mb(total)} MB (${done} of ${all.length} layers${note})`;
    }
    if (e.phase === 'unpacking') return `Pulling ${name}: ${e.message.replace(/^Unpacking/, 'unpacking layer')}`;
    if (e.phase === 'done') return `Pulled ${name}`;
    return `Pulling ${name}: ${e.message.replace(/\n/g, ' ')}`;
  }
}

/**
 * The onProgress of a pull that sends at most one message a second (and every phase change),
 * one at a time; `flush` waits for the last. `send` failures are swallowed: progress is a nicety,
 * the pull goes on.
 */
export function systemdPullProgress(reference: string, send: (assignments: string[]) => Promise<void>, now: () => number = Date.now): { onProgress: (e: PullEvent) => void; flush: () => Promise<void> } {
  const status = new PullStatus(reference);
  let lastSent = -Infinity;
  let lastPhase = '';
  let chain: Promise<void> = Promise.resolve();
  return {
    onProgress: (e) => {
      const text = status.line(e);
      const t = now();
      if (t - lastSent < MIN_INTERVAL_MS && e.phase === lastPhase && e.phase !== 'done') return;
      lastSent = t;
      lastPhase = e.phase;
      chain = chain.then(() => send([`STATUS=${text}`, `EXTEND_TIMEOUT_USEC=${EXTEND_USEC}`])).catch(() => undefined);
    },
    flush: () => chain,
  };
}
