/**
 * The end-to-end harness: a throwaway systemd (PID 1) in its own pid/mount/cgroup/uts/ipc/net
 * namespaces, over an overlay of the host's /, joined to a child cgroup of the test process.
 * Tests drive it with exec/systemctl and always stop it (try/finally); a process 'exit' hook
 * and a sweep of boxes whose owner died make sure nothing is left behind.
 *
 *   const box = await startSysbox();
 *   try { await box.systemctl('start', 'web'); } finally { await box.stop(); }
 *
 * State lives under /var/tmp/berth-sysbox/<name> (never /tmp, which systemd-tmpfiles may wipe).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, commOf, hasExited, isAlive, launch, MASKED_UNITS, startTimeOf } from './sysbox/boot.js';
import { destroyCgroup, destroyCgroupSync, ownCgroupDir } from './sysbox/cgroup.js';
import { CommandError, delay, runCommand, sleepSync, type ExecResult } from './sysbox/run.js';

export { CommandError, type ExecResult };

export const SYSBOX_STATE_ROOT = '/var/tmp/berth-sysbox';
const CGROUP_PREFIX = 'berth-sysbox-';
const EXEC_CGROUP = 'berth-exec';
const INNER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const REGISTRY_HOST = '127.0.0.1:5000';

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  /** Run as this user (name or uid) instead of root. */
  user?: string;
  /** Default true: a non-zero exit throws a CommandError carrying stdout/stderr. */
  check?: boolean;
  /** Default 120 s. */
  timeoutMs?: number;
  /** Stream the command's stdout/stderr to this process's instead of collecting them (result has ''). */
  inheritOutput?: boolean;
  /** Working directory inside (default /). */
  cwd?: string;
}

export interface Sysbox {
  name: string;
  /** Host PID of the sysbox's systemd. */
  pid: number;
  /** Milliseconds from launch to `is-system-running` = running/degraded. */
  bootMs: number;
  /** The repository root, bound read-write at the same path inside. */
  repoRoot: string;
  /** The box's systemd console log (warnings and errors, generator failures among them); removed by stop(). */
  logPath: string;
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  sh(script: string, options?: ExecOptions): Promise<ExecResult>;
  systemctl(...args: string[]): Promise<ExecResult>;
  userSystemctl(...args: string[]): Promise<ExecResult>;
  waitForState(unit: string, state: string, options?: { user?: boolean; timeoutMs?: number }): Promise<void>;
  journal(unit: string, options?: { user?: boolean }): Promise<string>;
  /** Polls the unit's journal until `pattern` matches (output reaches journald asynchronously); returns the text. */
  waitForJournal(unit: string, pattern: RegExp, options?: { user?: boolean; timeoutMs?: number }): Promise<string>;
  startRegistry(): Promise<string>;
  /** Copies an OCI layout from the host into the sysbox's registry (skopeo on the host, in the sysbox's network namespace). */
  pushImage(layout: { layout: string; tag: string }, name: string): Promise<string>;
  /** Runs argv on the host's file system but inside the sysbox's network namespace (e.g. curl, skopeo). */
  hostExecInNet(argv: string[], options?: Pick<ExecOptions, 'input' | 'check' | 'timeoutMs'>): Promise<ExecResult>;
  stop(): Promise<void>;
}

export interface SysboxOptions {
  /** Host folders bound read-write at the same path (the repository root always is). */
  binds?: string[];
  /** Folders that get a fresh tmpfs (/var/lib/berth always does). */
  tmpfs?: string[];
  /** A readable part for the name, e.g. the test file's base name. */
  name?: string;
  bootTimeoutMs?: number;
}

export function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'berth') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('sysbox: cannot find the berth repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let counter = 0;
const live = new Set<SysboxImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => { for (const box of live) box.stopSync(); });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const box of live) box.stopSync();
      process.kill(process.pid, signal);
    });
  }
}

interface Owner { pid: number; start: string; cgroup: string; /** host PID of the box's systemd, 0 before boot */ systemd: number }

/** Removes boxes left by test processes that died without cleaning up (SIGKILL, crash). */
export function reapOrphans(): string[] {
  const reaped: string[] = [];
  let names: string[] = [];
  try { names = readdirSync(SYSBOX_STATE_ROOT); } catch { return reaped; }
  for (const name of names) {
    const state = join(SYSBOX_STATE_ROOT, name);
    let owner: Owner | undefined;
    try { owner = JSON.parse(readFileSync(join(state, 'owner.json'), 'utf8')); } catch { /* being created, or junk */ }
    if (owner === undefined) {
      // a box whose start died before recording its owner: give a starting one a minute
      let age = 0;
      try { age = Date.now() - statSync(state).mtimeMs; } catch { continue; }
      if (age < 60_000) continue;
      owner = { pid: 0, start: '', cgroup: join(ownCgroupDir(), CGROUP_PREFIX + name), systemd: 0 };
    } else if (isAlive(owner.pid) && startTimeOf(owner.pid) === owner.start) {
      continue;
    }
    if (destroyCgroupSync(owner.cgroup)) {
      for (let waited = 0; owner.systemd && !hasExited(owner.systemd) && waited < 5_000; waited += 20) sleepSync(20);
      rmSync(state, { recursive: true, force: true });
      reaped.push(name);
    }
  }
  return reaped;
}

export async function startSysbox(options: SysboxOptions = {}): Promise<Sysbox> {
  installExitHook();
  reapOrphans();
  const readable = (options.name ?? 'box').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24);
  const name = `${readable}-${process.pid}-${++counter}`;
  const box = new SysboxImpl(name, findRepoRoot(), options);
  live.add(box);
  try {
    await box.boot(options.bootTimeoutMs ?? 60_000);
  } catch (error) {
    await box.stop();
    throw error;
  }
  return box;
}

/**
 * Installs berth inside the sysbox with the project's install command (generator wrappers in
 * /usr/local/lib/systemd/{system,user}-generators, /usr/local/bin/berth). --no-build: the test run
 * has built already, and concurrent test files must not rebuild the shared dist/ under each other.
 */
export async function installBerthInSysbox(box: Sysbox): Promise<void> {
  const install = join(box.repoRoot, 'generators', 'install');
  if (!existsSync(install)) throw new Error(`sysbox: ${install} does not exist (the project's install command)`);
  await box.exec([install, '--no-build']);
}

class SysboxImpl implements Sysbox {
  pid = 0;
  bootMs = 0;
  readonly stateDir: string;
  readonly cgroupDir: string;
  private launcherPid = 0;
  private userManagerStarted = false;
  private stopped = false;

  constructor(readonly name: string, readonly repoRoot: string, private readonly options: SysboxOptions) {
    this.stateDir = join(SYSBOX_STATE_ROOT, name);
    this.cgroupDir = join(ownCgroupDir(), CGROUP_PREFIX + name);
  }

  async boot(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const binds = [...new Set([this.repoRoot, ...(this.options.binds ?? [])])];
    for (const dir of binds) if (!existsSync(dir)) throw new Error(`sysbox ${this.name}: bind source ${dir} does not exist`);
    const tmpfs = [...new Set(['/var/lib/berth', ...(this.options.tmpfs ?? [])])];
    mkdirSync(join(this.stateDir, 'mnt'), { recursive: true });
    this.writeOwner();
    writeFileSync(join(this.stateDir, 'binds'), binds.join('\n') + '\n');
    writeFileSync(join(this.stateDir, 'tmpfs'), tmpfs.join('\n') + '\n');
    writeFileSync(join(this.stateDir, 'masked'), MASKED_UNITS.join('\n') + '\n');
    mkdirSync(join(this.cgroupDir, EXEC_CGROUP), { recursive: true });
    this.launcherPid = launch(this.stateDir, this.cgroupDir, 'sysbox-' + this.name.slice(0, 40), this.logPath);

    const deadline = started + timeoutMs;
    let state = 'not started';
    while (Date.now() < deadline) {
      if (!isAlive(this.launcherPid)) throw this.bootError('the launcher exited');
      if (this.pid === 0) {
        const child = childPids(this.launcherPid)[0];
        if (child !== undefined && commOf(child) === 'systemd') {
          this.pid = child;
          this.moveLauncherOut();
          this.writeOwner();
        }
      } else {
        const result = await this.exec(['systemctl', 'is-system-running'], { check: false, timeoutMs: 10_000 });
        state = result.stdout.trim() || result.stderr.trim();
        if (state === 'running' || state === 'degraded') {
          this.bootMs = Date.now() - started;
          return;
        }
      }
      await delay(this.pid === 0 ? 10 : 40);
    }
    const jobs = this.pid === 0 ? '' : (await this.exec(['systemctl', 'list-jobs', '--no-pager'], { check: false, timeoutMs: 5_000 }).catch(() => undefined))?.stdout ?? '';
    throw this.bootError(`not running after ${timeoutMs} ms (last state: ${state})${jobs ? `\n--- pending jobs ---\n${jobs}` : ''}`);
  }

  /**
   * The launcher (`unshare`, waiting for PID 1) joined the box's cgroup only so that the cgroup
   * namespace is rooted there; left in it, it would be a process in a non-leaf cgroup, which keeps
   * systemd from enabling controllers for its subtree on cgroup-v2 hosts. Back to ours it goes.
   */
  private moveLauncherOut(): void {
    try {
      writeFileSync(join(ownCgroupDir(), 'cgroup.procs'), String(this.launcherPid));
    } catch { /* it exited already; boot() notices */ }
  }

  /** What reapOrphans() needs if this process dies without stopping the box. */
  private writeOwner(): void {
    const owner: Owner = { pid: process.pid, start: startTimeOf(process.pid) ?? '', cgroup: this.cgroupDir, systemd: this.pid };
    writeFileSync(join(this.stateDir, 'owner.json'), JSON.stringify(owner));
  }

  get logPath(): string { return join(this.stateDir, 'log'); }

  private bootError(why: string): Error {
    let log = '';
    try { log = readFileSync(this.logPath, 'utf8'); } catch { /* none */ }
    return new Error(`sysbox ${this.name}: boot failed: ${why}\n--- sysbox log (${this.logPath}) ---\n${log.slice(-8000)}`);
  }

  /**
   * The clean environment of commands run inside. SHLVL=1: bash sources ~/.bashrc when its stdin is a
   * socket (node's pipes are) and SHLVL is unset, and the host's /root/.bashrc (seen through the
   * overlay) may do anything, e.g. wait 60 s for a pyenv lock.
   */
  private innerEnv(extra: Record<string, string> = {}): string[] {
    const base: Record<string, string> = { PATH: INNER_PATH, HOME: '/root', USER: 'root', LOGNAME: 'root', LANG: 'C.UTF-8',
      TERM: 'dumb', SHLVL: '1', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0', ...extra };
    return Object.entries(base).map(([k, v]) => `${k}=${v}`);
  }

  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (options.user !== undefined && options.user !== 'root' && options.user !== '0') {
      const { uid, gid, home, name } = await this.lookupUser(options.user);
      const env = { HOME: home, USER: name, LOGNAME: name, XDG_RUNTIME_DIR: `/run/user/${uid}`, ...options.env };
      return this.exec(['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', 'env', ...this.innerEnv(env), ...argv],
        { ...options, user: undefined, env: undefined });
    }
    if (this.pid === 0 || this.stopped) return Promise.reject(new Error(`sysbox ${this.name} is not running`));
    // The command joins a cgroup inside the box first, so it sees itself inside its cgroup namespace
    // (crun and systemd-run care) and so stop() kills it with everything else.
    const enter = ['sh', '-c', 'echo $$ > "$0" && pid=$1 && shift 2 && exec nsenter -t "$pid" -a "$@"', join(this.cgroupDir, EXEC_CGROUP, 'cgroup.procs'), String(this.pid), '--'];
    const inner = ['env', '-i', ...(options.cwd ? [`--chdir=${options.cwd}`] : []), ...this.innerEnv(options.env), ...argv];
    return runCommand([...enter, ...inner], { input: options.input, check: options.check, timeoutMs: options.timeoutMs, inheritOutput: options.inheritOutput, label: [`[sysbox ${this.name}]`, ...argv] });
  }

  private async lookupUser(user: string): Promise<{ uid: string; gid: string; home: string; name: string }> {
    const entry = (await this.exec(['getent', 'passwd', user])).stdout.trim().split(':');
    return { name: entry[0]!, uid: entry[2]!, gid: entry[3]!, home: entry[5]! };
  }

  sh(script: string, options?: ExecOptions): Promise<ExecResult> {
    return this.exec(['bash', '--norc', '--noprofile', '-c', script], options);
  }

  systemctl(...args: string[]): Promise<ExecResult> {
    return this.exec(['systemctl', '--no-pager', ...args]);
  }

  private async ensureUserManager(): Promise<void> {
    if (this.userManagerStarted) return;
    await this.exec(['systemctl', 'start', 'dbus.socket', 'user@0.service']);
    this.userManagerStarted = true;
  }

  private userEnv(): Record<string, string> {
    return { XDG_RUNTIME_DIR: '/run/user/0', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/0/bus' };
  }

  async userSystemctl(...args: string[]): Promise<ExecResult> {
    await this.ensureUserManager();
    return this.exec(['systemctl', '--user', '--no-pager', ...args], { env: this.userEnv() });
  }

  async waitForState(unit: string, state: string, options: { user?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    if (options.user) await this.ensureUserManager();
    const scope = options.user ? ['--user'] : [];
    const env = options.user ? this.userEnv() : undefined;
    let seen = '';
    while (Date.now() < deadline) {
      const result = await this.exec(['systemctl', ...scope, 'show', '--property=ActiveState,SubState', '--value', unit], { env, check: false });
      const [active = '', sub = ''] = result.stdout.trim().split('\n');
      seen = `${active}/${sub}`;
      if (active === state || sub === state) return;
      await delay(100);
    }
    const status = await this.exec(['systemctl', ...scope, '--no-pager', '--full', 'status', unit], { env, check: false });
    const journal = await this.journal(unit, options);
    throw new Error(`sysbox ${this.name}: ${unit} did not reach "${state}" (last ${seen})\n--- status ---\n${status.stdout}${status.stderr}--- journal ---\n${journal}`);
  }

  async journal(unit: string, options: { user?: boolean } = {}): Promise<string> {
    // a unit's output reaches journald through a stream socket: ask it to catch up first
    await this.exec(['journalctl', '--sync'], { check: false });
    const read = async (match: string) => (await this.exec(['journalctl', '--no-pager', '--output=cat', match], { check: false })).stdout;
    if (!options.user) return read(`--unit=${unit}`);
    // When a process has exited before journald looks up its cgroup, journald falls back to the
    // unit name in the stream header and files the line under _SYSTEMD_UNIT, even for a user unit.
    return (await read(`--user-unit=${unit}`)) + (await read(`_SYSTEMD_UNIT=${unit}`));
  }

  async waitForJournal(unit: string, pattern: RegExp, options: { user?: boolean; timeoutMs?: number } = {}): Promise<string> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const text = await this.journal(unit, options);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`sysbox ${this.name}: the journal of ${unit} never matched ${pattern}:\n${text}`);
      await delay(100);
    }
  }

  async startRegistry(): Promise<string> {
    const config = [
      'version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', '    rootdirectory: /var/lib/berth-test-registry',
      '  delete:', '    enabled: true', 'http:', `  addr: ${REGISTRY_HOST}`, '',
    ].join('\n');
    await this.exec(['bash', '-c', 'mkdir -p /etc/berth-test-registry && cat > /etc/berth-test-registry/config.yml'], { input: config });
    await this.exec(['bash', '-c', 'mkdir -p /etc/containers/registries.conf.d && cat > /etc/containers/registries.conf.d/50-berth-test-registry.conf'],
      { input: `[[registry]]\nlocation = "${REGISTRY_HOST}"\ninsecure = true\n` });
    await this.exec(['systemd-run', '--unit=berth-test-registry', '--collect', '--property=Type=exec',
      'docker-registry', 'serve', '/etc/berth-test-registry/config.yml']);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const probe = await this.exec(['curl', '-fsS', '-o', '/dev/null', `http://${REGISTRY_HOST}/v2/`], { check: false });
      if (probe.exitCode === 0) return REGISTRY_HOST;
      await delay(100);
    }
    throw new Error(`sysbox ${this.name}: the registry did not answer on ${REGISTRY_HOST}\n${await this.journal('berth-test-registry.service')}`);
  }

  hostExecInNet(argv: string[], options: Pick<ExecOptions, 'input' | 'check' | 'timeoutMs'> = {}): Promise<ExecResult> {
    if (this.pid === 0 || this.stopped) return Promise.reject(new Error(`sysbox ${this.name} is not running`));
    return runCommand(['nsenter', '-t', String(this.pid), '-n', ...argv], { ...options, label: [`[host in sysbox ${this.name} net]`, ...argv] });
  }

  async pushImage(layout: { layout: string; tag: string }, name: string): Promise<string> {
    const ref = `${REGISTRY_HOST}/${name}`;
    await this.hostExecInNet(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.layout}:${layout.tag}`, `docker://${ref}`]);
    return ref;
  }

  async stop(): Promise<void> {
    if (this.stopped && !existsSync(this.stateDir)) return;
    this.stopped = true;
    const removed = await destroyCgroup(this.cgroupDir);
    if (this.launcherPid !== 0) { try { process.kill(this.launcherPid, 'SIGKILL'); } catch { /* gone with the cgroup */ } }
    for (let waited = 0; this.pid !== 0 && !hasExited(this.pid) && waited < 5_000; waited += 20) await delay(20);
    rmSync(this.stateDir, { recursive: true, force: true });
    live.delete(this);
    if (!removed) throw new Error(`sysbox ${this.name}: processes survived SIGKILL; cgroup ${this.cgroupDir} left behind`);
    if (this.pid !== 0 && !hasExited(this.pid)) throw new Error(`sysbox ${this.name}: systemd (pid ${this.pid}) has not exited 5 s after SIGKILL`);
  }

  stopSync(): void {
    this.stopped = true;
    destroyCgroupSync(this.cgroupDir);
    if (this.launcherPid !== 0) { try { process.kill(this.launcherPid, 'SIGKILL'); } catch { /* gone */ } }
    for (let waited = 0; this.pid !== 0 && !hasExited(this.pid) && waited < 5_000; waited += 20) sleepSync(20);
    rmSync(this.stateDir, { recursive: true, force: true });
    live.delete(this);
  }
}
