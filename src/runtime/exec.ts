/**
 * `berth exec`: a new process in a running container through `crun exec`, which joins the
 * container's namespaces and cgroup and applies its config (env, caps, seccomp). With a
 * terminal (-t) the process runs under `script`, which gives crun exec a pty on berth's side
 * and passes it through as the process's stdio: no console-socket protocol to speak.
 */
import fs from 'node:fs';
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

/** Same 127/126 answers as for run, from the running container's config and rootfs. */
function precheckExec(paths: StoragePaths, record: ContainerRecord, command: string, workdir?: string, pid?: number): void {
  let spec: OciSpec;
  try { spec = JSON.parse(fs.readFileSync(path.join(bundleDir(paths, record.id), 'config.json'), 'utf8')) as OciSpec; } catch { return; }
  // Rootless, the rootfs is mounted only in the container's own mount namespace: look through its init.
  const root = paths.rootless && !paths.userns && pid ? `/proc/${pid}/root` : rootfsDirs(containerDir(paths, record.id)).merged;
  checkCommand(root, command, spec.process.env, workdir ?? spec.process.cwd, spec.mounts.map((m) => m.destination));
}

export interface ExecOptions { tty?: boolean; interactive?: boolean; env?: Record<string, string>; user?: string; workdir?: string; privileged?: boolean }

export function crunExecArgs(paths: StoragePaths, record: ContainerRecord, argv: string[], o: ExecOptions): string[] {
  const args = [...crunGlobalArgs(crunContext(paths, record)), 'exec'];
  for (const [k, v] of Object.entries(o.env ?? {})) args.push('--env', `${k}=${v}`);
  if (o.user) args.push('--user', o.user);
  if (o.workdir) args.push('--cwd', o.workdir);
  args.push(record.id, ...argv);
  return args;
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
  const crunArgs = crunExecArgs(paths, record, argv, o);
  let command = crunBinary();
  let args = crunArgs;
  if (o.tty && stdio === 'inherit' && process.stdin.isTTY) {
    command = 'script';
    args = ['-q', '-e', '-c', [crunBinary(), ...crunArgs].map(shellQuote).join(' '), '/dev/null'];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [o.interactive || o.tty ? 'inherit' : stdio === 'pipe' ? 'ignore' : 'ignore', stdio, stdio] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => reject(new RuntimeError('exec-failed', `cannot run crun exec: ${e.message}`, { cause: e })));
    child.on('exit', (code, signal) => {
      let exitCode = code ?? 128;
      if (signal) exitCode = 128 + ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal]!;
      // crun exec reports an exec failure as status 1 with its message on stderr
      if (exitCode === 1 && /executable file .* not found/.test(stderr)) exitCode = 127;
      else if (exitCode === 1 && /exec.*[Pp]ermission denied/.test(stderr)) exitCode = 126;
      resolve({ exitCode, stdout, stderr });
    });
  });
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
