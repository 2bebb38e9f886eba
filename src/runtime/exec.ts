/**
 * `berth exec`: a new process in a running container through `crun exec`, which joins the
 * container's namespaces and cgroup and applies its config (env, caps, seccomp). With -t, as
 * Podman: `crun exec --tty --console-socket S` allocates the pty inside the container's devpts
 * (so `tty` there names /dev/pts/N of the container) and sends its master over S; the relay
 * (console-relay.py, see there why Python) copies between berth's stdio and that master.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RuntimeError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord } from './types.js';
import { crunBinary, crunGlobalArgs } from './crun.js';
import { crunContext } from './lifecycle.js';
import { readState, bundleDir, containerDir } from './state.js';
import { checkCommand } from './command-check.js';
import { rootfsDirs } from './rootfs.js';
import type { OciSpec } from './oci-config.js';
import { PYTHON, consoleRelay, terminalSize } from './helpers.js';

function readSpec(paths: StoragePaths, record: ContainerRecord): OciSpec | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(bundleDir(paths, record.id), 'config.json'), 'utf8')) as OciSpec; } catch { return undefined; }
}

/** Same 127/126 answers as for run, from the running container's config and rootfs. */
function precheckExec(paths: StoragePaths, record: ContainerRecord, command: string, workdir?: string, pid?: number): void {
  const spec = readSpec(paths, record);
  if (!spec) return;
  // Rootless, the rootfs is mounted only in the container's own mount namespace: look through its init.
  const root = paths.rootless && !paths.userns && pid ? `/proc/${pid}/root` : rootfsDirs(containerDir(paths, record.id)).merged;
  checkCommand(root, command, spec.process.env, workdir ?? spec.process.cwd, spec.mounts.map((m) => m.destination));
}

export interface ExecOptions { tty?: boolean; interactive?: boolean; env?: Record<string, string>; user?: string; workdir?: string; privileged?: boolean }

export function crunExecArgs(paths: StoragePaths, record: ContainerRecord, argv: string[], o: ExecOptions, consoleSocket?: string): string[] {
  const args = [...crunGlobalArgs(crunContext(paths, record)), 'exec'];
  const spec = readSpec(paths, record);
  // crun exec --env replaces the process's environment: pass the container's, then the additions.
  const extra = { ...(consoleSocket ? { TERM: 'xterm' } : {}), ...o.env };
  const env = new Map((spec?.process.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e] as const));
  for (const [k, v] of Object.entries(extra)) env.set(k, `${k}=${v}`);
  const size = consoleSocket ? terminalSize() : undefined;
  if (consoleSocket && size && spec) {
    // With a size to give, the whole process goes in a process.json (the container's own, with
    // this command's args, env, user and cwd): only there can crun take the pty's consoleSize.
    const processFile = path.join(path.dirname(consoleSocket), 'process.json');
    const [uid, gid] = (o.user ?? '').split(':');
    fs.writeFileSync(processFile, JSON.stringify({
      ...spec.process, terminal: true, consoleSize: size, args: argv, env: [...env.values()],
      cwd: o.workdir ?? spec.process.cwd,
      user: o.user ? { uid: Number(uid), gid: Number(gid ?? 0), umask: spec.process.user.umask } : spec.process.user,
    }));
    args.push(`--console-socket=${consoleSocket}`, `--process=${processFile}`, record.id);
    return args;
  }
  if (consoleSocket) args.push('--tty', `--console-socket=${consoleSocket}`);
  if (Object.keys(extra).length > 0) for (const e of env.values()) args.push('--env', e);
  // Without -u, Podman runs the command as the container's own user (the image's USER or --user).
  const user = o.user ?? containerUser(spec);
  if (user) args.push('--user', user);
  if (o.workdir) args.push('--cwd', o.workdir);
  args.push(record.id, ...argv);
  return args;
}

function containerUser(spec: OciSpec | undefined): string | undefined {
  const u = spec?.process.user;
  return u && (u.uid !== 0 || u.gid !== 0) ? `${u.uid}:${u.gid}` : undefined;
}

/** crun exec reports an exec failure as status 1 with its message on stderr: Podman's 127/126. */
function crunExitStatus(code: number, stderr: string): number {
  if (code === 1 && /executable file .* not found/.test(stderr)) return 127;
  if (code === 1 && /exec.*[Pp]ermission denied/.test(stderr)) return 126;
  return code;
}

/** Runs the command with berth's stdio; resolves with its exit status (Podman: 126/127 when it cannot run). */
export async function execInContainer(paths: StoragePaths, record: ContainerRecord, argv: string[], o: ExecOptions, stdio: 'inherit' | 'pipe' = 'inherit'): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const state = readState(paths, record.id);
  if (state.status !== 'running') {
    throw new RuntimeError('not-running', `can only create exec sessions on running containers: container state improper`, { context: { container: record.name } });
  }
  if (argv.length === 0) throw new RuntimeError('no-command', 'exec needs a command', { context: { container: record.name } });
  if (o.user && /^[^0-9]/.test(o.user.split(':')[0])) {
    throw new RuntimeError('exec-user', `--user ${o.user}: give a numeric uid[:gid] for exec`, { context: { user: o.user } });
  }
  precheckExec(paths, record, argv[0], o.workdir, state.pid);
  if (o.tty && stdio === 'inherit') return execWithTerminal(paths, record, argv, o);
  const crunArgs = crunExecArgs(paths, record, argv, o);
  return new Promise((resolve, reject) => {
    const child = spawn(crunBinary(), crunArgs, { stdio: [o.interactive ? 'inherit' : 'ignore', stdio, stdio] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => reject(new RuntimeError('exec-failed', `cannot run crun exec: ${e.message}`, { cause: e })));
    child.on('exit', (code, signal) => resolve({ exitCode: crunExitStatus(code ?? 128 + (signal ? os.constants.signals[signal] : 0), stderr), stdout, stderr }));
  });
}

/** -t: the relay runs crun exec and owns the terminal; berth only waits for its status. */
async function execWithTerminal(paths: StoragePaths, record: ContainerRecord, argv: string[], o: ExecOptions): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { args: relayArgs, dir } = consoleRelay(paths, Boolean(o.interactive), (socket) => [crunBinary(), ...crunExecArgs(paths, record, argv, o, socket)]);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(PYTHON, relayArgs, { stdio: ['inherit', 'inherit', 'pipe'] });
      // ^C on berth's terminal reaches crun and the relay too: let them end, and report the status.
      const ignore = () => undefined;
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, ignore);
      child.on('exit', () => { for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, ignore); });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); process.stderr.write(d); });
      child.on('error', (e) => reject(new RuntimeError('exec-failed', `cannot run the console relay (${PYTHON}): ${e.message}`, { cause: e })));
      child.on('exit', (code, signal) => resolve({ exitCode: crunExitStatus(code ?? 128 + (signal ? os.constants.signals[signal] : 0), stderr), stdout: '', stderr }));
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
