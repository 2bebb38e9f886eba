/**
 * The two small Python helpers berth ships beside its sources (console-relay.py for `exec -t`,
 * log-writer.py for background containers' log files; each says why it is Python). They run
 * with Debian's python3 (package python3), not whatever `python3` a user's PATH finds first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoragePaths } from '../paths/index.js';

export const PYTHON = process.env.BERTH_PYTHON || '/usr/bin/python3';

/** berth's own entry point, for the processes that run berth again (monitor cleanup, health checks). */
export function berthBin(): string {
  return fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));
}

/** dist/src/runtime/ and dist/bundle/cli/ are both three levels below the checkout. */
export function helperScript(name: 'console-relay.py' | 'log-writer.py'): string {
  return fileURLToPath(new URL(`../../../src/runtime/${name}`, import.meta.url));
}

/**
 * The size of berth's own terminal (stdout, else stderr), for the OCI process's consoleSize: crun
 * sizes the pty before the process starts, so its first `stty size` never sees 0 rows (the
 * relay only copies the size after it has received the pty master, which can be later).
 */
export function terminalSize(): { height: number; width: number } | undefined {
  for (const stream of [process.stdout, process.stderr]) {
    if (!stream.isTTY) continue;
    const [width, height] = stream.getWindowSize();
    if (width > 0 && height > 0) return { height, width };
  }
  return undefined;
}

/**
 * argv for PYTHON running console-relay.py around `command(socket)` (a crun call given
 * --console-socket=socket), and the private folder holding the socket, for the caller to remove.
 * The folder is short on purpose: a unix socket path has at most 107 bytes.
 */
export function consoleRelay(paths: StoragePaths, withStdin: boolean, command: (socket: string) => string[]): { args: string[]; dir: string } {
  fs.mkdirSync(path.join(paths.runroot, 'exec'), { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(paths.runroot, 'exec', 'x'));
  const socket = path.join(dir, 'sock');
  return { args: ['-I', '-S', helperScript('console-relay.py'), socket, ...(withStdin ? ['--stdin'] : []), '--', ...command(socket)], dir };
}
