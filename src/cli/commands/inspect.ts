/** `berth inspect [--format …] NAME...`: containers, in Podman's field names (the commonly read subset). */
import fs from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { RuntimeError } from '../../errors/index.js';
import { containerDir, containerRunDir, findRecord, readHealth, readState, type ContainerRecord, type RunState } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';
import { renderTemplate } from './network-volume-support.js';
import { commandOf } from './ps.js';
import type { StoragePaths } from '../../paths/index.js';

/** State.Health as Podman shows it (and State.Healthcheck, its older name); empty status before a first start. */
function healthView(paths: StoragePaths, record: ContainerRecord): Record<string, unknown> {
  if (!record.options.healthCheck) return {};
  const stored = readHealth(paths, record.id);
  const health = { Status: stored?.Status ?? '', FailingStreak: stored?.FailingStreak ?? 0, Log: stored?.Log ?? [] };
  return { Health: health, Healthcheck: health };
}

export function inspectView(paths: StoragePaths, record: ContainerRecord, state: RunState): Record<string, unknown> {
  let spec: { process?: { args?: string[]; env?: string[]; user?: unknown }; mounts?: unknown[] } = {};
  try { spec = JSON.parse(fs.readFileSync(path.join(containerRunDir(paths, record.id), 'bundle', 'config.json'), 'utf8')); } catch { /* not started */ }
  const args = spec.process?.args ?? commandOf(record);
  const o = record.options;
  const cfg = record.image.config.config ?? {};
  return {
    Id: record.id,
    Created: record.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: state.status, Running: state.status === 'running', Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: state.status === 'running' ? state.pid ?? 0 : 0, ExitCode: state.exitCode ?? 0,
      StartedAt: state.startedAt ?? '0001-01-01T00:00:00Z', FinishedAt: state.finishedAt ?? '0001-01-01T00:00:00Z',
      ...healthView(paths, record),
    },
    Image: record.image.id,
    ImageName: record.image.name,
    ImageDigest: record.image.digest,
    Name: record.name,
    Rootfs: '',
    GraphDriver: { Name: 'overlay', Data: { UpperDir: path.join(containerDir(paths, record.id), 'upper'), MergedDir: path.join(containerDir(paths, record.id), 'merged'), LowerDir: [...record.image.layerDirs].reverse().join(':') } },
    Mounts: o.mounts.map((m) => (m.kind === 'bind' ? { Type: 'bind', Source: m.source, Destination: m.destination, Options: m.options, RW: !m.options.includes('ro') }
      : m.kind === 'volume' ? { Type: 'volume', Name: m.name, Destination: m.destination, Options: m.options, RW: !m.options.includes('ro') }
        : { Type: 'tmpfs', Destination: m.destination, Options: m.options })),
    Config: {
      Hostname: o.hostname ?? record.id.slice(0, 12),
      User: o.user ?? cfg.User ?? '',
      Env: spec.process?.env ?? Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
      Cmd: o.command.length ? o.command : cfg.Cmd ?? null,
      Entrypoint: o.entrypoint ?? cfg.Entrypoint ?? null,
      Image: record.image.name,
      WorkingDir: o.workdir ?? cfg.WorkingDir ?? '/',
      Labels: o.labels,
      Annotations: o.annotations,
      StopSignal: record.stopSignal,
      StopTimeout: record.stopTimeout,
      // Podman's units: nanoseconds.
      Healthcheck: o.healthCheck ? {
        Test: o.healthCheck.test, Interval: o.healthCheck.intervalMs * 1e6, Timeout: o.healthCheck.timeoutMs * 1e6,
        Retries: o.healthCheck.retries, StartPeriod: o.healthCheck.startPeriodMs * 1e6,
      } : undefined,
      HealthcheckOnFailureAction: o.healthCheck ? o.healthCheck.onFailure ?? 'none' : undefined,
      StartupHealthCheck: o.healthCheck?.startup ? {
        Test: o.healthCheck.startup.test, Interval: o.healthCheck.startup.intervalMs * 1e6, Timeout: o.healthCheck.startup.timeoutMs * 1e6,
        Retries: o.healthCheck.startup.retries, Successes: o.healthCheck.startup.success,
      } : undefined,
      SystemdMode: false,
      CreateCommand: undefined,
    },
    HostConfig: {
      AutoRemove: o.rm, ReadonlyRootfs: o.readOnly, CapAdd: o.capAdd, CapDrop: o.capDrop, Init: o.init,
      Memory: o.memory ?? 0, PidsLimit: o.pidsLimit ?? 2048, ShmSize: o.shmSize ?? 65536 * 1024,
      NetworkMode: o.network.join(',') || 'bridge', Tmpfs: Object.fromEntries(o.mounts.filter((m) => m.kind === 'tmpfs').map((m) => [m.destination, m.options.join(',')])),
      Sysctls: o.sysctls, SecurityOpt: [...(o.noNewPrivileges ? ['no-new-privileges'] : []), ...(o.seccompProfile ? [`seccomp=${o.seccompProfile}`] : [])],
      CgroupParent: record.cgroupParent ?? '',
    },
    NetworkSettings: { Ports: Object.fromEntries((state.ports ?? []).map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }]])), IPAddress: state.ips?.[0] ?? '', SandboxKey: state.netnsPath ?? '' },
    IsInfra: false,
    Supervisor: state.supervisor,
  };
}

export const inspectCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'inspect <names..>',
  describe: 'Show the configuration and state of containers',
  builder: (y: Argv) => y.option('format', { alias: 'f', type: 'string' }).option('type', { alias: 't', type: 'string', default: 'container' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const views: Record<string, unknown>[] = [];
    for (const name of argv.names as string[]) {
      const record = findRecord(paths, name);
      if (!record) throw new RuntimeError('no-such-object', `no such object: "${name}"`, { context: { container: name } });
      views.push(inspectView(paths, record, readState(paths, record.id)));
    }
    const format = argv.format as string | undefined;
    if (format && format !== 'json') { for (const v of views) process.stdout.write(`${renderTemplate(format, v)}\n`); return; }
    process.stdout.write(`${JSON.stringify(views, null, 4)}\n`);
  },
};
