/**
 * Where berth keeps its state. Rootful: /var/lib/berth and /run/berth. Rootless:
 * $XDG_DATA_HOME/berth and $XDG_RUNTIME_DIR/berth. The global flags --root/--runroot override.
 */
import os from 'node:os';
import path from 'node:path';

export { describeHostRanges, describeRanges, isMapped, parseIdMap, parseSubordinateIds, rootlessRanges, toHost, type IdMapping, type IdRange } from './idmap.js';

export interface StoragePaths {
  /** Persistent storage: images, layers, volumes, container upper dirs. */
  root: string;
  /** Volatile state, wiped at reboot: running containers, locks, mounts. */
  runroot: string;
  rootless: boolean;
  /**
   * Rootless and running inside berth's user namespace (uid 0 there, the user's subordinate ids
   * mapped): layer owners can be set, overlay can be mounted. See src/runtime/userns.ts.
   */
  userns?: boolean;
}

/** Set by the rootless re-exec to the user's real uid (Podman: _CONTAINERS_ROOTLESS_UID). */
export const ROOTLESS_UID_ENV = 'BERTH_ROOTLESS_UID';

/** Inside berth's user namespace: uid 0 there, but the storage is the user's. */
export function inRootlessUserNamespace(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[ROOTLESS_UID_ENV]) && process.getuid?.() === 0;
}

export function isRootless(env: NodeJS.ProcessEnv = process.env): boolean {
  return (typeof process.getuid === 'function' && process.getuid() !== 0) || inRootlessUserNamespace(env);
}

export function defaultStoragePaths(env: NodeJS.ProcessEnv = process.env): StoragePaths {
  const rootless = isRootless(env);
  if (!rootless) return { root: '/var/lib/berth', runroot: '/run/berth', rootless };
  const home = env.HOME ?? os.homedir();
  const dataHome = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  const uid = Number(env[ROOTLESS_UID_ENV]) || (process.getuid?.() ?? 0);
  const runtimeDir = env.XDG_RUNTIME_DIR || path.join(os.tmpdir(), `berth-run-${uid}`);
  return { root: path.join(dataHome, 'berth'), runroot: path.join(runtimeDir, 'berth'), rootless, userns: inRootlessUserNamespace(env) };
}

export function resolveStoragePaths(flags: { root?: string; runroot?: string }, env: NodeJS.ProcessEnv = process.env): StoragePaths {
  const d = defaultStoragePaths(env);
  return {
    root: flags.root ? path.resolve(flags.root) : d.root,
    runroot: flags.runroot ? path.resolve(flags.runroot) : d.runroot,
    rootless: d.rootless,
    ...(d.userns ? { userns: true } : {}),
  };
}
