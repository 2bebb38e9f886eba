/**
 * Child processes without node:child_process, for the container start path.
 *
 * Why: a `berth run` is a fresh Node process, and node:child_process brings node:net, node:stream
 * and node:dgram with it; loading them and compiling the functions a spawn with pipes calls costs
 * more CPU than everything berth then does with the children (a script that only spawns a perl
 * helper with two pipes and a `/bin/true` with inherited stdio: 74.6 ms of CPU through
 * node:child_process, 56.5 ms through this module; medians of 40 alternating runs; bench/RESULTS.md
 * "## start"). The same libuv process and pipe
 * handles node:child_process is built on are used here directly, through `process.binding`, which
 * Node 20 still offers for exactly these modules (process_wrap, pipe_wrap, stream_wrap).
 *
 * Those bindings are not a public API: every shape this module relies on is checked once, and
 * when anything differs `rawSpawnAvailable()` is false and callers use node:child_process as
 * before (slower, never wrong); so it is under --pending-deprecation (Node would print DEP0111).
 * BERTH_NO_RAW_SPAWN=1 forces that fallback (tests use it).
 */

/** 'inherit': the parent's fd of the same number; a number: that fd of the parent. */
type StdioMode = 'pipe' | 'inherit' | 'ignore' | number;

export interface RawSpawnOptions {
  stdio: [StdioMode, StdioMode, StdioMode];
  env?: NodeJS.ProcessEnv;
  /** More of the parent's fds, given to the child as its fds 3, 4, … */
  extraFds?: number[];
}

export interface RawExit { code: number | null; signal: NodeJS.Signals | null }

/** A spawned child. Output of a 'pipe' stdout or stderr arrives as text through `onOutput`. */
export interface RawChild {
  readonly pid: number;
  readonly exited: Promise<RawExit>;
  /** As `exited`, once the child's stdout and stderr pipes (if any) have also reached their end. */
  readonly closed: Promise<RawExit>;
  /** Writes to the child's stdin pipe (synchronously when the pipe takes it, as for short lines). */
  write(text: string): void;
  /** Closes the child's stdin (it reads EOF). */
  closeInput(): void;
  onOutput(listener: (text: string) => void, fd?: 1 | 2): void;
  kill(signal: NodeJS.Signals): boolean;
  /** Whether the child (and its stdout pipe) keep the event loop alive. */
  ref(): void;
  unref(): void;
}

/** The failure of a spawn itself (no such file, …), as node:child_process's 'error' event. */
export class RawSpawnError extends Error {
  constructor(readonly file: string, readonly errno: number, readonly code: string) {
    super(`spawn ${file} ${code}`);
  }
}

interface HandleLike { ref(): void; unref(): void; close(cb?: () => void): void }
interface ProcessHandle extends HandleLike {
  pid: number;
  onexit: (exitCode: number, signalCode: string | null) => void;
  spawn(options: unknown): number;
  kill(signal: number): number;
}
interface PipeHandle extends HandleLike {
  onread: (buffer: ArrayBuffer | undefined) => void;
  readStart(): number;
  readStop(): number;
  writeUtf8String(req: WriteReq, text: string): number;
}
interface WriteReq { handle: unknown; oncomplete: (status: number) => void; async: boolean }

interface Bindings {
  Process: new () => ProcessHandle;
  Pipe: new (type: number) => PipeHandle;
  pipeSocket: number;
  WriteWrap: new () => WriteReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
  signals: Record<string, number>;
  errname: (errno: number) => string;
}

let bindings: Bindings | null | undefined;

/** Node prints DEP0111 for process.binding under --pending-deprecation: berth's output stays clean. */
function pendingDeprecation(): boolean {
  return process.env.NODE_PENDING_DEPRECATION === '1' || [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--pending-deprecation');
}

function loadBindings(): Bindings | null {
  if (process.env.BERTH_NO_RAW_SPAWN === '1' || pendingDeprecation()) return null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const pw = binding('process_wrap') as { Process?: unknown };
    const pipe = binding('pipe_wrap') as { Pipe?: unknown; constants?: { SOCKET?: unknown } };
    const sw = binding('stream_wrap') as Record<string, unknown>;
    const constants = binding('constants') as { os?: { signals?: Record<string, number> } };
    const uv = binding('uv') as { errname?: unknown };
    const ok = typeof pw.Process === 'function' && typeof pipe.Pipe === 'function' && typeof pipe.constants?.SOCKET === 'number'
      && typeof sw.WriteWrap === 'function' && sw.streamBaseState instanceof Int32Array
      && typeof sw.kReadBytesOrError === 'number' && typeof sw.kArrayBufferOffset === 'number' && typeof sw.kLastWriteWasAsync === 'number'
      && typeof constants.os?.signals?.SIGKILL === 'number' && typeof uv.errname === 'function'
      && ['spawn', 'kill'].every((m) => typeof (pw.Process as { prototype: Record<string, unknown> }).prototype[m] === 'function')
      && ['readStart', 'writeUtf8String', 'close', 'ref', 'unref'].every((m) => typeof (pipe.Pipe as { prototype: Record<string, unknown> }).prototype[m] === 'function');
    if (!ok) return null;
    return {
      Process: pw.Process as Bindings['Process'],
      Pipe: pipe.Pipe as Bindings['Pipe'],
      pipeSocket: pipe.constants!.SOCKET as number,
      WriteWrap: sw.WriteWrap as Bindings['WriteWrap'],
      state: sw.streamBaseState as Int32Array,
      kReadBytesOrError: sw.kReadBytesOrError as number,
      kArrayBufferOffset: sw.kArrayBufferOffset as number,
      kLastWriteWasAsync: sw.kLastWriteWasAsync as number,
      signals: constants.os!.signals!,
      errname: uv.errname as (errno: number) => string,
    };
  } catch {
    return null;
  }
}

function getBindings(): Bindings | null {
  if (bindings === undefined) bindings = loadBindings();
  return bindings;
}

export function rawSpawnAvailable(): boolean {
  return getBindings() !== null;
}

function envPairs(env: NodeJS.ProcessEnv): string[] {
  const pairs: string[] = [];
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (value !== undefined) pairs.push(`${key}=${value}`);
  }
  return pairs;
}

/**
 * Spawns `file` (looked up in PATH when it has no slash, as node:child_process does) with the
 * given stdio: 'pipe' for stdin/stdout, the parent's fd ('inherit') or /dev/null ('ignore').
 * Returns undefined when the bindings are unusable (the caller falls back to node:child_process);
 * throws RawSpawnError when the spawn itself fails.
 */
export function rawSpawn(file: string, args: string[], options: RawSpawnOptions): RawChild | undefined {
  const b = getBindings();
  if (!b) return undefined;
  const pipes = options.stdio.map((mode) => (mode === 'pipe' ? new b.Pipe(b.pipeSocket) : undefined));
  const stdio: object[] = options.stdio.map((mode, fd) => {
    if (mode === 'ignore') return { type: 'ignore' };
    if (mode === 'inherit') return { type: 'fd', fd };
    if (typeof mode === 'number') return { type: 'fd', fd: mode };
    return { type: 'pipe', handle: pipes[fd] };
  });
  for (const fd of options.extraFds ?? []) stdio.push({ type: 'fd', fd });
  const handle = new b.Process();
  let resolveExit!: (exit: RawExit) => void;
  const exited = new Promise<RawExit>((resolve) => { resolveExit = resolve; });
  let alive = true;
  handle.onexit = (exitCode, signalCode) => {
    alive = false;
    handle.close();
    resolveExit({ code: signalCode ? null : exitCode, signal: (signalCode || null) as NodeJS.Signals | null });
  };
  const err = handle.spawn({
    file, args: [file, ...args], envPairs: envPairs(options.env ?? process.env), stdio, detached: false, windowsHide: false, windowsVerbatimArguments: false,
  });
  if (err !== 0) {
    handle.close();
    for (const pipe of pipes) pipe?.close();
    throw new RawSpawnError(file, err, b.errname(err));
  }
  return new RawChildImpl(b, handle, exited, () => alive, pipes[0], pipes[1], pipes[2]);
}

/** One readable pipe of the child: text to its listeners, closed at EOF. */
class OutputPipe {
  readonly listeners: ((text: string) => void)[] = [];
  private readonly decoder = new TextDecoder();
  open = true;
  private ended!: () => void;
  readonly done = new Promise<void>((resolve) => { this.ended = resolve; });

  constructor(private readonly b: Bindings, readonly handle: PipeHandle) {
    handle.onread = (buffer) => this.onRead(buffer);
    handle.readStart();
  }

  private onRead(buffer: ArrayBuffer | undefined): void {
    const nread = this.b.state[this.b.kReadBytesOrError];
    if (nread > 0 && buffer) {
      const text = this.decoder.decode(new Uint8Array(buffer, this.b.state[this.b.kArrayBufferOffset], nread), { stream: true });
      for (const listener of this.listeners) listener(text);
      return;
    }
    if (nread < 0) {
      // EOF or a read error: the pipe is done.
      this.open = false;
      this.handle.close();
      this.ended();
    }
  }
}

class RawChildImpl implements RawChild {
  private readonly pendingWrites = new Set<WriteReq>();
  private readonly outputs: (OutputPipe | undefined)[];
  private inputOpen: boolean;
  private closeWhenWritten = false;
  readonly closed: Promise<RawExit>;

  constructor(private readonly b: Bindings, private readonly handle: ProcessHandle, readonly exited: Promise<RawExit>,
    private readonly alive: () => boolean, private readonly stdin?: PipeHandle, stdout?: PipeHandle, stderr?: PipeHandle) {
    this.inputOpen = stdin !== undefined;
    this.outputs = [undefined, stdout && new OutputPipe(b, stdout), stderr && new OutputPipe(b, stderr)];
    const ends = this.outputs.flatMap((o) => (o ? [o.done] : []));
    this.closed = Promise.all([exited, ...ends]).then(([exit]) => exit);
  }

  get pid(): number {
    return this.handle.pid;
  }

  write(text: string): void {
    if (!this.stdin || !this.inputOpen) return;
    const req = new this.b.WriteWrap();
    req.handle = this.stdin;
    req.async = false;
    req.oncomplete = () => {
      this.pendingWrites.delete(req);
      if (this.closeWhenWritten && this.pendingWrites.size === 0) this.stdin!.close();
    };
    const err = this.stdin.writeUtf8String(req, text);
    // An asynchronous write keeps its request until oncomplete; a failed one (EPIPE: the child is
    // gone) is reported through the child's exit, as with node:child_process.
    if (err === 0 && this.b.state[this.b.kLastWriteWasAsync]) this.pendingWrites.add(req);
  }

  closeInput(): void {
    if (!this.stdin || !this.inputOpen) return;
    this.inputOpen = false;
    // a write libuv still holds (more than the pipe took at once) finishes first
    if (this.pendingWrites.size > 0) this.closeWhenWritten = true;
    else this.stdin.close();
  }

  onOutput(listener: (text: string) => void, fd: 1 | 2 = 1): void {
    this.outputs[fd]?.listeners.push(listener);
  }

  kill(signal: NodeJS.Signals): boolean {
    const number = this.b.signals[signal];
    if (number === undefined || !this.alive()) return false;
    return this.handle.kill(number) === 0;
  }

  ref(): void {
    if (this.alive()) this.handle.ref();
    for (const out of this.outputs) if (out?.open) out.handle.ref();
  }

  unref(): void {
    if (this.alive()) this.handle.unref();
    for (const out of this.outputs) if (out?.open) out.handle.unref();
  }
}
