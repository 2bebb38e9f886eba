/**
 * Rootless berth runs its storage and start-up work inside a user namespace with the user's
 * subordinate ids mapped (src/image/store/idmap.ts), as Podman does: Podman re-executes itself
 * in such a namespace (kept by its pause process) for every command that touches storage, and
 * runs conmon/crun there; the OCI config then has no user namespace of its own, the container
 * shares the one Podman made (podman-run(1), --userns: "host", the default, runs the container
 * "in the user namespace of the caller", where the user is root and its subuids are 1..N). berth does the same per command, without a pause process: the
 * namespace lives as long as a process in it (the container, or a `-d` monitor), and mounts made
 * in it (the container's overlay root) vanish with it, so nothing is left mounted on the host.
 *
 * Why not crun as the user with uidMappings in config.json: the container's root must be an
 * overlay mount, which an unprivileged user can only make inside a user namespace it owns; crun
 * would create that namespace after the root is needed. Measured here: inside the namespace
 * made by `unshare --map-users` (which calls newuidmap/newgidmap) the user can chown to mapped
 * ids, create whiteout devices and mount kernel overlayfs with `userxattr`, so no FUSE is needed.
 *
 * Signals are the exception: a process in one such namespace cannot signal a container's
 * non-root processes living in another one (they belong to a host subuid it does not own), but
 * the user on the host can (owner of every namespace it made). So `stop`, `kill`, `rm` and the
 * read-only commands run on the host side, and `rm` removes what the container wrote (files of
 * mapped owners) through a short `rm -rf` inside a namespace. Commands inside the namespace that
 * must stop another container (`restart`, `run --replace`) ask the host-side berth that started
 * them, over a socket on fd 3, to send the signal (signalFromHost).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { RuntimeError } from '../errors/index.js';
import { parseSubordinateIds, rootlessRanges, ROOTLESS_UID_ENV, type IdMapping } from '../paths/index.js';
import { runProc } from './proc.js';
import { detectCgroupLayout, type CgroupLayout } from './cgroups.js';

/** Commands that write the store or start containers: run inside the user namespace. */
export const USERNS_COMMANDS = new Set(['pull', 'run', 'create', 'start', 'restart', 'rmi', 'image', 'cleanup', 'volume']);

const NEWUIDMAP = '/usr/bin/newuidmap';
const GLOBAL_VALUE_FLAGS = new Set(['--root', '--runroot', '--log-level']);

/**
 * Whether this (non-root) invocation must run inside the user namespace: its command word, after
 * global flags, is one of USERNS_COMMANDS. Checked by bin/berth.js before the CLI is loaded, so
 * the host-side half of a rootless command costs a Node start and a few small modules.
 */
export function needsUserNamespace(argv: string[], env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): boolean {
  if (uid === 0 || env[ROOTLESS_UID_ENV]) return false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('-')) return USERNS_COMMANDS.has(token);
    if (GLOBAL_VALUE_FLAGS.has(token)) i++;
  }
  return false;
}

/** bin/berth.js's entry for rootless commands: the exit status, errors printed as the CLI does. */
export async function runRootless(argv: string[]): Promise<number> {
  try {
    return await reexecInUserNamespace(argv);
  } catch (error) {
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    return error instanceof RuntimeError ? error.exitCode : 125;
  }
}

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

/**
 * The mapping berth uses for this user: own uid/gid → 0, then the first subordinate range of
 * /etc/subuid and /etc/subgid (what `unshare --map-users` can apply in one go; Podman's default
 * with one range per user, which is what useradd allocates).
 */
export function rootlessMapping(subuidText = readOr('/etc/subuid'), subgidText = readOr('/etc/subgid'),
  user: { name: string; uid: number; gid: number } = currentUser()): IdMapping {
  const subUids = parseSubordinateIds(subuidText, { name: user.name, id: user.uid }).slice(0, 1);
  const subGids = parseSubordinateIds(subgidText, { name: user.name, id: user.uid }).slice(0, 1);
  return { uids: rootlessRanges(user.uid, subUids), gids: rootlessRanges(user.gid, subGids) };
}

function currentUser(): { name: string; uid: number; gid: number } {
  const info = os.userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
}

/**
 * `unshare` arguments for a user + mount namespace with `mapping` (ranges after the first are
 * subordinate); with a cgroup namespace on hybrid-cgroup hosts (see cgroupViewInUserNamespace).
 */
export function unshareArgs(mapping: IdMapping, cgroupLayout: CgroupLayout = 'v2'): string[] {
  const args = ['--user', '--mount', ...(cgroupLayout === 'hybrid' ? ['--cgroup'] : []), '--map-root-user'];
  const sub = (r: IdMapping['uids']) => r.slice(1).map((x) => `${x.outside},${x.inside},${x.count}`);
  for (const u of sub(mapping.uids)) args.push(`--map-users=${u}`);
  for (const g of sub(mapping.gids)) args.push(`--map-groups=${g}`);
  return args;
}

function checkHelpers(mapping: IdMapping): void {
  if (mapping.uids.length > 1 && !fs.existsSync(NEWUIDMAP)) {
    throw new RuntimeError('uidmap-missing', `rootless berth needs ${NEWUIDMAP} and newgidmap to map the subordinate ids of /etc/subuid: install the Debian package uidmap`, { context: { file: NEWUIDMAP } });
  }
}

/**
 * Runs this same berth command again inside the user namespace and returns its exit status.
 * stdio and the environment (NOTIFY_SOCKET included) are passed through; termination signals
 * are forwarded.
 */
export function reexecInUserNamespace(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const mapping = rootlessMapping();
  checkHelpers(mapping);
  const uid = process.getuid?.() ?? 0;
  const child = spawn('unshare', [...unshareArgs(mapping, detectCgroupLayout()), '--', process.execPath, ...process.execArgv, process.argv[1]!, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...env, [ROOTLESS_UID_ENV]: String(uid), [SIGNAL_FD_ENV]: '3' },
  });
  const channel = child.stdio[3] as net.Socket;
  serveSignals(channel, mapping);
  const forward = (sig: NodeJS.Signals) => () => { try { child.kill(sig); } catch { /* gone */ } };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`Error: cannot enter the rootless user namespace (unshare): ${error.message}\n`);
      resolve(125);
    });
    child.on('exit', (code, signal) => {
      channel.destroy();
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
}

const SIGNAL_FD_ENV = 'BERTH_HOST_SIGNAL_FD';
// Only this process talks to its host side: taken out of the environment that crun, the monitor
// and `berth cleanup` inherit (the fd itself is not inherited: Node opens nothing without CLOEXEC).
// Kept on the process, not the module: the code-cached CLI bundle and the ES modules of the rest
// of the CLI each have their own copy of this module, and the first to load takes the variable.
const HOST_SIGNAL_FD = Symbol.for('berth.hostSignalFd');
const processGlobals = globalThis as unknown as Record<symbol, number | undefined>;
if (processGlobals[HOST_SIGNAL_FD] === undefined) processGlobals[HOST_SIGNAL_FD] = Number(process.env[SIGNAL_FD_ENV]);
delete process.env[SIGNAL_FD_ENV];
const hostSignalFd = processGlobals[HOST_SIGNAL_FD];

/** Host side: "PID SIGNAL" lines in, "ok"/"error" lines out; only processes of the mapped ids. */
function serveSignals(channel: net.Socket, mapping: IdMapping): void {
  let buffer = '';
  channel.on('error', () => undefined);
  channel.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const [pid, sig] = buffer.slice(0, nl).split(' ').map(Number);
      buffer = buffer.slice(nl + 1);
      let answer = 'error';
      if (pid! > 1 && Number.isInteger(sig) && ownedByMapping(pid!, mapping)) {
        try { process.kill(pid!, sig!); answer = 'ok'; } catch { /* gone */ }
      }
      channel.write(`${answer}\n`);
    }
  });
}

function ownedByMapping(pid: number, mapping: IdMapping): boolean {
  const uid = Number(/^Uid:\s+(\d+)/m.exec(readOr(`/proc/${pid}/status`))?.[1]);
  return mapping.uids.some((r) => uid >= r.outside && uid < r.outside + r.count);
}

let hostChannel: { socket: net.Socket; pending: ((line: string) => void)[]; buffer: string } | undefined;

/**
 * Inside the namespace: have the host-side berth send `signal` to `pid` (a container process
 * in another of the user's namespaces). False when there is no host side or it failed.
 */
export function signalFromHost(pid: number, signal: number, fd = hostSignalFd): Promise<boolean> {
  if (!Number.isInteger(fd) || fd < 3) return Promise.resolve(false);
  if (!hostChannel) {
    let socket: net.Socket;
    try {
      if (!fs.fstatSync(fd).isSocket()) return Promise.resolve(false);
      socket = new net.Socket({ fd, readable: true, writable: true });
    } catch {
      return Promise.resolve(false);
    }
    const channel = { socket, pending: [] as ((line: string) => void)[], buffer: '' };
    socket.on('error', () => { for (const p of channel.pending.splice(0)) p('error'); });
    socket.on('data', (chunk: Buffer) => {
      channel.buffer += chunk.toString();
      for (let nl = channel.buffer.indexOf('\n'); nl >= 0; nl = channel.buffer.indexOf('\n')) {
        const line = channel.buffer.slice(0, nl);
        channel.buffer = channel.buffer.slice(nl + 1);
        channel.pending.shift()?.(line);
      }
      if (channel.pending.length === 0) socket.unref();
    });
    hostChannel = channel;
  }
  const channel = hostChannel;
  return new Promise((resolve) => {
    channel.pending.push((line) => resolve(line === 'ok'));
    channel.socket.ref();
    channel.socket.write(`${pid} ${signal}\n`);
  });
}

/** Removes trees that hold files of mapped owners (a container's upper dir), from the host side. */
export async function removeInUserNamespace(dirs: string[]): Promise<void> {
  const existing = dirs.filter((d) => fs.existsSync(d));
  if (existing.length === 0) return;
  const mapping = rootlessMapping();
  checkHelpers(mapping);
  const r = await runProc('unshare', [...unshareArgs(mapping), '--', 'rm', '-rf', '--', ...existing]);
  if (r.exitCode !== 0) throw new RuntimeError('remove-failed', `cannot remove ${existing.join(', ')}: ${r.stderr.trim()}`, { context: { file: existing[0] } });
}
