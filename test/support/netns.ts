/**
 * Runs a test file inside its own network + mount namespace, never the host's.
 *
 *   if (await insideTestNetns(import.meta.url)) { test(...); ... }
 *
 * In the test runner's process this registers ONE test that re-runs the same file under
 * `unshare --net --mount` and passes when every test inside passed (their output is shown on
 * failure). Inside, it brings `lo` up, refuses to continue if the namespace is still the host's,
 * and returns true so the real tests are defined.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const MARK = 'BERTH_TEST_NETNS';

export async function insideTestNetns(moduleUrl: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  const file = fileURLToPath(moduleUrl);
  if (process.env[MARK] === file) {
    const mine = fs.readlinkSync('/proc/self/ns/net');
    if (!process.env.BERTH_TEST_HOST_NETNS || process.env.BERTH_TEST_HOST_NETNS === mine) {
      throw new Error(`refusing to run network tests in the host's network namespace (${mine})`);
    }
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    return true;
  }
  test(`${path.basename(file)} (inside a private network namespace)`, { timeout: options.timeoutMs ?? 170_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, [MARK]: file, BERTH_TEST_HOST_NETNS: fs.readlinkSync('/proc/self/ns/net') };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, '--test-reporter=spec', file], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = output.match(/ℹ (tests|pass|fail) \d+/g)?.join(', ') ?? '';
    assert.equal(code, 0, `tests inside the namespace failed (${summary}):\n${output}`);
    assert.match(output, /ℹ fail 0/, output);
  });
  return false;
}

/** A fresh storage root + runroot under /var/tmp, removed by cleanup(). */
export function tempStorage(prefix: string): { root: string; runroot: string; rootless: false; dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join('/var/tmp', `berth-${prefix}-`));
  return {
    dir,
    root: path.join(dir, 'root'),
    runroot: path.join(dir, 'run'),
    rootless: false,
    cleanup: () => {
      // Namespaces bind-mounted under the directory (left by a failed test) go first.
      const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(`${dir}/`));
      for (const mount of mounts.reverse()) execFileSync('umount', ['-l', mount]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Output of a command (throws with stderr on failure). */
export function sh(command: string): string {
  return execFileSync('bash', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every iptables rule of this namespace (nat + filter), one per line. */
export function firewallRules(): string {
  return sh('iptables-save 2>/dev/null | grep -E "^-A" || true');
}

export function interfaces(): string[] {
  return sh('ip -o link show').split('\n').filter(Boolean).map((l) => l.split(': ')[1].split('@')[0]);
}

/** busybox httpd serving `dir` on `port` inside the namespace at `netnsPath`; returns a stop function. */
export async function startHttpd(netnsPath: string, dir: string, port = 80): Promise<() => Promise<void>> {
  const child = spawn('nsenter', [`--net=${netnsPath}`, 'busybox', 'httpd', '-f', '-p', String(port), '-h', dir], { stdio: 'ignore' });
  // Wait until it listens.
  for (let i = 0; i < 100; i++) {
    const listening = execFileSync('nsenter', [`--net=${netnsPath}`, 'ss', '-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    if (listening.trim()) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  };
}

/** curl in this namespace (or another one): body, or undefined when it fails. */
export function curl(url: string, options: { netns?: string; timeoutSec?: number } = {}): string | undefined {
  const prefix = options.netns ? ['nsenter', `--net=${options.netns}`] : [];
  try {
    return execFileSync(prefix[0] ?? 'curl', [...prefix.slice(1), ...(prefix.length ? ['curl'] : []), '-sS', '--max-time', String(options.timeoutSec ?? 3), url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}
