/**
 * `berth pod create|start|stop|restart|rm|ps|inspect|exists` (Podman's flags, including the
 * ones Quadlet's generated pod units use: --infra-conmon-pidfile, --pod-id-file, --exit-policy,
 * --replace, --infra-name, --ignore, --time).
 */
import type { Argv, CommandModule } from 'yargs';
import { BerthError, UsageError } from '../../errors/index.js';
import {
  createPod, inspectPod, listPods, parseExitPolicy, parseShare, podMembers, podStatus, removePod, restartPod, startPod, stopPod,
  findPod, type PodActionResult, type PodOptions, type PodRecord,
} from '../../pod/index.js';
import { humanDuration, pathsOf, printTable, resolveImage } from './container-support.js';
import { keyValues, renderTemplate } from './network-volume-support.js';
import { podsOf } from './pod-support.js';

type Args = Record<string, unknown>;
const list = { type: 'string', array: true } as const;
const strs = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String)).filter((s) => s !== '');

const UNSUPPORTED = ['network-alias', 'ip', 'ip6', 'mac-address', 'uidmap', 'gidmap', 'subuidname', 'subgidname', 'pid', 'cpus', 'memory', 'shm-size'];

function podOptionsOf(argv: Args): PodOptions {
  for (const flag of UNSUPPORTED) {
    if (strs(argv[flag]).length) throw new UsageError('unsupported-flag', `berth pod create does not support --${flag} yet`, { context: { flag: `--${flag}` } });
  }
  const userns = strs(argv.userns);
  if (userns.some((u) => u !== 'host')) throw new UsageError('unsupported-flag', `--userns ${userns.join(',')}: only the host user namespace is supported`, { context: { flag: '--userns' } });
  const infra = argv.infra !== false;
  const shareFlags = strs(argv.share);
  if (!infra && shareFlags.length) throw new UsageError('pod-no-infra', '--share cannot be used with --infra=false: there is no infra container to hold the namespaces', { context: { flag: '--share' } });
  const positional = argv.podname as string | undefined;
  const name = (argv.name as string | undefined) ?? positional;
  const infraCommand = argv['infra-command'] as string | undefined;
  return {
    name,
    hostname: argv.hostname as string | undefined,
    labels: keyValues(argv.label, '--label'),
    infra,
    infraName: argv['infra-name'] as string | undefined,
    infraImage: argv['infra-image'] as string | undefined,
    infraCommand: infraCommand === undefined ? undefined : parseInfraCommand(infraCommand),
    share: infra ? parseShare(shareFlags) : [],
    exitPolicy: parseExitPolicy(String(argv['exit-policy'] ?? 'continue')),
    publish: strs(argv.publish),
    network: strs(argv.network),
    volumes: strs(argv.volume),
    dns: strs(argv.dns),
    dnsSearch: strs(argv['dns-search']),
    dnsOptions: strs(argv['dns-option']),
    addHosts: strs(argv['add-host']),
    infraConmonPidfile: argv['infra-conmon-pidfile'] as string | undefined,
    podIdFile: argv['pod-id-file'] as string | undefined,
  };
}

function parseInfraCommand(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed) && parsed.length && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch { /* below */ }
    throw new UsageError('invalid-flag', `invalid value for --infra-command "${value}": not a JSON array of strings`, { context: { flag: '--infra-command' } });
  }
  return v.split(/\s+/).filter(Boolean);
}

/** Prints each failure ("Error: …") and sets exit code 125 when a pod action partly failed. */
function reportErrors(results: PodActionResult[]): void {
  for (const r of results) {
    for (const e of r.errors) {
      const message = e.error instanceof Error ? e.error.message : String(e.error);
      process.stderr.write(`Error: pod ${r.pod.name}: container ${e.container}: ${message}\n`);
      process.exitCode = e.error instanceof BerthError ? e.error.exitCode : 125;
    }
  }
}

const create: CommandModule<object, Args> = {
  command: 'create [podname]',
  describe: 'Create a pod (and its infra container)',
  builder: (y: Argv) => y
    .positional('podname', { type: 'string', describe: 'Pod name (or --name)' })
    .option('name', { alias: 'n', type: 'string', describe: 'Pod name' })
    .option('hostname', { type: 'string', describe: 'Host name of the pod (default: its name)' })
    .option('label', { alias: 'l', ...list, describe: 'KEY=VALUE' })
    .option('infra', { type: 'boolean', default: true, describe: 'Create an infra container holding the shared namespaces' })
    .option('infra-name', { type: 'string', describe: 'Name of the infra container' })
    .option('infra-image', { type: 'string', describe: 'Image for the infra (default: a minimal catatonit root file system)' })
    .option('infra-command', { type: 'string', describe: 'Command of the infra (default: catatonit -P)' })
    .option('infra-conmon-pidfile', { type: 'string', describe: 'Write the infra\'s PID to this file at every start' })
    .option('pod-id-file', { type: 'string', describe: 'Write the pod ID to this file' })
    .option('share', { ...list, describe: 'Namespaces to share: net, ipc, uts (default all three; cgroup accepted)' })
    .option('exit-policy', { type: 'string', default: 'continue', describe: 'continue | stop (stop the pod when its last container exits)' })
    .option('publish', { alias: 'p', ...list, describe: '[IP:][HOST:]CONTAINER[/PROTO], published at the pod' })
    .option('network', { alias: 'net', ...list, describe: 'bridge, NAME, host, none, ns:PATH' })
    .option('volume', { alias: 'v', ...list, describe: 'SOURCE:DEST[:OPTIONS], for every container of the pod' })
    .option('dns', list).option('dns-search', list).option('dns-option', list).option('add-host', list)
    .option('replace', { type: 'boolean', default: false, describe: 'Replace a pod of the same name (its containers are removed)' })
    .option('userns', list)
    .options(Object.fromEntries(UNSUPPORTED.map((f) => [f, { ...list, hidden: true }]))),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const options = podOptionsOf(argv);
    const infraImage = options.infraImage && options.infra
      ? { image: await resolveImage(options.infraImage, 'missing', paths), name: options.infraImage }
      : undefined;
    const pod = await createPod(paths, { options, replace: Boolean(argv.replace), infraImage });
    process.stdout.write(`${pod.id}\n`);
  },
};

const targets = (y: Argv): Argv => y
  .positional('pods', { type: 'string', array: true })
  .option('pod-id-file', { ...list, describe: 'Read the pod ID from this file' })
  .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'All pods' });

const start: CommandModule<object, Args> = {
  command: 'start [pods..]',
  describe: 'Start pods (the infra first, then their containers)',
  builder: (y: Argv) => targets(y),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const results: PodActionResult[] = [];
    for (const pod of podsOf(argv, paths)) {
      const r = await startPod(paths, pod);
      results.push(r);
      if (!r.errors.length) process.stdout.write(`${pod.id}\n`);
    }
    reportErrors(results);
  },
};

const stop: CommandModule<object, Args> = {
  command: 'stop [pods..]',
  describe: 'Stop pods (their containers, then the infra)',
  builder: (y: Argv) => targets(y)
    .option('ignore', { alias: 'i', type: 'boolean', default: false, describe: 'Ignore pods that do not exist' })
    .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before SIGKILL' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const results: PodActionResult[] = [];
    for (const pod of podsOf(argv, paths, { ignore: Boolean(argv.ignore) })) {
      const r = await stopPod(paths, pod, argv.time as number | undefined);
      results.push(r);
      if (!r.errors.length) process.stdout.write(`${pod.id}\n`);
    }
    reportErrors(results);
  },
};

const restart: CommandModule<object, Args> = {
  command: 'restart [pods..]',
  describe: 'Stop and start pods',
  builder: (y: Argv) => targets(y),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const results: PodActionResult[] = [];
    for (const pod of podsOf(argv, paths)) {
      const r = await restartPod(paths, pod);
      results.push(r);
      if (!r.errors.length) process.stdout.write(`${pod.id}\n`);
    }
    reportErrors(results);
  },
};

const rm: CommandModule<object, Args> = {
  command: 'rm [pods..]',
  aliases: ['remove'],
  describe: 'Remove pods, their containers and their infra',
  builder: (y: Argv) => targets(y)
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Stop running containers first' })
    .option('ignore', { alias: 'i', type: 'boolean', default: false, describe: 'Ignore pods that do not exist' })
    .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before SIGKILL (with --force)' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    for (const pod of podsOf(argv, paths, { ignore: Boolean(argv.ignore) })) {
      await removePod(paths, pod, { force: Boolean(argv.force), timeout: argv.time as number | undefined });
      process.stdout.write(`${pod.id}\n`);
    }
  },
};

function psView(paths: ReturnType<typeof pathsOf>, pod: PodRecord): Record<string, unknown> {
  const members = podMembers(paths, pod);
  return {
    Id: pod.id,
    Name: pod.name,
    Status: podStatus(paths, pod),
    Created: pod.created,
    InfraId: pod.infraId ?? '',
    Labels: pod.labels,
    NumberOfContainers: members.length,
    Containers: members.map((m) => ({ Id: m.record.id, Names: m.record.name, Status: m.status })),
  };
}

const ps: CommandModule<object, Args> = {
  command: 'ps',
  aliases: ['ls', 'list'],
  describe: 'List pods',
  builder: (y: Argv) => y
    .option('quiet', { alias: 'q', type: 'boolean', default: false })
    .option('no-trunc', { type: 'boolean', default: false })
    .option('format', { type: 'string', describe: '"json" or a Go template such as {{.Name}}' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const pods = listPods(paths);
    const id = (s: string): string => (argv['no-trunc'] ? s : s.slice(0, 12));
    if (argv.quiet) { for (const p of pods) process.stdout.write(`${id(p.id)}\n`); return; }
    const views = pods.map((p) => psView(paths, p));
    if (argv.format === 'json') { process.stdout.write(`${JSON.stringify(views, null, 2)}\n`); return; }
    if (typeof argv.format === 'string') { for (const v of views) process.stdout.write(`${renderTemplate(argv.format, v)}\n`); return; }
    const rows = [['POD ID', 'NAME', 'STATUS', 'CREATED', 'INFRA ID', '# OF CONTAINERS']];
    for (const v of views) {
      rows.push([id(v.Id as string), v.Name as string, v.Status as string, `${humanDuration(Date.now() - Date.parse(v.Created as string))} ago`, id(v.InfraId as string), String(v.NumberOfContainers)]);
    }
    process.stdout.write(printTable(rows));
  },
};

const inspect: CommandModule<object, Args> = {
  command: 'inspect [pods..]',
  describe: 'Show pods as JSON',
  builder: (y: Argv) => targets(y).option('format', { alias: 'f', type: 'string' }),
  handler: async (argv) => {
    const paths = pathsOf(argv);
    const views = podsOf(argv, paths).map((p) => inspectPod(paths, p));
    if (typeof argv.format === 'string' && argv.format !== 'json') {
      for (const v of views) process.stdout.write(`${renderTemplate(argv.format, v)}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(views.length === 1 ? views[0] : views, null, 2)}\n`);
  },
};

const exists: CommandModule<object, Args> = {
  command: 'exists <pod>',
  describe: 'Exit 0 if the pod exists, 1 if not',
  builder: (y: Argv) => y.positional('pod', { type: 'string' }),
  handler: async (argv) => {
    process.exitCode = findPod(pathsOf(argv), argv.pod as string) ? 0 : 1;
  },
};

export const podCommand: CommandModule<object, Args> = {
  command: 'pod <command>',
  describe: 'Manage pods',
  builder: (y: Argv) => y
    .command(create).command(start).command(stop).command(restart).command(rm).command(ps).command(inspect).command(exists)
    .demandCommand(1, 'Name a pod command: create, start, stop, restart, rm, ps, inspect, exists'),
  handler: () => undefined,
};
