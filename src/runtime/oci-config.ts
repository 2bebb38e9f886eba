/**
 * The OCI runtime spec for one container, built from the image config and the user's options
 * with Podman's defaults. PURE: every host fact (rlimits, cgroup controllers, the seccomp profile,
 * device numbers) comes in through `host`, so tests pin the exact output.
 */
import { RuntimeError } from '../errors/index.js';
import type { ContainerRecord, Ulimit } from './types.js';
import type { ResolvedUser } from './users.js';
import type { EtcFilePaths } from './etc-files.js';
import { convertSeccompProfile, type OciSeccomp } from './seccomp.js';

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block',
];
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where --init's catatonit appears inside the container (Podman's path). */
export const INIT_PATH_IN_CONTAINER = '/run/podman-init';
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const DEFAULT_PIDS_LIMIT = 2048;
const DEFAULT_RLIMITS: Ulimit[] = [
  { name: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 },
  { name: 'RLIMIT_NPROC', soft: 4194304, hard: 4194304 },
];

export interface OciMount { destination: string; type: string; source: string; options: string[] }
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean; consoleSize?: { height: number; width: number }; user: { uid: number; gid: number; umask: number; additionalGids?: number[] };
    args: string[]; env: string[]; cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
    rlimits: { type: string; soft: number; hard: number }[]; noNewPrivileges: boolean; oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[]; readonlyPaths: string[];
    resources: { devices?: { allow: boolean; access: string; type?: string; major?: number; minor?: number }[]; memory?: { limit: number }; pids?: { limit: number } };
    cgroupsPath?: string; sysctl?: Record<string, string>; seccomp?: OciSeccomp;
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
  };
}

/** What the host is like; gathered once at the edge (host.ts). */
export interface HostFacts {
  rlimitHard: Record<string, number>;   // RLIMIT_* → the engine's own hard limit (Infinity if unlimited)
  deviceCgroupUsable: boolean;          // false: crun's eBPF device filter cannot load (RLIMIT_MEMLOCK)
  controllers: string[];                // cgroup v2 controllers available to the container's cgroup
  cgroupV2: boolean;
  arch: string;                         // SCMP_ARCH_*
  kernel: string;                       // uname release
  seccompProfile?: Parameters<typeof convertSeccompProfile>[0];  // loaded profile, undefined: unconfined
}

export interface ResolvedDevice { containerPath: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number; permissions: string }

export interface OciConfigInput {
  record: ContainerRecord;
  rootfs: string;
  user: ResolvedUser;
  hostname: string;
  etc: EtcFilePaths;
  network: { kind: 'host' } | { kind: 'none' } | { kind: 'path'; path: string };
  cgroupsPath?: string;
  initBinary?: string;                  // host path of catatonit (when --init)
  devices: ResolvedDevice[];
  volumes: { source: string; destination: string; options: string[] }[];  // named volumes, resolved to host dirs
  tzFile?: string;                      // host zoneinfo file for --tz
  host: HostFacts;
  /** The process gets a pty (crun's console socket): a foreground run with -t. */
  terminal?: boolean;
  /** With terminal: the pty's size from the start (berth's own terminal's). */
  consoleSize?: { height: number; width: number };
  /** Rootless (crun inside berth's user namespace): sysfs only in a network namespace made for the container. */
  rootless?: boolean;
}

export interface OciConfigResult { spec: OciSpec; warnings: string[] }

export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(cap)) throw new RuntimeError('invalid-capability', `unknown capability ${name}`, { context: { capability: name } });
  return cap;
}

export function computeCapabilities(capAdd: string[], capDrop: string[]): string[] {
  const add = capAdd.map(normalizeCapability);
  const drop = capDrop.map(normalizeCapability);
  let caps = add.includes('ALL') ? [...ALL_CAPABILITIES] : [...DEFAULT_CAPABILITIES];
  for (const c of add) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  if (drop.includes('ALL')) caps = add.filter((c) => c !== 'ALL');
  else caps = caps.filter((c) => !drop.includes(c));
  return caps;
}

/** Image Entrypoint/Cmd combined with --entrypoint and the command, as Podman does. */
export function resolveArgs(record: ContainerRecord): string[] {
  const image = record.image.config.config ?? {};
  const o = record.options;
  const entrypoint = o.entrypoint ?? image.Entrypoint ?? [];
  // An explicit --entrypoint drops the image's Cmd; an explicit command replaces it.
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? [] : image.Cmd ?? [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new RuntimeError('no-command', 'no command or entrypoint provided, and no CMD or ENTRYPOINT from image', { context: { image: record.image.name } });
  return args;
}

export function resolveEnv(record: ContainerRecord, hostname: string, home: string): string[] {
  const env = new Map<string, string>();
  env.set('PATH', DEFAULT_PATH);
  env.set('container', 'podman');  // what tools inside (systemd, installers) test to detect a Podman-style container
  for (const kv of record.image.config.config?.Env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  env.set('HOSTNAME', hostname);
  if (!env.has('HOME')) env.set('HOME', home);
  for (const [k, v] of Object.entries(record.options.env)) env.set(k, v);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

const RLIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};
export function rlimitName(name: string): string | undefined { return RLIMIT_NAMES[name.toLowerCase()]; }

function resolveRlimits(ulimits: Ulimit[], host: HostFacts, warnings: string[]): OciSpec['process']['rlimits'] {
  const byType = new Map<string, { soft: number; hard: number; explicit: boolean }>();
  for (const d of DEFAULT_RLIMITS) byType.set(d.name, { soft: d.soft, hard: d.hard, explicit: false });
  for (const u of ulimits) byType.set(u.name, { soft: u.soft, hard: u.hard, explicit: true });
  const capped: string[] = [];
  const out: OciSpec['process']['rlimits'] = [];
  for (const [type, l] of byType) {
    const max = host.rlimitHard[type] ?? Infinity;
    let { soft, hard } = l;
    if (hard > max) { hard = max; if (l.explicit) capped.push(type); }
    if (soft > hard) soft = hard;
    out.push({ type, soft: toRlimit(soft), hard: toRlimit(hard) });
  }
  if (capped.length) warnings.push(`ulimit ${capped.join(', ')} lowered to berth's own hard limit (${capped.map((t) => host.rlimitHard[t]).join(', ')})`);
  return out;
}
const toRlimit = (n: number): number => (Number.isFinite(n) ? n : 18446744073709551615);

function defaultMounts(input: OciConfigInput): OciMount[] {
  const o = input.record.options;
  const shm = o.shmSize ?? DEFAULT_SHM_SIZE;
  // sysfs can only be mounted by the owner of the network namespace: sharing the host's (or, rootless,
  // joining one berth's user namespace does not own) means binding the host's /sys read-only instead.
  const bindSys = input.network.kind === 'host' || (input.rootless === true && input.network.kind === 'path');
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    bindSys
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'ro', 'rbind'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] },
  ];
  if (input.host.cgroupV2) {
    mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
  }
  const etc = input.etc;
  mounts.push(
    { destination: '/etc/hosts', type: 'bind', source: etc.hosts, options: ['bind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: etc.hostname, options: ['bind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: etc.resolvConf, options: ['bind', 'rprivate'] },
    { destination: '/run/.containerenv', type: 'bind', source: etc.containerEnv, options: ['bind', 'rprivate', 'ro'] },
  );
  return mounts;
}

function userMounts(input: OciConfigInput): OciMount[] {
  const out: OciMount[] = [];
  for (const m of input.record.options.mounts) {
    if (m.kind === 'bind') {
      const opts = m.options.filter((x) => !['z', 'Z', 'U', 'O'].includes(x));
      if (!opts.includes('bind') && !opts.includes('rbind')) opts.push('rbind');
      if (!opts.some((x) => /^r?(private|shared|slave|unbindable)$/.test(x))) opts.push('rprivate');
      out.push({ destination: m.destination, type: 'bind', source: m.source, options: opts });
    } else if (m.kind === 'tmpfs') {
      const opts = [...m.options];
      for (const d of ['rw', 'rprivate', 'nosuid', 'nodev']) if (!opts.includes(d) && !(d === 'rw' && opts.includes('ro'))) opts.push(d);
      if (!opts.includes('notmpcopyup') && !opts.includes('tmpcopyup')) opts.push('tmpcopyup');
      out.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: opts });
    }
  }
  for (const v of input.volumes) {
    const opts = v.options.filter((x) => !['z', 'Z', 'U', 'O', 'nocopy', 'copy'].includes(x));
    if (!opts.includes('bind') && !opts.includes('rbind')) opts.push('rbind');
    if (!opts.some((x) => /^r?(private|shared|slave|unbindable)$/.test(x))) opts.push('rprivate');
    out.push({ destination: v.destination, type: 'bind', source: v.source, options: opts });
  }
  return out;
}

export function buildOciConfig(input: OciConfigInput): OciConfigResult {
  const warnings: string[] = [];
  const { record, host } = input;
  const o = record.options;
  let args = resolveArgs(record);
  const mounts = defaultMounts(input);
  if (o.init) {
    if (!input.initBinary) throw new RuntimeError('init-missing', '--init needs catatonit (/usr/bin/catatonit): install the catatonit package', { context: { container: record.name } });
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
    mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: input.initBinary, options: ['bind', 'rprivate', 'ro', 'nosuid', 'nodev'] });
  }
  if (input.tzFile) mounts.push({ destination: '/etc/localtime', type: 'bind', source: input.tzFile, options: ['bind', 'rprivate', 'ro'] });
  const user = userMounts(input);
  if (o.readOnly && o.readOnlyTmpfs) {
    for (const d of ['/run', '/tmp', '/var/tmp']) {
      if (!user.some((m) => m.destination === d)) user.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
    }
  }
  // A user's mount replaces a default one at the same place (e.g. -v /srv/hosts:/etc/hosts).
  const userDest = new Set(user.map((m) => m.destination));
  const allMounts = [...mounts.filter((m) => !userDest.has(m.destination)), ...user];

  const caps = computeCapabilities(o.capAdd, o.capDrop);
  const isRoot = input.user.uid === 0;
  // As Podman: a non-root user keeps only the bounding set unless capabilities were added explicitly.
  const added = o.capAdd.map(normalizeCapability).flatMap((c) => (c === 'ALL' ? ALL_CAPABILITIES : [c]));
  const effective = isRoot ? caps : caps.filter((c) => added.includes(c));

  const join = o.joinNamespaces ?? {};
  const namespaces: OciSpec['linux']['namespaces'] = (['pid', 'ipc', 'uts', 'mount'] as const).map((type) => (type !== 'mount' && join[type] ? { type, path: join[type] } : { type }));
  if (host.cgroupV2) namespaces.push({ type: 'cgroup' });
  if (input.network.kind === 'none') namespaces.push({ type: 'network' });
  else if (input.network.kind === 'path') namespaces.push({ type: 'network', path: input.network.path });

  const resources: OciSpec['linux']['resources'] = {};
  const devices: NonNullable<OciSpec['linux']['devices']> = input.devices.map((d) => ({
    path: d.containerPath, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid,
  }));
  if (host.deviceCgroupUsable) {
    resources.devices = [{ allow: false, access: 'rwm' }, ...input.devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions }))];
  }
  const controllerMissing: string[] = [];
  if (o.memory !== undefined) {
    if (host.controllers.includes('memory')) resources.memory = { limit: o.memory };
    else controllerMissing.push('--memory (no memory controller)');
  }
  const pidsLimit = o.pidsLimit ?? DEFAULT_PIDS_LIMIT;
  if (pidsLimit > 0) {
    if (host.controllers.includes('pids')) resources.pids = { limit: pidsLimit };
    else if (o.pidsLimit !== undefined) controllerMissing.push('--pids-limit (no pids controller)');
  }
  if (controllerMissing.length) warnings.push(`ignored ${controllerMissing.join(', ')}: the cgroup does not delegate that controller`);

  let seccomp: OciSeccomp | undefined;
  if (host.seccompProfile) seccomp = convertSeccompProfile(host.seccompProfile, { caps, arch: host.arch, kernel: host.kernel });

  const imageCfg = record.image.config.config ?? {};
  const annotations: Record<string, string> = {
    'io.container.manager': 'berth',
    'org.opencontainers.image.stopSignal': record.stopSignal,
    'io.podman.annotations.autoremove': o.rm ? 'TRUE' : 'FALSE',
    'io.podman.annotations.init': o.init ? 'TRUE' : 'FALSE',
    ...o.annotations,
  };
  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.terminal ?? false,
      ...(input.terminal && input.consoleSize ? { consoleSize: input.consoleSize } : {}),
      user: { uid: input.user.uid, gid: input.user.gid, umask: 0o022, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
      args,
      env: resolveEnv(record, input.hostname, input.user.home),
      cwd: o.workdir ?? (imageCfg.WorkingDir || '/'),
      capabilities: { bounding: caps, effective, permitted: effective, inheritable: [], ambient: [] },
      rlimits: resolveRlimits(o.ulimits, host, warnings),
      noNewPrivileges: o.noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: o.readOnly },
    hostname: input.hostname,
    mounts: allMounts,
    annotations,
    linux: {
      namespaces,
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      resources,
      ...(input.cgroupsPath ? { cgroupsPath: input.cgroupsPath } : {}),
      ...(Object.keys(o.sysctls).length ? { sysctl: { ...o.sysctls } } : {}),
      ...(seccomp ? { seccomp } : {}),
      ...(devices.length ? { devices } : {}),
    },
  };
  if (!spec.process.cwd.startsWith('/')) throw new RuntimeError('invalid-workdir', `workdir ${spec.process.cwd} must be an absolute path`, { context: { workdir: spec.process.cwd } });
  return { spec, warnings };
}
