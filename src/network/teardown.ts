/** Undoing a container's network from what was recorded, also after a crash. */
import fs from 'node:fs/promises';
import type { StoragePaths } from '../paths/index.js';
import { releaseAddresses, ipamLock } from './ipam.js';
import { netavarkTeardown } from './netavark.js';
import { createNetns, isMounted, removeNetns } from './netns.js';
import { loadNetworkSettings } from './settings.js';
import { readNetworkState, removeNetworkState } from './state.js';

/**
 * Undoes setup from the state on disk: netavark teardown (rules, veth, aardvark entry), the
 * namespace, the leases. Idempotent; after a crash it finishes whatever was half done.
 * Problems that leave nothing behind are printed as warnings rather than failing the removal.
 */
export async function teardownContainerNetwork(paths: StoragePaths, containerId: string): Promise<void> {
  const state = await readNetworkState(paths, containerId);
  const problems: string[] = [];
  if (state?.kind === 'bridge' && state.netavark && state.netnsPath) {
    // Without its namespace (lost in a crash) netavark still removes the host side, given an empty one.
    let temporary = false;
    let present = await isMounted(state.netnsPath);
    if (!present && state.phase === 'ready') {
      await fs.rm(state.netnsPath, { force: true });
      await createNetns(state.netnsPath).then(() => { present = temporary = true; }, (error: Error) => problems.push(error.message));
    }
    if (present) {
      try {
        await netavarkTeardown(paths, loadNetworkSettings(), state.netnsPath, state.netavark);
      } catch (error) {
        // A setup that failed half way makes teardown complain about what never existed.
        if (state.phase === 'ready' && !temporary) problems.push((error as Error).message);
      }
    }
  }
  if (state?.ownsNetns && state.netnsPath) {
    await removeNetns(state.netnsPath).catch((error: Error) => problems.push(error.message));
  }
  await ipamLock(paths, async () => {
    await releaseAddresses(paths, containerId);
    await removeNetworkState(paths, containerId);
  });
  for (const problem of problems) process.stderr.write(`Warning: network teardown of ${state?.containerName ?? containerId}: ${problem}\n`);
}
