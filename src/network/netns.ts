/**
 * Persistent network namespaces: a fresh namespace bind-mounted on a file under
 * <runroot>/netns, so it outlives the process that made it (as `ip netns add` does).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runProc } from '../runtime/proc.js';
import { NetworkError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';

export function netnsPathFor(paths: StoragePaths, containerId: string): string {
  return path.join(paths.runroot, 'netns', `netns-${containerId}`);
}

/** Creates the namespace (loopback up) at `file`. Undoes itself on failure. */
export async function createNetns(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  // A leftover file that is not a mount (a crash between touch and mount) is just removed.
  if (await isMounted(file)) throw new NetworkError('netns-exists', `network namespace ${file} already exists`, { context: { file } });
  await fs.rm(file, { force: true });
  await fs.writeFile(file, '', { flag: 'wx', mode: 0o444 });
  // unshare(1) bind-mounts the new namespace on the file; `ip link set lo up` runs inside it.
  // (runProc, not execa: this is on every `berth run`'s start path, see runtime/proc.ts.)
  const result = await runProc('unshare', [`--net=${file}`, 'ip', 'link', 'set', 'lo', 'up']);
  if (result.exitCode !== 0) {
    await removeNetns(file).catch(() => undefined);
    const reason = result.stderr.trim() || result.error?.message || `unshare exited with code ${result.exitCode}`;
    throw new NetworkError('netns-create', `cannot create network namespace ${file}: ${reason}`, { context: { file }, cause: result.error });
  }
}

/** Unmounts and deletes the namespace file; nothing to do when it is already gone. */
export async function removeNetns(file: string): Promise<void> {
  if (await isMounted(file)) {
    const result = await runProc('umount', [file]);
    if (result.exitCode !== 0 && (await isMounted(file))) {
      const lazy = await runProc('umount', ['-l', file]);
      if (lazy.exitCode !== 0) {
        throw new NetworkError('netns-remove', `cannot unmount network namespace ${file}: ${lazy.stderr.trim()}`, { context: { file } });
      }
    }
  }
  await fs.rm(file, { force: true });
}

export async function isMounted(file: string): Promise<boolean> {
  const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const escaped = file.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === escaped);
}
