/**
 * Run a short helper (crun, mount, systemd-notify) and collect its output. node:child_process
 * directly: the engine's start path is latency-bound and execa's module graph costs more to load
 * than these calls take.
 */
import { spawn } from 'node:child_process';
import { rawSpawn, RawSpawnError, type RawChild } from '../process/raw-spawn.js';

export interface ProcResult { exitCode: number; stdout: string; stderr: string; error?: Error }

export interface ProcOptions { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string }

/** `input`, when given, is written to the helper's stdin (else stdin is /dev/null). */
export function runProc(command: string, args: string[], options: ProcOptions = {}): Promise<ProcResult> {
  return runRaw(command, args, options) ?? runWithChildProcess(command, args, options);
}

/**
 * Through src/process/raw-spawn.ts (no node:child_process, node:net, node:stream to load: most of
 * what a `crun kill` or `systemd-notify` costs a one-shot berth); undefined where it cannot run.
 */
function runRaw(command: string, args: string[], options: ProcOptions): Promise<ProcResult> | undefined {
  let child: RawChild | undefined;
  try {
    child = rawSpawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  } catch (error) {
    if (!(error instanceof RawSpawnError)) throw error;
    // as node:child_process reports it: "spawn NAME ENOENT", with code, errno, path
    const spawnError = Object.assign(new Error(`spawn ${command} ${error.code}`), { code: error.code, errno: error.errno, syscall: `spawn ${command}`, path: command });
    return Promise.resolve({ exitCode: 127, stdout: '', stderr: spawnError.message, error: spawnError });
  }
  if (!child) return undefined;
  const running = child;
  let stdout = '';
  let stderr = '';
  running.onOutput((t) => { stdout += t; }, 1);
  running.onOutput((t) => { stderr += t; }, 2);
  if (options.input !== undefined) {
    running.write(options.input);
    running.closeInput();
  }
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => running.kill('SIGTERM'), options.timeoutMs);
  return running.closed.then(({ code, signal }) => {
    if (timer) clearTimeout(timer);
    return { exitCode: code ?? (signal ? 128 : 1), stdout, stderr };
  });
}

function runWithChildProcess(command: string, args: string[], options: ProcOptions): Promise<ProcResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const stdin = options.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: [stdin, 'pipe', 'pipe'], timeout: options.timeoutMs });
    if (child.stdin) {
      // A helper that exits without reading all of it (EPIPE) reports through its exit code.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (error) => resolve({ exitCode: 127, stdout, stderr: stderr || error.message, error }));
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
