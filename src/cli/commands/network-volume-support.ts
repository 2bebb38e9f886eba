/**
 * Shared by the `network`, `volume` and `port` commands: storage paths from the global flags,
 * KEY=VALUE lists, a small Go-template subset for --format, and "which containers use this".
 */
import { UsageError } from '../../errors/index.js';
import { containersOnNetwork, parseNetworkOption, type NetworkConfig } from '../../network/index.js';
import { resolveStoragePaths, type StoragePaths } from '../../paths/index.js';
import { findRecord, listRecords, removeContainer } from '../../runtime/index.js';

export function storagePaths(argv: { root?: string; runroot?: string }): StoragePaths {
  return resolveStoragePaths({ root: argv.root, runroot: argv.runroot });
}

/** ["a=b", "c"] -> {a: "b", c: ""}; `what` names the flag in errors. */
export function keyValues(values: unknown, what: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const raw of toList(values)) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    if (!key) throw new UsageError('invalid-key-value', `${what} "${raw}": expected KEY=VALUE`, { context: { value: raw } });
    result[key] = eq < 0 ? '' : raw.slice(eq + 1);
  }
  return result;
}

export function toList(values: unknown): string[] {
  if (values === undefined || values === null) return [];
  return (Array.isArray(values) ? values : [values]).map(String);
}

/**
 * `{{.Name}}`, `{{.Labels.app}}`, `{{json .Subnets}}`, `{{range}}`-free Go templates, the subset
 * scripts use with `--format`. "json" alone prints JSON.
 */
export function renderTemplate(template: string, value: unknown): string {
  const text = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return text.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}/g, (_, json: string | undefined, field: string) => {
    let current: unknown = value;
    for (const part of field.split('.').filter(Boolean)) {
      current = current && typeof current === 'object' ? lookupField(current as Record<string, unknown>, part) : undefined;
    }
    if (json) return JSON.stringify(current ?? null);
    if (current === undefined || current === null) return '<no value>';
    return goString(current);
  });
}

/** Go's default formatting: [a b] for slices, {a b} for structs, map[k:v] for maps. */
function goString(value: unknown): string {
  if (value === undefined || value === null) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object') return `{${Object.values(value as object).map(goString).join(' ')}}`;
  return String(value);
}

function lookupField(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase().replace(/_/g, '');
  const key = Object.keys(object).find((k) => k.toLowerCase().replace(/_/g, '') === lower);
  return key === undefined ? undefined : object[key];
}

export function printTable(rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}\n`);
}

/** IDs of containers (created, running or stopped) that use the network. */
export async function networkUsers(paths: StoragePaths, network: NetworkConfig): Promise<string[]> {
  const users = new Set(await containersOnNetwork(paths, network.name));
  for (const record of listRecords(paths)) {
    try {
      const mode = parseNetworkOption(record.options.network ?? []);
      if (mode.kind === 'bridge' && mode.networks.some((n) => n.name === network.name)) users.add(record.id);
    } catch {
      // A record with flags this version cannot parse does not block removal.
    }
  }
  return [...users];
}

/** Names of containers that refer to the volume. */
export function volumeUsers(paths: StoragePaths, name: string): string[] {
  return listRecords(paths)
    .filter((record) => (record.options.mounts ?? []).some((m) => m.kind === 'volume' && m.name === name))
    .map((record) => record.name);
}

/** `rm -f` of a network or volume removes the containers using it first, as Podman does. */
export async function removeContainersByNameOrId(paths: StoragePaths, ids: string[], timeout?: number): Promise<void> {
  for (const id of ids) {
    const record = findRecord(paths, id);
    if (record) await removeContainer(paths, record, { force: true, timeout });
  }
}
