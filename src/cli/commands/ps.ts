/** `berth ps [-a] [-q] [--no-trunc] [--format json|TEMPLATE]`: Podman's columns. */
import type { Argv, CommandModule } from 'yargs';
import { listRecords, readHealth, readState, type ContainerRecord, type RunState } from '../../runtime/index.js';
import type { StoragePaths } from '../../paths/index.js';
import { humanDuration, pathsOf, printTable } from './container-support.js';
import { renderTemplate } from './network-volume-support.js';

/** "Up 5 seconds (healthy)": the health status of a running container with a health check, as Podman shows it. */
function healthSuffix(paths: StoragePaths, record: ContainerRecord, state: RunState): string {
  if (state.status !== 'running' || !record.options.healthCheck) return '';
  const status = readHealth(paths, record.id)?.Status;
  return status ? ` (${status})` : '';
}

function statusText(state: RunState, now: number): string {
  if (state.status === 'running') return `Up ${humanDuration(now - Date.parse(state.startedAt ?? new Date(now).toISOString()))}`;
  if (state.status === 'exited' || state.status === 'stopped') {
    const code = state.exitCode ?? -1;
    return state.finishedAt ? `Exited (${code}) ${humanDuration(now - Date.parse(state.finishedAt))} ago` : `Exited (${code})`;
  }
  return 'Created';
}

function portsText(state: RunState): string {
  return (state.status === 'running' ? state.ports ?? [] : []).map((p) => {
    const host = p.hostIp || '0.0.0.0';
    const range = p.range > 1 ? `-${p.hostPort + p.range - 1}` : '';
    const crange = p.range > 1 ? `-${p.containerPort + p.range - 1}` : '';
    return `${host}:${p.hostPort}${range}->${p.containerPort}${crange}/${p.protocol}`;
  }).join(', ');
}

export function commandOf(record: ContainerRecord): string[] {
  const cfg = record.image.config.config ?? {};
  const o = record.options;
  const entry = o.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? [] : cfg.Cmd ?? [];
  return [...entry, ...cmd];
}

/** The fields of `ps --format json` (Podman's names). */
export function psJson(record: ContainerRecord, state: RunState, health = ''): Record<string, unknown> {
  return {
    Id: record.id,
    Names: [record.name],
    Image: record.image.name,
    ImageID: record.image.id,
    Command: commandOf(record),
    Created: Math.floor(Date.parse(record.created) / 1000),
    CreatedAt: record.created,
    State: state.status,
    Status: statusText(state, Date.now()) + health,
    Exited: state.status === 'exited',
    ExitCode: state.exitCode ?? 0,
    ExitedAt: state.finishedAt ? Math.floor(Date.parse(state.finishedAt) / 1000) : 0,
    StartedAt: state.startedAt ? Math.floor(Date.parse(state.startedAt) / 1000) : 0,
    Pid: state.status === 'running' ? state.pid ?? 0 : 0,
    Ports: state.status === 'running' ? (state.ports ?? []).map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: p.range, protocol: p.protocol })) : null,
    Labels: Object.keys(record.options.labels).length ? record.options.labels : null,
    AutoRemove: record.options.rm,
  };
}

export const psCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'ps',
  describe: 'List containers',
  builder: (y: Argv) => y
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Also containers that are not running' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only IDs' })
    .option('no-trunc', { type: 'boolean', default: false })
    .option('format', { type: 'string', describe: 'json, or a Go template ({{.Names}}, {{.ID}}, …)' })
    .option('filter', { alias: 'f', type: 'string', array: true, describe: 'name=, id=, status=, label=' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const now = Date.now();
    let rows = listRecords(paths).map((r) => ({ record: r, state: readState(paths, r.id) }));
    if (!argv.all) rows = rows.filter((x) => x.state.status === 'running');
    for (const f of (argv.filter as string[] | undefined) ?? []) {
      const [key, value = ''] = f.split(/=(.*)/s, 2);
      rows = rows.filter(({ record, state }) => {
        if (key === 'name') return new RegExp(value).test(record.name);
        if (key === 'id') return record.id.startsWith(value);
        if (key === 'status') return state.status === value;
        if (key === 'label') { const [k, v] = value.split(/=(.*)/s, 2); return k in record.options.labels && (v === undefined || record.options.labels[k] === v); }
        return true;
      });
    }
    const id = (r: ContainerRecord): string => (argv['no-trunc'] ? r.id : r.id.slice(0, 12));
    if (argv.quiet) { process.stdout.write(rows.map((x) => `${id(x.record)}\n`).join('')); return; }
    const format = argv.format as string | undefined;
    if (format === 'json') { process.stdout.write(`${JSON.stringify(rows.map((x) => psJson(x.record, x.state, healthSuffix(paths, x.record, x.state))), null, 2)}\n`); return; }
    if (format) {
      for (const x of rows) {
        const view = { ...psJson(x.record, x.state, healthSuffix(paths, x.record, x.state)), ID: id(x.record), Names: x.record.name };
        process.stdout.write(`${renderTemplate(format, view)}\n`);
      }
      return;
    }
    const table = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']];
    for (const { record, state } of rows) {
      const cmd = commandOf(record).join(' ');
      table.push([id(record), record.image.name, argv['no-trunc'] || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`,
        `${humanDuration(now - Date.parse(record.created))} ago`, statusText(state, now) + healthSuffix(paths, record, state), portsText(state), record.name]);
    }
    process.stdout.write(printTable(table));
  },
};
