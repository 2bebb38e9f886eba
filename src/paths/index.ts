/**
 * Where berth keeps its state. Rootful: /var/lib/berth and /run/berth. Rootless:
 * $XDG_DATA_HOME/berth and $XDG_RUNTIME_DIR/berth. The global flags --root/--runroot override.
 */
import os from 'node:os';
import path from 'node:path';

export interface StoragePaths {
  /** Persistent storage: images, layers, volumes, container upper dirs. */
  root: string;
  /** Volatile state, wiped at reboot: running containers, locks, mounts. */
  runroot: string;
  rootless: boolean;
}

export function isRootless(): boolean {
  return typeof process.getuid === 'function' && process.getuid() !== 0;
}

export function defaultStoragePaths(env: NodeJS.ProcessEnv = process.env): StoragePaths {
  const rootless = isRootless();
  if (!rootless) return { root: '/var/lib/berth', runroot: '/run/berth', rootless };
  const home = env.HOME ?? os.homedir();
  const dataHome = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  const uid = process.getuid?.() ?? 0;
  const runtimeDir = env.XDG_RUNTIME_DIR || path.join(os.tmpdir(), `berth-run-${uid}`);
  return { root: path.join(dataHome, 'berth'), runroot: path.join(runtimeDir, 'berth'), rootless };
}

export function resolveStoragePaths(flags: { root?: string; runroot?: string }, env: NodeJS.ProcessEnv = process.env): StoragePaths {
  const d = defaultStoragePaths(env);
  return {
    root: flags.root ? path.resolve(flags.root) : d.root,
    runroot: flags.runroot ? path.resolve(flags.runroot) : d.runroot,
    rootless: d.rootless,
  };
}
