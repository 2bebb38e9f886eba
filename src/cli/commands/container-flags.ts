/**
 * The flags `run` and `create` share (Podman's spelling), and their translation into the
 * runtime's ContainerOptions. One place, so the two commands always agree.
 * Accepted and ignored, because harmless here: -i/--interactive without -t (stdin is always
 * passed in the foreground; with -t it decides whether typed input reaches the pty), -t/--tty in the background (-d: no console is kept; a foreground run gets one),
 * --systemd (berth does not set up systemd-in-container mounts), --log-opt; --log-driver accepts
 * journald|passthrough|k8s-file|none and changes nothing (under systemd output always goes to the
 * journal, otherwise to the container's log file). --userns takes only `host`: any other mode is
 * refused rather than ignored, since ignoring it would weaken the isolation asked for.
 */
import fs from 'node:fs';
import type { Argv } from 'yargs';
import { commandTokens, GLOBALS_AMONG_FLAGS } from './argv-split.js';
import { OptionIndex, registerOptions, splitTokens, type OptionSpec } from '../option-table.js';
import { UsageError } from '../../errors/index.js';
import { resolveStoragePaths, type StoragePaths } from '../../paths/index.js';
import { flagValues, normalizeCapability, parseSignal, type ContainerOptions, type HealthCheck } from '../../runtime/index.js';

const list = { type: 'string', array: true } as const;

/** `run` and `create`'s flags, in the order `--help` lists them. */
export const CONTAINER_OPTIONS: OptionSpec[] = [
  { name: 'name', type: 'string', describe: 'Container name' },
  { name: 'replace', type: 'boolean', default: false, describe: 'Replace an existing container of the same name' },
  { name: 'rm', type: 'boolean', default: false, describe: 'Remove the container when it exits' },
  { name: 'detach', aliases: ['d'], type: 'boolean', default: false, describe: 'Run in the background, print the ID' },
  { name: 'cidfile', type: 'string', describe: 'Write the container ID to this file' },
  { name: 'env', aliases: ['e'], ...list, describe: 'NAME=VALUE (or NAME: from the environment)' },
  { name: 'env-file', ...list, describe: 'File of NAME=VALUE lines' },
  { name: 'env-host', type: 'boolean', default: false, describe: 'Pass the whole environment' },
  { name: 'label', aliases: ['l'], ...list, describe: 'KEY=VALUE metadata' },
  { name: 'annotation', ...list, describe: 'KEY=VALUE OCI annotation' },
  { name: 'user', aliases: ['u'], type: 'string', describe: 'USER[:GROUP], names from the image' },
  { name: 'group-add', ...list, describe: 'Additional group (name or gid)' },
  { name: 'workdir', aliases: ['w'], type: 'string', describe: 'Working directory' },
  { name: 'entrypoint', type: 'string', describe: 'Entrypoint (a string or a JSON array)' },
  { name: 'read-only', type: 'boolean', default: false, describe: 'Read-only root file system' },
  { name: 'read-only-tmpfs', type: 'boolean', default: true, describe: 'With --read-only: tmpfs on /run, /tmp, /var/tmp' },
  { name: 'tmpfs', ...list, describe: 'PATH[:OPTIONS] tmpfs mount' },
  { name: 'volume', aliases: ['v'], ...list, describe: 'SOURCE:DEST[:OPTIONS]' },
  { name: 'mount', ...list, describe: 'type=bind|volume|tmpfs,source=…,target=…' },
  { name: 'cap-add', ...list, describe: 'Add a capability' },
  { name: 'cap-drop', ...list, describe: 'Drop a capability' },
  { name: 'security-opt', ...list, describe: 'no-new-privileges, seccomp=unconfined|PATH, label=disable' },
  { name: 'hostname', aliases: ['h'], type: 'string', describe: 'Container host name' },
  { name: 'ulimit', ...list, describe: 'TYPE=SOFT[:HARD]' },
  { name: 'sysctl', ...list, describe: 'NAME=VALUE' },
  { name: 'init', type: 'boolean', default: false, describe: 'Run catatonit as PID 1 (forwards signals, reaps zombies)' },
  { name: 'stop-signal', type: 'string', describe: 'Signal that stops the container' },
  { name: 'stop-timeout', type: 'string', describe: 'Seconds to wait before SIGKILL' },
  { name: 'pull', type: 'string', default: 'missing', describe: 'always|missing|never|newer' },
  { name: 'device', ...list, describe: 'HOST[:CONTAINER][:rwm]' },
  { name: 'shm-size', type: 'string', describe: 'Size of /dev/shm' },
  { name: 'memory', aliases: ['m'], type: 'string', describe: 'Memory limit' },
  { name: 'pids-limit', type: 'string', describe: 'Process limit (0 or -1: none)' },
  { name: 'tz', type: 'string', describe: 'Time zone (e.g. Europe/Paris, local)' },
  { name: 'health-cmd', type: 'string', describe: 'Health check command (shell, or JSON array)' },
  { name: 'health-interval', type: 'string', default: '30s' },
  { name: 'health-timeout', type: 'string', default: '30s' },
  { name: 'health-retries', type: 'string', default: '3' },
  { name: 'health-start-period', type: 'string', default: '0s' },
  { name: 'health-on-failure', type: 'string', default: 'none', describe: 'none, kill, restart, stop' },
  { name: 'health-log-destination', type: 'string', describe: 'local, or a directory' },
  { name: 'health-max-log-count', type: 'string', describe: 'Health log entries kept (0: all)' },
  { name: 'health-max-log-size', type: 'string', describe: 'Characters of output kept per entry (0: all)' },
  { name: 'health-startup-cmd', type: 'string', describe: 'Startup check: gates the regular health check until it passes' },
  { name: 'health-startup-interval', type: 'string', default: '30s' },
  { name: 'health-startup-timeout', type: 'string', default: '30s' },
  { name: 'health-startup-retries', type: 'string', default: '0', describe: 'Failures before the container is restarted (0: never)' },
  { name: 'health-startup-success', type: 'string', default: '0', describe: 'Passes needed (0: one)' },
  { name: 'network', aliases: ['net'], ...list, describe: 'bridge, NAME, host, none, container:NAME, ns:PATH' },
  { name: 'publish', aliases: ['p'], ...list, describe: '[IP:][HOST:]CONTAINER[/PROTO]' },
  { name: 'dns', ...list },
  { name: 'dns-search', ...list },
  { name: 'dns-option', ...list },
  { name: 'add-host', ...list },
  { name: 'sdnotify', type: 'string', default: 'conmon', describe: 'conmon (berth names the container to systemd), container, healthy, ignore' },
  { name: 'cgroups', type: 'string', default: 'enabled', describe: 'enabled, split (child of the caller\'s cgroup), disabled' },
  { name: 'log-driver', type: 'string', default: 'journald' },
  { name: 'log-opt', ...list },
  { name: 'interactive', aliases: ['i'], type: 'boolean', default: false, describe: 'With -t: what is typed goes to the process (stdin is always passed in the foreground)' },
  { name: 'tty', aliases: ['t'], type: 'boolean', default: false, describe: 'A terminal for the process (foreground runs)' },
  { name: 'systemd', type: 'string', describe: 'Accepted and ignored' },
  { name: 'userns', type: 'string', describe: 'host only (other modes are refused)' },
  { name: 'pod', type: 'string', describe: 'Join this pod (its network, IPC and UTS namespaces and volumes)' },
  { name: 'pod-id-file', type: 'string', describe: 'Join the pod whose ID is in this file' },
];

export function containerFlags<T>(y: Argv<T>): Argv<T> {
  return registerOptions(y, CONTAINER_OPTIONS);
}

const bad = (flag: string, value: string, why: string): UsageError =>
  new UsageError('invalid-flag', `invalid value for ${flag} "${value}": ${why}`, { context: { flag, value } });

const strs = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw bad(flag, value, `expected one of ${allowed.join(', ')}`);
  return value as T;
}

function parseCommandList(value: string, flag: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch { /* fall through */ }
    throw bad(flag, value, 'not a JSON array of strings');
  }
  return v === '' ? [] : [v];
}

function healthLogFlags(argv: Record<string, unknown>): Pick<HealthCheck, 'maxLogCount' | 'maxLogSize' | 'logDestination'> {
  const count = argv['health-max-log-count'] as string | undefined;
  const size = argv['health-max-log-size'] as string | undefined;
  const destination = argv['health-log-destination'] as string | undefined;
  if (destination !== undefined && destination !== 'local' && !(destination.startsWith('/') && fs.existsSync(destination))) {
    throw bad('--health-log-destination', destination, destination === 'events_logger' ? 'events_logger is not supported: use local or a directory' : 'expected local or an existing absolute directory');
  }
  return {
    ...(count === undefined ? {} : { maxLogCount: flagValues.parseIntFlag(count, '--health-max-log-count', 0) }),
    ...(size === undefined ? {} : { maxLogSize: flagValues.parseIntFlag(size, '--health-max-log-size', 0) }),
    ...(destination === undefined ? {} : { logDestination: destination }),
  };
}

function startupHealthFlags(argv: Record<string, unknown>): Pick<HealthCheck, 'startup'> {
  const cmd = argv['health-startup-cmd'] as string | undefined;
  if (cmd === undefined || cmd === 'none') return {};
  return {
    startup: {
      test: cmd.trim().startsWith('[') ? parseCommandList(cmd, '--health-startup-cmd') : ['CMD-SHELL', cmd],
      intervalMs: argv['health-startup-interval'] === 'disable' ? 0 : flagValues.parseDuration(String(argv['health-startup-interval'] ?? '30s'), '--health-startup-interval'),
      timeoutMs: flagValues.parseDuration(String(argv['health-startup-timeout'] ?? '30s'), '--health-startup-timeout'),
      retries: flagValues.parseIntFlag(String(argv['health-startup-retries'] ?? '0'), '--health-startup-retries', 0),
      success: flagValues.parseIntFlag(String(argv['health-startup-success'] ?? '0'), '--health-startup-success', 0),
    },
  };
}

export interface ParsedRun { options: ContainerOptions; image: string; pull: 'always' | 'missing' | 'never' | 'newer'; detach: boolean; cidfile?: string; replace: boolean; paths: StoragePaths; pod?: { pod?: string; podIdFile?: string } }

/** For `run`/`create` command modules: raw tokens stay in argv['--'] (see argv-split.ts). */
export function containerCommandBuilder(y: Argv): Argv {
  // The flags are parsed from the raw tokens (argv-split.ts); yargs needs the table only to print
  // help, and registering ~60 options makes every parse render the help text (~150 ms).
  // `--help` is berth's only before the image name: `berth run IMAGE sh --help` belongs to the container.
  if (helpBeforeImage(process.argv.slice(2))) return containerFlags(y) as unknown as Argv;
  const helpWanted = process.argv.includes('--help') || process.argv.includes('-h') || process.argv.includes('help');
  const base = y.parserConfiguration({ 'halt-at-non-option': true, 'populate--': true });
  return (helpWanted ? containerFlags(base) : base) as unknown as Argv;
}

/** True when `--help` comes after `run`/`create` and before the first non-flag word (the image).
 *  (`-h` is `--hostname` for run/create, as in Podman.) */
export function helpBeforeImage(tokens: string[]): boolean {
  const at = tokens.findIndex((t) => t === 'run' || t === 'create');
  if (at < 0) return false;
  for (const t of tokens.slice(at + 1)) {
    if (t === '--help') return true;
    if (t === '--' || !t.startsWith('-')) return false;
  }
  return false;
}

let containerIndex: OptionIndex | undefined;

/** From yargs (argv['--'] holds the raw tokens, see argv-split.ts). */
export async function parseRunCommandLine(argv: Record<string, unknown>, commandName: string, env: NodeJS.ProcessEnv = process.env): Promise<ParsedRun> {
  return parseRunTokens(commandTokens(argv, commandName), argv, env);
}

/** `[flags] IMAGE [COMMAND...]` (the tokens after `run`/`create`); `globals`: --root/--runroot given before the command. */
export function parseRunTokens(tokens: string[], globals: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ParsedRun {
  containerIndex ??= new OptionIndex([...CONTAINER_OPTIONS, ...GLOBALS_AMONG_FLAGS]);
  const { values, positional, rest } = splitTokens(tokens, containerIndex, 1);
  return parseRunArgs({ ...globals, ...values, image: positional[0], command: rest }, env);
}

export function parseRunArgs(argv: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ParsedRun {
  const image = argv.image as string | undefined;
  if (!image) throw new UsageError('missing-image', 'an image name (or ID) is required', {});
  const command = strs(argv.command);
  const hostEnv = env;
  const envVars: Record<string, string> = {};
  if (argv['env-host']) for (const [k, v] of Object.entries(hostEnv)) if (v !== undefined) envVars[k] = v;
  for (const f of strs(argv['env-file'])) {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch { throw new UsageError('env-file-missing', `--env-file ${f}: no such file or directory`, { context: { file: f } }); }
    Object.assign(envVars, flagValues.parseEnvFile(text, f, hostEnv));
  }
  Object.assign(envVars, flagValues.parseEnv(strs(argv.env), hostEnv));

  const mounts = [
    ...strs(argv.volume).map(flagValues.parseVolume),
    ...strs(argv.mount).map(flagValues.parseMount),
    ...strs(argv.tmpfs).map(flagValues.parseTmpfs),
  ];
  let noNewPrivileges = false;
  let seccompProfile: string | undefined;
  let labelDisable = false;
  for (const opt of strs(argv['security-opt'])) {
    if (opt === 'no-new-privileges' || opt === 'no-new-privileges=true' || opt === 'no-new-privileges:true') noNewPrivileges = true;
    else if (opt.startsWith('seccomp=') || opt.startsWith('seccomp:')) {
      seccompProfile = opt.slice(8);
      if (seccompProfile !== 'unconfined' && !fs.existsSync(seccompProfile)) throw bad('--security-opt', opt, `seccomp profile ${seccompProfile} does not exist`);
    } else if (opt === 'label=disable' || opt === 'label:disable' || opt.startsWith('label=')) labelDisable = true;
    else if (opt.startsWith('apparmor=') || opt === 'unmask=ALL' || opt.startsWith('mask=')) { /* no AppArmor/SELinux here: accepted */ } else throw bad('--security-opt', opt, 'supported: no-new-privileges, seccomp=unconfined|PATH, label=…');
  }
  let healthCheck: HealthCheck | undefined;
  const hc = argv['health-cmd'] as string | undefined;
  if (hc !== undefined && hc !== 'none') {
    const cmd = hc.trim().startsWith('[') ? parseCommandList(hc, '--health-cmd') : ['CMD-SHELL', hc];
    healthCheck = {
      test: cmd,
      intervalMs: argv['health-interval'] === 'disable' ? 0 : flagValues.parseDuration(String(argv['health-interval']), '--health-interval'),
      timeoutMs: flagValues.parseDuration(String(argv['health-timeout']), '--health-timeout'),
      retries: flagValues.parseIntFlag(String(argv['health-retries']), '--health-retries', 0),
      startPeriodMs: flagValues.parseDuration(String(argv['health-start-period']), '--health-start-period'),
      onFailure: oneOf('--health-on-failure', String(argv['health-on-failure'] ?? 'none'), ['none', 'kill', 'restart', 'stop'] as const),
      ...healthLogFlags(argv),
      ...startupHealthFlags(argv),
    };
  } else if (argv['health-startup-cmd'] !== undefined) {
    throw bad('--health-startup-cmd', String(argv['health-startup-cmd']), 'a startup health check needs --health-cmd');
  }
  const sdnotify = oneOf('--sdnotify', String(argv.sdnotify), ['conmon', 'container', 'healthy', 'ignore'] as const);
  if (sdnotify === 'healthy' && !healthCheck) throw bad('--sdnotify', 'healthy', 'needs --health-cmd');
  const pidsRaw = argv['pids-limit'] as string | undefined;
  const pids = pidsRaw === undefined ? undefined : flagValues.parseIntFlag(pidsRaw, '--pids-limit', -1);
  const stopTimeoutRaw = argv['stop-timeout'] as string | undefined;
  const logDriver = oneOf('--log-driver', String(argv['log-driver']), ['journald', 'passthrough', 'k8s-file', 'none', 'passthrough-tty'] as const);
  const userns = argv.userns as string | undefined;
  if (userns && !['', 'host'].includes(userns)) throw bad('--userns', userns, 'only the host user namespace is supported');
  const options: ContainerOptions = {
    image,
    name: argv.name as string | undefined,
    command,
    entrypoint: argv.entrypoint === undefined ? undefined : parseCommandList(String(argv.entrypoint), '--entrypoint'),
    env: envVars,
    labels: flagValues.parseKeyValues(strs(argv.label), '--label'),
    annotations: flagValues.parseKeyValues(strs(argv.annotation), '--annotation'),
    user: argv.user as string | undefined,
    groupAdd: strs(argv['group-add']),
    workdir: argv.workdir as string | undefined,
    readOnly: Boolean(argv['read-only']),
    readOnlyTmpfs: argv['read-only-tmpfs'] !== false,
    mounts,
    capAdd: strs(argv['cap-add']),
    capDrop: strs(argv['cap-drop']),
    noNewPrivileges,
    seccompProfile,
    labelDisable,
    hostname: argv.hostname as string | undefined,
    ulimits: strs(argv.ulimit).map(flagValues.parseUlimit),
    sysctls: flagValues.parseKeyValues(strs(argv.sysctl), '--sysctl'),
    init: Boolean(argv.init),
    stopSignal: argv['stop-signal'] as string | undefined,
    stopTimeout: stopTimeoutRaw === undefined ? undefined : flagValues.parseIntFlag(stopTimeoutRaw, '--stop-timeout', 0),
    devices: strs(argv.device).map(flagValues.parseDevice),
    shmSize: argv['shm-size'] === undefined ? undefined : flagValues.parseSize(String(argv['shm-size']), '--shm-size'),
    memory: argv.memory === undefined ? undefined : flagValues.parseSize(String(argv.memory), '--memory'),
    pidsLimit: pids === undefined ? undefined : pids <= 0 ? 0 : pids,
    tz: argv.tz as string | undefined,
    healthCheck,
    network: strs(argv.network),
    publish: strs(argv.publish),
    dns: strs(argv.dns),
    dnsSearch: strs(argv['dns-search']),
    dnsOptions: strs(argv['dns-option']),
    addHosts: strs(argv['add-host']),
    sdnotify,
    cgroups: oneOf('--cgroups', String(argv.cgroups), ['enabled', 'disabled', 'no-conmon', 'split'] as const),
    logDriver,
    rm: Boolean(argv.rm),
    tty: Boolean(argv.tty) || undefined,
    interactive: Boolean(argv.interactive) || undefined,
    systemdUnit: env.PODMAN_SYSTEMD_UNIT || undefined,
  };
  for (const c of options.capAdd) normalizeCapability(c);
  for (const c of options.capDrop) normalizeCapability(c);
  if (options.stopSignal) parseSignal(options.stopSignal);
  return {
    options,
    image,
    pull: oneOf('--pull', String(argv.pull), ['always', 'missing', 'never', 'newer'] as const),
    detach: Boolean(argv.detach),
    cidfile: argv.cidfile as string | undefined,
    replace: Boolean(argv.replace),
    pod: argv.pod || argv['pod-id-file'] ? { pod: argv.pod as string | undefined, podIdFile: argv['pod-id-file'] as string | undefined } : undefined,
    paths: resolveStoragePaths({ root: argv.root as string | undefined, runroot: argv.runroot as string | undefined }),
  };
}
