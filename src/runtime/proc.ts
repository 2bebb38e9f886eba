/**
 * Run a short helper (crun, mount, systemd-notify) and collect its output. node:child_process
 * directly: the engine's start path is latency-bound and execa's module graph costs more to load
 * than these calls take.
 */
import { spawn } from 'node:child_process';

export interface ProcResult { exitCode: number; stdout: string; stderr: string; error?: Error }

/** `input`, when given, is written to the helper's stdin (else stdin is /dev/null). */
export function runProc(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<ProcResult> {
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
