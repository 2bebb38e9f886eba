/**
 * A private mount + cgroup + pid namespace for runtime integration tests. This host has a hybrid
 * cgroup layout that crun refuses; inside a namespace that mounts cgroup2 on /sys/fs/cgroup, with
 * the cgroup namespace rooted at a child cgroup this helper creates (never the host's root), crun
 * works. Every command of one test runs in the same namespace (via nsenter), so the overlay
 * mounts and crun containers of one `berth run` are visible to the next `berth ps`/`rm`.
 * stop() kills the namespace's PID 1 (the kernel then kills everything inside), which also drops
 * every mount, and removes the cgroup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';

export interface NsExecResult { stdout: string; stderr: string; exitCode: number }
export interface TestNamespace {
  pid: number;          // host pid of the namespace's init
  cgroup: string;       // host path of the cgroup the namespace is rooted at
  exec(argv: string[], options?: { env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<NsExecResult>;
  sh(script: string, options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<NsExecResult>;
  stop(): Promise<void>;
}

function cgroupBase(): string {
  // Hybrid host: the v2 hierarchy is /sys/fs/cgroup/unified; pure v2: our own cgroup.
  if (fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs')) return '/sys/fs/cgroup/unified';
  const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  return path.join('/sys/fs/cgroup', own === '/' ? '' : path.dirname(own));
}

let counter = 0;

export async function startNamespace(name = 'runtime'): Promise<TestNamespace> {
  // <cgroup>/ns becomes the namespace's root; `unshare` itself (outside the namespace) moves to
  // <cgroup>/outer once the namespace exists, so the namespace's root holds no process (cgroup v2:
  // else nothing can enable controllers below it and crun retries for seconds per container).
  const cgroup = path.join(cgroupBase(), `berth-test-${name}-${process.pid}-${counter++}`);
  fs.mkdirSync(path.join(cgroup, 'ns'), { recursive: true });
  fs.mkdirSync(path.join(cgroup, 'outer'));
  const script = `echo $$ > ${cgroup}/ns/cgroup.procs && exec unshare --mount --cgroup --pid --fork --mount-proc sh -c 'mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && mkdir /sys/fs/cgroup/ns-init /sys/fs/cgroup/ns-exec && echo $$ > /sys/fs/cgroup/ns-init/cgroup.procs && echo ready && exec sleep infinity'`;
  const launcher = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  launcher.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`namespace did not start: ${stderr}`)), 10000);
    launcher.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
    launcher.on('exit', (code) => { clearTimeout(timer); reject(new Error(`namespace exited (${code}): ${stderr}`)); });
  });
  launcher.removeAllListeners('exit');
  launcher.unref();
  // The namespace's init is the only child of `unshare` (launcher.pid after exec).
  const children = fs.readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim().split(/\s+/);
  const pid = Number(children[0]);
  if (!pid) throw new Error('cannot find the namespace init');
  fs.writeFileSync(path.join(cgroup, 'outer', 'cgroup.procs'), String(launcher.pid));

  const exec = async (argv: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<NsExecResult> => {
    // Join a leaf cgroup of the namespace (0::/ns-exec): cgroup v2 lets crun enable controllers
    // for the containers' cgroups only in cgroups without processes, so the root stays empty
    // (else crun retries `+controller` 2000 times with 1 ms sleeps: seconds per container).
    const r = await execa('nsenter', ['-t', String(pid), '-m', '-C', '-p', '--', 'sh', '-c', 'echo $$ > /sys/fs/cgroup/ns-exec/cgroup.procs && exec "$@"', 'ns-exec', ...argv], {
      reject: false, stripFinalNewline: false, env: options.env, input: options.input, timeout: options.timeoutMs ?? 60000, stdin: options.input === undefined ? 'ignore' : undefined,
    });
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? (r.timedOut ? 124 : 128) };
  };
  const stop = async (): Promise<void> => {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
    try { process.kill(launcher.pid!, 'SIGKILL'); } catch { /* gone */ }
    // Wait until the cgroup tree is empty, then remove it bottom-up.
    for (let i = 0; i < 100; i++) {
      const dirs = listCgroupDirs(cgroup);
      for (const d of dirs) { try { fs.rmdirSync(d); } catch { /* busy */ } }
      if (!fs.existsSync(cgroup)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { pid, cgroup, exec, sh: (s, o) => exec(['sh', '-c', s], o), stop };
}

function listCgroupDirs(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(root);
  return out;   // children before parents
}
