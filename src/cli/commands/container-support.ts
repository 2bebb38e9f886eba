/**
 * Helpers shared by the container commands: storage paths, image resolution (src/image, with
 * progress sent to systemd during long pulls), name/--cidfile lookup, Podman's human formats.
 */
import fs from 'node:fs';
import { RuntimeError } from '../../errors/index.js';
import { resolveStoragePaths, type StoragePaths } from '../../paths/index.js';
import { requireRecord, sdNotify, type ContainerRecord, type RuntimeImage } from '../../runtime/index.js';
import { systemdPullProgress } from './pull-status.js';

export function pathsOf(argv: Record<string, unknown>): StoragePaths {
  return resolveStoragePaths({ root: argv.root as string | undefined, runroot: argv.runroot as string | undefined });
}

interface ImageModule {
  ensureImage(reference: string, options: { paths: StoragePaths; policy: string; quiet?: boolean; onProgress?: (e: { phase: string; message: string; bytes?: number; total?: number }) => void }): Promise<RuntimeImage & { names: string[] }>;
}
// src/image is loaded only when a container is created: `ps`, `stop`, `rm` never pay for the registry client.
// A literal specifier, so the CLI bundle (package.json "build") carries it as a chunk.

/**
 * Resolve and (per policy) pull the image. Under systemd a pull can outlast TimeoutStartSec:
 * while bytes arrive berth extends the start timeout (EXTEND_TIMEOUT_USEC) and shows progress
 * in `systemctl status` (STATUS=); see pull-status.ts. Sent with systemd-notify's barrier: a
 * datagram whose sender has exited before systemd reads it cannot be attributed to the unit and
 * is dropped, and a dropped extension would fail the start.
 */
export async function resolveImage(reference: string, policy: string, paths: StoragePaths): Promise<RuntimeImage> {
  const mod = (await import('../../image/index.js')) as unknown as ImageModule;
  const underSystemd = Boolean(process.env.NOTIFY_SOCKET);
  const progress = underSystemd ? systemdPullProgress(reference, (assignments) => sdNotify(assignments)) : undefined;
  try {
    return await mod.ensureImage(reference, { paths, policy, quiet: underSystemd, onProgress: progress?.onProgress });
  } finally {
    await progress?.flush();
  }
}

/** Container names/IDs from positional args plus --cidfile files; `ignore` skips missing cidfiles. */
export function targetsOf(argv: Record<string, unknown>, opts: { ignore?: boolean } = {}): string[] {
  const names = ((argv.containers ?? argv.container ?? []) as string[] | string);
  const out = Array.isArray(names) ? [...names] : [names];
  const cidfiles = argv.cidfile === undefined ? [] : Array.isArray(argv.cidfile) ? argv.cidfile as string[] : [argv.cidfile as string];
  for (const f of cidfiles) {
    try { out.push(fs.readFileSync(f, 'utf8').trim()); } catch {
      if (!opts.ignore) throw new RuntimeError('cidfile-missing', `reading CIDFile ${f}: no such file or directory`, { context: { file: f } });
    }
  }
  return out.filter(Boolean);
}

export function recordsOf(argv: Record<string, unknown>, paths: StoragePaths): ContainerRecord[] {
  return targetsOf(argv).map((n) => requireRecord(paths, n));
}

/** "Up 5 minutes", "Exited (0) 2 seconds ago", "Created": Podman's STATUS column. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  const d = Math.floor(h / 24);
  return `${d} days`;
}

export function printTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2))).join('').trimEnd()).join('\n') + '\n';
}
