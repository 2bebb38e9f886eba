/**
 * Find the container's command in its root file system before crun runs it, so that a missing
 * or non-executable command is a clear one-line error with Podman's status (127 / 126) and
 * nothing gets started. Symlinks are resolved inside the rootfs, never on the host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors/index.js';

/**
 * Resolve `p` (absolute, inside the container) to a host path under `root`, following symlinks
 * within root; undefined when a component does not exist. Runs for every container start (the
 * command, /etc/passwd, /etc/group, the workdir): no exceptions for missing entries, plain
 * concatenation of already normalized parts.
 */
export function resolveInRoot(root: string, p: string, depth = 0): string | undefined {
  if (depth > 40) return undefined;
  const parts = p.split('/');
  let current = '';   // '' is the container's "/"; otherwise "/a/b"
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === '' || part === '.') continue;
    if (part === '..') { current = current.slice(0, current.lastIndexOf('/')); continue; }
    const candidate = `${current}/${part}`;
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(root + candidate, { throwIfNoEntry: false }); } catch { return undefined; }   // ENOTDIR, EACCES…
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      let target: string;
      try { target = fs.readlinkSync(root + candidate); } catch { return undefined; }
      const rest = parts.slice(i + 1).join('/');
      const next = target.startsWith('/') ? target : `${current}/${target}`;
      return resolveInRoot(root, `${next}/${rest}`, depth + 1);
    }
    current = candidate;
  }
  return path.join(root, current || '/');
}

export function checkCommand(root: string, command: string, env: string[], cwd: string, mountPoints: string[]): void {
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const insideMount = (p: string): boolean => mountPoints.some((m) => p === m || p.startsWith(`${m}/`));
  let candidates: string[];
  if (command.includes('/')) candidates = [path.posix.resolve(cwd, command)];
  else candidates = pathVar.split(':').filter(Boolean).map((d) => path.posix.join(d, command));
  let found: string | undefined;
  let foundInContainer = '';
  for (const c of candidates) {
    if (insideMount(c)) return;   // provided by a mount: only crun can tell
    const host = resolveInRoot(root, c);
    let st: fs.Stats | undefined;
    try { st = host === undefined ? undefined : fs.statSync(host, { throwIfNoEntry: false }); } catch { st = undefined; }
    if (host && st) {
      if (st.isFile() && (st.mode & 0o111)) return;
      if (!found) { found = host; foundInContainer = c; }
      if (!command.includes('/')) continue;   // PATH search goes on past a non-executable match
    }
  }
  if (found) {
    throw new RuntimeError('command-not-executable', `${foundInContainer}: permission denied: OCI permission denied`, { context: { command }, exitCode: 126 });
  }
  const where = command.includes('/') ? 'No such file or directory' : 'not found in $PATH: No such file or directory';
  throw new RuntimeError('command-not-found', `executable file \`${command}\` ${where}: OCI runtime attempted to invoke a command that was not found`, { context: { command }, exitCode: 127 });
}

/** mkdir -p of a container path, following the rootfs's symlinks inside the rootfs only. */
export function mkdirInRoot(root: string, p: string): void {
  let current = '/';
  for (const part of p.split('/').filter((x) => x && x !== '.')) {
    const next = part === '..' ? path.posix.dirname(current) : path.posix.join(current, part);
    const resolved = resolveInRoot(root, next);
    if (resolved) { current = path.posix.join('/', path.relative(root, resolved)); continue; }
    fs.mkdirSync(path.join(root, current, part === '..' ? '' : part), { mode: 0o755 });
    current = next;
  }
}
