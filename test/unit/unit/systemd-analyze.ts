/**
 * Ask the installed systemd how it reads a unit: `systemd-analyze verify` prints the first word
 * of an ExecStart= line (after unquoting, unescaping and specifier expansion) in its complaint
 * that the command does not exist. No systemd instance runs; nothing outside a temp dir is touched.
 * Many probes go through one systemd-analyze run (one unit file each) to keep the tests fast.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Probe {
  execStart: string;
  /** Unit file name (must be unique within one call); default p<index>.service. */
  unitName?: string;
}

export interface AnalyzeOptions {
  user?: boolean;
  env?: Record<string, string>;
}

export interface ProbeResult {
  /** The executable path systemd derived, or undefined when systemd refused the line (`output` says why). */
  path: string | undefined;
  fragment: string;
  runtimeDir: string;
  output: string;
}

/** Each call works in its own mkdtemp directory under /var/tmp and removes it. */
const SCRATCH = '/var/tmp';

export function systemdExecPaths(probes: Probe[], options: AnalyzeOptions = {}): ProbeResult[] {
  const dir = mkdtempSync(path.join(SCRATCH, 'berth-unit-analyze-'));
  try {
    const runtimeDir = path.join(dir, 'runtime');
    mkdirSync(runtimeDir, { mode: 0o700 });
    const units = probes.map((probe, index) => {
      const unitName = probe.unitName ?? `p${index}.service`;
      const fragment = path.join(dir, unitName);
      writeFileSync(fragment, `[Service]\nExecStart=${probe.execStart}\n`);
      return { unitName, fragment };
    });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', XDG_RUNTIME_DIR: runtimeDir, ...options.env };
    const args = [...(options.user ? ['--user'] : []), 'verify', '--man=no', ...units.map((unit) => unit.fragment)];
    const output = '\n' + analyze(args, env);
    return units.map(({ unitName, fragment }) => ({ path: findPath(output, unitName, fragment), fragment, runtimeDir, output }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The path in "FILE:2: Executable name contains special characters: P\nUNIT: ..." or "UNIT: Command P is not executable: ". */
function findPath(output: string, unitName: string, fragment: string): string | undefined {
  const special = `\n${fragment}:2: Executable name contains special characters: `;
  let start = output.indexOf(special);
  if (start >= 0) {
    start += special.length;
    const end = output.indexOf(`\n${unitName}: Unit configuration has fatal error`, start);
    return end < 0 ? undefined : output.slice(start, end);
  }
  const command = `\n${unitName}: Command `;
  start = output.indexOf(command);
  if (start < 0) return undefined;
  start += command.length;
  const end = output.indexOf(' is not executable: ', start);
  return end < 0 ? undefined : output.slice(start, end);
}

/** Lazily run one batch of probes, shared by several tests. */
export function probeOnce(probes: Probe[], options: AnalyzeOptions = {}): () => ProbeResult[] {
  let results: ProbeResult[] | undefined;
  return () => (results ??= systemdExecPaths(probes, options));
}

/** The keys systemd-analyze reports as unknown, in order, as "Section/Key" (systemd reads [Unit], [Service], [Install]). */
export function systemdUnknownKeys(text: string): string[] {
  const dir = mkdtempSync(path.join(SCRATCH, 'berth-unit-keys-'));
  try {
    const fragment = path.join(dir, 'keys.service');
    writeFileSync(fragment, text);
    const output = analyze(['verify', '--man=no', fragment], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    return [...output.matchAll(/Unknown key '([^']*)' in section \[([^\]]*)\]/g)].map((match) => `${match[2]}/${match[1]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** systemd-analyze's stdout and stderr together (it reports on stderr, with exit status 0 or 1). */
function analyze(args: string[], env: Record<string, string>): string {
  const result = spawnSync('systemd-analyze', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw result.error;
  return `${result.stdout}${result.stderr}`;
}
