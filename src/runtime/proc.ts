/**
 * Run a short helper (crun, mount, systemd-notify) and collect its output. node:child_process
 * directly: the engine's start path is latency-bound and execa's module graph costs more to load
 * than these calls take.
 */
import { spawn } from 'node:child_process';

export interface ProcResult { exitCode: number; stdout: string; stderr: string; error?: Error }

export function runProc(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs });
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (error) => resolve({ exitCode: 127, stdout, stderr: stderr || error.message, error }));
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
