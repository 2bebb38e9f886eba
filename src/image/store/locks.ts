/**
 * Cross-process locks with flock(2). The kernel drops a flock when its holder dies, so a crashed
 * or killed berth never leaves a lock behind (no stale-owner guessing by pid/boot id).
 *
 * Node has no flock, so a helper process holds the locks: one small perl process per berth
 * process (perl-base is Essential on Debian), driven over a pipe ("L id path" / "U id"); it exits
 * when our end of its stdin closes, which releases everything. Waiting is a non-blocking try with
 * backoff. Without perl, each lock is one `flock(1)` child instead.
 * Measured here (2 cores, load ~17): 45 ms per lock with a flock(1) spawn, ~0.2 ms per lock
 * through the resident helper; an O_EXCL lockfile costs 0.13 ms but needs racy stale-lock
 * breaking. Within one process, holders of the same name are queued in memory first.
 *
 * Through the helper, a lock is one byte of a single file, <locks dir>/ranges.lock, locked with an
 * open-file-description lock (fcntl F_OFD_SETLK: per open file, not per process, and dropped by the
 * kernel when the holder dies, like flock): the byte's offset comes from the SHA-256 of the lock's
 * name. That file is made once and never deleted, so taking a lock creates no file: a pull takes two
 * locks per layer, and on some file systems each create and delete of a lock file cost up to a
 * millisecond of the helper's time, in series. Where the helper cannot do that (no perl, or a
 * machine whose fcntl constants are not the generic Linux ones), each lock is a file of its own:
 * the holder deletes the file while it still holds the lock, and whoever acquires a lock checks
 * afterwards that the path still names the very file it locked (same device and inode); if not (it
 * locked a file just deleted, or one since replaced), it lets go and tries again. So two processes
 * never hold "the same" lock on two different files, and lock files do not pile up. (The two ways
 * do not exclude each other: a machine uses one of them.)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImageError } from '../../errors/index.js';
import { rawSpawn } from '../../process/raw-spawn.js';

const inProcess = new Map<string, Promise<void>>();

export async function withFileLock<T>(locksDir: string, name: string, fn: () => Promise<T>): Promise<T> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ImageError('bad-lock-name', `invalid lock name "${name}"`, { context: { lock: name } });
  const file = path.join(locksDir, `${name}.lock`);
  const previous = inProcess.get(file) ?? Promise.resolve();
  let releaseLocal!: () => void;
  const mine = new Promise<void>((resolve) => (releaseLocal = resolve));
  const chained = previous.then(() => mine);
  inProcess.set(file, chained);
  await previous;
  try {
    fs.mkdirSync(locksDir, { recursive: true });   // sync: see atomic.ts readJson
    const release = await acquire(locksDir, name, file);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    releaseLocal();
    if (inProcess.get(file) === chained) inProcess.delete(file);
  }
}

/**
 * Start the lock helper now, so its start-up (~30 ms of perl) runs while the caller waits for
 * something else (a pull: for the registry) instead of before its first lock.
 */
export function startLockHelper(): void {
  LockHelper.get();
}

/** The helper's pid, if it runs (src/runtime/cgroups.ts moves it along with berth). */
export function lockHelperPid(): number | undefined {
  return LockHelper.current()?.pid;
}

/** The byte of ranges.lock that stands for lock `name` (52 bits of its SHA-256: a safe integer). */
export function rangeOffset(name: string): number {
  return parseInt(createHash('sha256').update(name).digest('hex').slice(0, 13), 16);
}

async function acquire(locksDir: string, name: string, file: string): Promise<() => Promise<void>> {
  const helper = LockHelper.get();
  if (!helper) return acquireWithFlockBinary(file);
  const id = helper.nextId();
  if (RANGE_LOCKS) {
    const ranges = path.join(locksDir, RANGES_FILE);
    const offset = rangeOffset(name);
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      const answer = await helper.request(`R ${id} ${offset} ${ranges}`, id);
      if (answer === 'OK') break;
      if (answer !== 'BUSY') throw new ImageError('lock-failed', `cannot lock "${name}" (byte ${offset} of ${ranges}): ${answer}`, { context: { file: ranges, lock: name } });
      await sleep(delay);
    }
    return unlockWith(helper, `Q ${id}`, id);
  }
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const answer = await helper.request(`L ${id} ${file}`, id);
    if (answer === 'OK') break;
    if (answer === 'STALE') {
      delay = 1; // the file was deleted under us: retry at once
      continue;
    }
    if (answer !== 'BUSY') throw new ImageError('lock-failed', `cannot lock ${file}: ${answer}`, { context: { file } });
    await sleep(delay);
  }
  return unlockWith(helper, `U ${id}`, id);
}

/**
 * The release of a helper-held lock: the unlock request is written at once and its answer not
 * waited for (a round trip that a busy pull paid twice per layer). The helper answers requests in
 * order, so this process's next lock request comes after the unlock; another process's waits for
 * it as before (or for the kernel, should the helper die). Node stays alive until it is answered.
 */
function unlockWith(helper: LockHelper, line: string, id: number): () => Promise<void> {
  return async () => {
    void helper.request(line, id);
  };
}

// R: "R id OFFSET FILE" locks byte OFFSET of FILE (opened once, kept open) with F_OFD_SETLK: OK, or
// BUSY (EAGAIN, EACCES). Q: "Q id" unlocks what R id locked.
// L: lock (OK, BUSY, or STALE when the path no longer names the locked file). U: delete the file, then unlock.
// D: remember a directory tree to delete once berth has gone (stdin closed); lstat, so a symlink
// in it is removed, never followed.
// S: a system call, "S id NR<tab>ARG<tab>ARG…" (an ARG "#N" is the integer N): OK, or "E errno message".
// The helper ignores INT, TERM, HUP and QUIT: a Ctrl-C or a stop reaches the whole process group, and
// berth, not the helper, decides what they mean (forwarding them to a program started by X, for one);
// the helper ends when berth's end of its stdin closes.
// X: run a program with berth's own stdin/stdout/stderr (given to the helper as fds 3-5),
// "X id DONE_ID UNSET<tab>FILE<tab>ARG…" (UNSET: environment variables to drop, comma-separated):
// "id OK pid" once forked, "DONE_ID status" (the wait status) when it has exited. K: "K id PID SIG"
// signals a program started by X, only while it has not been reaped ("GONE" after).
// Loading Fcntl (and strict) is ~7 ms of the helper's ~11 ms start-up, which every container start
// waits for: where the values are the generic Linux ones (O_RDWR 2, O_CREAT 0100; flock's LOCK_EX 2,
// LOCK_NB 4, LOCK_UN 8 everywhere) they are written out, elsewhere Fcntl gives them.
const GENERIC_OPEN_FLAGS = ['x64', 'arm64', 'riscv64', 'ia32', 'arm'].includes(process.arch);
// Byte-range locks: 64-bit Linux with the generic fcntl values (F_OFD_SETLK 37, F_WRLCK 1, F_UNLCK 2,
// EAGAIN 11, EACCES 13) and struct flock { short type, whence; off_t start, len; pid_t pid } packed as
// 's s x4 q q l x4'; elsewhere a file per lock (BERTH_LOCKS_PER_FILE=1 forces that way: tests).
const RANGE_LOCKS = ['x64', 'arm64', 'riscv64'].includes(process.arch) && process.platform === 'linux' && process.env.BERTH_LOCKS_PER_FILE !== '1';
export const RANGES_FILE = 'ranges.lock';
const PERL_CONSTANTS = GENERIC_OPEN_FLAGS
  ? 'sub O_RDWR () { 2 } sub O_CREAT () { 64 } sub LOCK_EX () { 2 } sub LOCK_NB () { 4 } sub LOCK_UN () { 8 }'
  : 'use Fcntl qw(:flock O_RDWR O_CREAT);';
const PERL = `${PERL_CONSTANTS} $| = 1; my %h; my %r; my %files; my @defer; my %kids; my %early; my $fds = ($ARGV[0] // '') eq 'fds';
$SIG{$_} = 'IGNORE' for qw(INT TERM HUP QUIT);
$SIG{CHLD} = sub { local ($!, $?); while ((my $k = waitpid(-1, 1)) > 0) { my $d = delete $kids{$k}; if (defined $d) { print "$d $?\\n"; } else { $early{$k} = $?; } } };
while (my $l = <STDIN>) { chomp $l; my ($op, $id, $p) = split(/ /, $l, 3);
  if ($op eq 'L') { my $fh; if (!sysopen($fh, $p, O_RDWR|O_CREAT, 0644)) { print "$id E $!\\n"; next; }
    if (!flock($fh, LOCK_EX|LOCK_NB)) { close($fh); print "$id BUSY\\n"; next; }
    my @a = stat($fh); my @b = stat($p);
    if (!@b || $a[0] != $b[0] || $a[1] != $b[1]) { close($fh); print "$id STALE\\n"; next; }
    $h{$id} = [$fh, $p]; print "$id OK\\n"; }
  elsif ($op eq 'R') { my ($off, $f) = split(/ /, $p, 2); my $fh = $files{$f};
    if (!$fh) { if (!sysopen($fh, $f, O_RDWR|O_CREAT, 0644)) { print "$id E $!\\n"; next; } $files{$f} = $fh; }
    if (fcntl($fh, 37, pack('s s x4 q q l x4', 1, 0, $off, 1, 0))) { $r{$id} = [$fh, $off]; print "$id OK\\n"; }
    else { my $e = $! + 0; print $e == 11 || $e == 13 ? "$id BUSY\\n" : "$id E $!\\n"; } }
  elsif ($op eq 'Q') { if (my $e = delete $r{$id}) { fcntl($e->[0], 37, pack('s s x4 q q l x4', 2, 0, $e->[1], 1, 0)); } print "$id OK\\n"; }
  elsif ($op eq 'U') { if (my $e = delete $h{$id}) { unlink($e->[1]); flock($e->[0], LOCK_UN); close($e->[0]); } print "$id OK\\n"; }
  elsif ($op eq 'D') { push @defer, $p; print "$id OK\\n"; }
  elsif ($op eq 'S') { my @a = split(/\\t/, $p, -1); my $nr = shift @a; @a = map { /^#(\\d+)$/ ? 0 + $1 : $_ } @a;
    my $r = syscall($nr, @a); print $r == -1 ? "$id E " . ($! + 0) . " $!\\n" : "$id OK\\n"; }
  elsif ($op eq 'X') { if (!$fds) { print "$id E 0 no stdio\\n"; next; }
    my ($done, $rest) = split(/ /, $p, 2); my @a = split(/\\t/, $rest, -1); my $unset = shift @a;
    my $pid = fork(); if (!defined $pid) { print "$id E " . ($! + 0) . " $!\\n"; next; }
    if ($pid == 0) { $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT CHLD); open(STDIN, '<&', 3); open(STDOUT, '>&', 4); open(STDERR, '>&', 5); closefds();
      delete $ENV{$_} for grep { length } split(/,/, $unset); exec { $a[0] } @a; print STDERR "cannot run $a[0]: $!\\n"; exit 127; }
    if (exists $early{$pid}) { print "$done " . delete($early{$pid}) . "\\n"; } else { $kids{$pid} = $done; }
    print "$id OK $pid\\n"; }
  elsif ($op eq 'K') { my ($pid, $sig) = split(/ /, $p); print !exists $kids{$pid} ? "$id GONE\\n" : kill($sig, $pid) ? "$id OK\\n" : "$id E $!\\n"; } }
close(STDOUT); closefds() if $fds;
sub closefds { for my $n (3, 4, 5) { open(my $f, '<&=', $n) and close($f); } }
sub rmtree { my ($p) = @_; lstat($p) or return;
  if (-d _) { if (opendir(my $d, $p)) { for my $e (readdir $d) { rmtree("$p/$e") unless $e eq '.' || $e eq '..'; } closedir($d); } rmdir($p); }
  else { unlink($p); } }
rmtree($_) for @defer;`;

/** The helper's two pipes and its exit, from rawSpawn (no node:child_process on the start path) or node:child_process. */
interface HelperChannel {
  readonly pid: number | undefined;
  write(line: string): void;
  onOutput(listener: (text: string) => void): void;
  onGone(listener: () => void): void;
  ref(): void;
  unref(): void;
}

/** berth's stdin, stdout and stderr are open (node opens /dev/null for any that were closed; checked all the same). */
function openStdio(): boolean {
  try {
    for (const fd of [0, 1, 2]) fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

function spawnHelper(perl: string, withStdio: boolean): HelperChannel {
  const args = ['-e', PERL, ...(withStdio ? ['fds'] : [])];
  try {
    const raw = rawSpawn(perl, args, { stdio: ['pipe', 'pipe', 'ignore'], extraFds: withStdio ? [0, 1, 2] : [] });
    if (raw) {
      return {
        pid: raw.pid, write: (line) => raw.write(line), onOutput: (l) => raw.onOutput(l),
        onGone: (l) => { void raw.exited.then(l); }, ref: () => raw.ref(), unref: () => raw.unref(),
      };
    }
  } catch {
    // a failed raw spawn: node:child_process reports the same failure through 'error'
  }
  const child = spawn(perl, args, { stdio: ['pipe', 'pipe', 'ignore', ...(withStdio ? [0, 1, 2] : [])] });
  child.stdin!.on('error', () => undefined);
  child.stdout!.setEncoding('utf8');
  const stream = child.stdout as unknown as { ref(): void; unref(): void };
  return {
    pid: child.pid,
    write: (line) => { child.stdin!.write(line); },
    onOutput: (listener) => { child.stdout!.on('data', listener); },
    onGone: (listener) => { child.once('exit', listener); child.once('error', listener); },
    ref: () => { child.ref(); stream.ref(); },
    unref: () => { child.unref(); stream.unref(); },
  };
}

class LockHelper {
  private static instance: LockHelper | null | undefined;
  private readonly waiting = new Map<number, (answer: string) => void>();
  private counter = 0;
  private buffer = '';
  private dead = false;

  private constructor(private readonly channel: HelperChannel, readonly stdioEnv: NodeJS.ProcessEnv | undefined) {
    channel.onOutput((chunk) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) !== -1) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const space = line.indexOf(' ');
        const id = Number(line.slice(0, space));
        const resolve = this.waiting.get(id);
        this.waiting.delete(id);
        resolve?.(line.slice(space + 1));
        this.updateRef();
      }
    });
    channel.onGone(() => {
      if (this.dead) return;
      this.dead = true;
      LockHelper.instance = undefined;
      for (const resolve of this.waiting.values()) resolve('E lock helper exited');
      this.waiting.clear();
    });
    this.updateRef();
  }

  static get(): LockHelper | null {
    if (LockHelper.instance === undefined) {
      // BERTH_LOCKS_NO_PERL=1 forces the flock(1) way (tests exercise it; perl is Essential on Debian).
      const perl = process.env.BERTH_LOCKS_NO_PERL === '1' ? undefined : ['/usr/bin/perl', '/bin/perl'].find((p) => fs.existsSync(p));
      const withStdio = perl !== undefined && openStdio();
      // the environment the helper's X children start from
      LockHelper.instance = perl ? new LockHelper(spawnHelper(perl, withStdio), withStdio ? { ...process.env } : undefined) : null;
    }
    return LockHelper.instance;
  }

  static current(): LockHelper | undefined {
    return LockHelper.instance ?? undefined;
  }

  get pid(): number | undefined {
    return this.dead ? undefined : this.channel.pid;
  }

  nextId(): number {
    return ++this.counter;
  }

  request(line: string, id: number): Promise<string> {
    if (this.dead) return Promise.resolve('E lock helper exited');
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.updateRef();
      this.channel.write(`${line}\n`);
    });
  }

  forget(id: number): void {
    this.waiting.delete(id);
    this.updateRef();
  }

  /** A line the helper will send later under `id` (X's exit status); node stays alive until then. */
  expect(id: number): Promise<string> {
    if (this.dead) return Promise.resolve('E lock helper exited');
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.updateRef();
    });
  }

  /** The helper must not keep node alive when idle, but must while we wait for an answer. */
  private updateRef(): void {
    if (this.waiting.size > 0) this.channel.ref();
    else this.channel.unref();
  }
}

/**
 * One system call made by the helper process (which berth starts anyway for its locks), for calls
 * node has no binding for: mount(2) and umount2(2) of a container's root file system, where a
 * mount(8) or umount(8) child would cost a process each on every container start. Arguments are
 * strings, or integers written as { int: N }; none may hold a tab or newline. Resolves to
 * { ok: true } or { ok: false, errno, message }; undefined when there is no helper (no perl).
 */
export type SyscallArg = string | { int: number };
export type SyscallResult = { ok: true } | { ok: false; errno: number; message: string };
export function helperSyscall(nr: number, args: SyscallArg[]): Promise<SyscallResult> | undefined {
  if (args.some((a) => typeof a === 'string' && (/[\t\n]/.test(a) || a.startsWith('#')))) return undefined;
  const text = args.map((a) => (typeof a === 'string' ? a : `#${Math.trunc(a.int)}`));
  const helper = LockHelper.get();
  if (!helper) return undefined;
  const id = helper.nextId();
  return helper.request(`S ${id} ${[String(nr), ...text].join('\t')}`, id).then((answer) => {
    if (answer === 'OK') return { ok: true };
    const m = /^E (\d+) ?(.*)$/.exec(answer);
    return { ok: false, errno: m ? Number(m[1]) : 0, message: m ? m[2] : answer };
  });
}

/** /proc/PID/stat's start time, or undefined when the process is gone or a zombie. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch { return undefined; }
}

/** A program the helper runs with berth's stdio (helperExec). */
export interface HelperChild {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Runs `file` as a child of the helper, with berth's stdin, stdout and stderr and the environment
 * `env`: a perl fork is ~0.2 ms where a fork of node costs ~1.5-3 ms of every container start
 * (launch.ts: the foreground `crun run`). Undefined when the helper cannot (no perl, berth's stdio
 * not all open, an argument with a tab or newline, an environment that differs from the helper's
 * by more than removed variables): the caller spawns it itself.
 */
export async function helperExec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<HelperChild | undefined> {
  const helper = LockHelper.get();
  const base = helper?.stdioEnv;
  if (!helper || !base || [file, ...args].some((a) => /[\t\n]/.test(a))) return undefined;
  const unset: string[] = [];
  for (const key of Object.keys(base)) if (env[key] === undefined) unset.push(key);
  for (const key of Object.keys(env)) if (env[key] !== undefined && env[key] !== base[key]) return undefined;
  if (unset.some((k) => /[,\t\n ]/.test(k))) return undefined;
  const id = helper.nextId();
  const doneId = helper.nextId();
  const done = helper.expect(doneId);
  const answer = await helper.request(`X ${id} ${doneId} ${[unset.join(','), file, ...args].join('\t')}`, id);
  const m = /^OK (\d+)$/.exec(answer);
  if (!m) {
    helper.forget(doneId);
    return undefined;
  }
  const pid = Number(m[1]);
  const startTime = startTimeOf(pid);
  let reaped = false;
  const exited = done.then(async (status) => {
    reaped = true;
    const wait = Number(status);
    if (!Number.isInteger(wait)) {
      // The helper itself went away (killed): its child lives on, reparented; its status is lost,
      // but berth must not go on as if it had ended.
      while (startTime !== undefined && startTimeOf(pid) === startTime) await new Promise((r) => setTimeout(r, 20));
      return { code: 125, signal: null };
    }
    const signo = wait & 0x7f;
    if (signo === 0) return { code: (wait >> 8) & 0xff, signal: null };
    const name = Object.entries(os.constants.signals).find(([, n]) => n === signo)?.[0] as NodeJS.Signals | undefined;
    return name ? { code: null, signal: name } : { code: 128 + signo, signal: null };
  });
  return {
    pid,
    exited,
    kill: (signal) => {
      const signo = os.constants.signals[signal];
      if (reaped || signo === undefined) return;
      const killId = helper.nextId();
      void helper.request(`K ${killId} ${pid} ${signo}`, killId);
    },
  };
}

/**
 * Hands a directory tree (already renamed out of the way) to the helper, which deletes it after
 * berth has exited: `berth run --rm` and `rm` need not wait for the rmdir of every upper and work
 * dir. False when there is no helper, or its answer did not come: the caller deletes it itself.
 * A tree whose deletion was cut short (the helper killed) is the caller's to sweep later.
 */
export async function deferRemoval(dir: string): Promise<boolean> {
  if (/[\n]/.test(dir)) return false;
  const helper = LockHelper.get();
  if (!helper) return false;
  const id = helper.nextId();
  return (await helper.request(`D ${id} ${dir}`, id)) === 'OK';
}

/** The same protocol with flock(1) on fd 9 of a shell: lock, check the inode, hold until stdin closes, delete, exit. */
const FLOCK_SCRIPT = `while :; do exec 9<>"$1" || exit 1; flock -x 9 || exit 1
  [ "$(stat -L -c %d:%i /dev/fd/9)" = "$(stat -c %d:%i "$1" 2>/dev/null)" ] && break; exec 9>&-; done
echo locked; cat >/dev/null; rm -f "$1"`;

async function acquireWithFlockBinary(file: string): Promise<() => Promise<void>> {
  const child = spawn('sh', ['-c', FLOCK_SCRIPT, 'sh', file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new ImageError('lock-failed', `cannot run flock for ${file}: ${error.message}`, { context: { file }, cause: error })));
    child.stdout.once('data', () => resolve());
    void exited.then((code) => reject(new ImageError('lock-failed', `flock ${file} exited with ${code}: ${stderr.trim()}`, { context: { file } })));
  });
  return async () => {
    child.stdin.end();
    await exited;
  };
}
