/**
 * Shared by `images`, `rmi` and `image …`: the store from the global flags, "is a container
 * using this image", and Podman's human sizes and ages.
 */
import { resolveStoragePaths } from '../../paths/index.js';
import { ImageStore, splitName, type StoredImage } from '../../image/store/index.js';
import { listRecords } from '../../runtime/state.js';

export async function openStore(argv: { root?: string; runroot?: string }): Promise<ImageStore> {
  return ImageStore.open(resolveStoragePaths({ root: argv.root, runroot: argv.runroot }));
}

/** Containers (any state) whose record names the image. */
export function imageInUse(store: ImageStore): (imageId: string) => boolean {
  let ids: Set<string> | undefined;
  return (imageId) => {
    ids ??= new Set(listRecords(store.paths).map((r) => r.image?.id).filter((id): id is string => typeof id === 'string'));
    return ids.has(imageId);
  };
}

/** Podman's (docker/go-units) decimal sizes: "1.23 MB". */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))} ${units[unit]}`;
}

/** "3 days ago", "About an hour ago", as Podman prints CREATED. */
export function humanAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return 'N/A';
  const s = Math.max(0, (now - then) / 1000);
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return `${Math.floor(s)} seconds ago`;
  const m = s / 60;
  if (m < 2) return 'About a minute ago';
  if (m < 60) return `${Math.floor(m)} minutes ago`;
  const h = m / 60;
  if (h < 2) return 'About an hour ago';
  if (h < 48) return `${Math.floor(h)} hours ago`;
  const d = h / 24;
  if (d < 14) return `${Math.floor(d)} days ago`;
  if (d < 60) return `${Math.floor(d / 7)} weeks ago`;
  if (d < 730) return `${Math.floor(d / 30)} months ago`;
  return `${Math.floor(d / 365)} years ago`;
}

export interface ImageRow { repository: string; tag: string; id: string; digest: string; created?: string; size: number; names: string[] }

/** One row per name, or one "<none>" row for a dangling image. */
export function imageRows(images: StoredImage[]): ImageRow[] {
  const rows: ImageRow[] = [];
  const sorted = [...images].sort((a, b) => (b.created ?? b.recordedAt).localeCompare(a.created ?? a.recordedAt));
  for (const image of sorted) {
    const base = { id: image.id, digest: image.digest, created: image.created, size: image.size, names: image.names };
    if (image.names.length === 0) rows.push({ ...base, repository: '<none>', tag: '<none>' });
    for (const name of image.names) rows.push({ ...base, ...splitName(name) });
  }
  return rows;
}

export function printColumns(header: string[], rows: string[][], noHeading = false): void {
  const all = noHeading ? rows : [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const row of all) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join('')}\n`);
}
