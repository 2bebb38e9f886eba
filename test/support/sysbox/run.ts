/**
 * Running a host command for the harness: collects output, feeds stdin, enforces a timeout and
 * turns a non-zero exit into an error that carries the whole result.
 */
import { spawn } from 'node:child_process';

export interface ExecResult { stdout: string; stderr: string; exitCode: number }

export class CommandError extends Error {
  readonly result: ExecResult;
  readonly argv: string[];
  constructor(argv: string[], result: ExecResult, what = `exit status ${result.exitCode}`) {
    super(`${argv.join(' ')}: ${what}\n--- stdout ---\n${result.stdout}--- stderr ---\n${result.stderr}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.result = result;
  }
}

export interface RunOptions { input?: string; check?: boolean; timeoutMs?: number; label?: string[]; /** stream stdout/stderr to ours instead of collecting */ inheritOutput?: boolean }

export function runCommand(argv: string[], options: RunOptions = {}): Promise<ExecResult> {
  const label = options.label ?? argv;
  return new Promise((resolve, reject) => {
    // stdin is /dev/null unless there is input: bash reads ~/.bashrc when its stdin is a socket
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [options.input === undefined ? 'ignore' : 'pipe', options.inheritOutput ? 'inherit' : 'pipe', options.inheritOutput ? 'inherit' : 'pipe'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, options.timeoutMs ?? 120_000);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: code ?? 128 + 9 };
      if (timedOut) reject(new CommandError(label, result, `timed out after ${options.timeoutMs ?? 120_000} ms`));
      else if (signal && code === null) reject(new CommandError(label, result, `killed by ${signal}`));
      else if (options.check !== false && result.exitCode !== 0) reject(new CommandError(label, result));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on('error', () => { /* the command may exit before reading its input */ });
      child.stdin.end(options.input);
    }
  });
}

/** Sleep without yielding to the event loop (for the synchronous 'exit' clean-up). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
