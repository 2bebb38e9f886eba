/**
 * Container networking: the runtime calls setupContainerNetwork before the container starts and
 * teardownContainerNetwork when it is removed. Bridge networks go through netavark; every step is
 * recorded in the runroot first, so a failure or a crash can be undone completely.
 */
import fs from 'node:fs/promises';
import { NetworkError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { setupBridge } from './bridge.js';
import { netnsPathFor, createNetns, isMounted } from './netns.js';
import { plainResult, sharedResult } from './results.js';
import { listNetworkStates, readNetworkState, writeNetworkState, type ContainerNetworkState } from './state.js';
import { teardownContainerNetwork } from './teardown.js';
import type { ContainerNetworkRequest, ContainerNetworkResult } from './types.js';

export { parsePublish, formatPortMapping, type PortMapping, type PortProtocol } from './publish.js';
export { parseNetworkOption, DEFAULT_NETWORK_NAME, type NetworkMode, type NetworkAttachment } from './mode.js';
export {
  createNetwork, getNetwork, requireNetwork, listNetworks, removeNetwork, defaultNetwork,
  type NetworkConfig, type CreateNetworkOptions, type RemoveNetworkOptions,
} from './config.js';
export { listLeases } from './ipam.js';
export { hostsEntries, hostsFile, resolvConf, parseAddHost, readHostResolv } from './hosts.js';
export { withFileLock, writeJsonAtomic, readJson } from './files.js';
export { netnsPathFor } from './netns.js';
export { teardownContainerNetwork } from './teardown.js';
export type { ContainerNetworkState } from './state.js';
export { networkStateExists } from './state.js';

/**
 * --network=none without a namespace file: the runtime lets crun give the container a fresh
 * network namespace (crun brings its loopback up) that ends with the container. No netns to
 * create and unmount, no state to record: two child processes and two synced writes less on
 * `berth run`'s start. (A pod's infra still uses setupContainerNetwork: members join it by path.)
 */
export function privateNoneResult(req: ContainerNetworkRequest): ContainerNetworkResult {
  return plainResult(req, undefined, {});
}
export type { ContainerNetworkRequest, ContainerNetworkResult, NetworkAttachmentResult } from './types.js';

export async function setupContainerNetwork(paths: StoragePaths, req: ContainerNetworkRequest): Promise<ContainerNetworkResult> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(req.containerId)) {
    throw new NetworkError('bad-container-id', `invalid container ID "${req.containerId}"`, { context: { container: req.containerId } });
  }
  const previous = await readNetworkState(paths, req.containerId);
  if (previous?.phase === 'ready' && previous.result && (!previous.netnsPath || !previous.ownsNetns || (await isMounted(previous.netnsPath)))) {
    return previous.result as ContainerNetworkResult;
  }
  if (previous) await teardownContainerNetwork(paths, req.containerId);

  const mode = req.mode;
  switch (mode.kind) {
    case 'host':
      return plainResult(req, undefined, { hostNetwork: true });
    case 'ns': {
      const exists = await fs.stat(mode.path).then(() => true, () => false);
      if (!exists) throw new NetworkError('netns-not-found', `network namespace ${mode.path} does not exist`, { context: { file: mode.path } });
      const owner = (await listNetworkStates(paths)).find((s) => s.netnsPath === mode.path && s.phase === 'ready' && s.result);
      return owner ? sharedResult(req, owner.result as ContainerNetworkResult) : plainResult(req, mode.path, {});
    }
    case 'container':
      throw new NetworkError('unresolved-container-network', `--network container:${mode.container} must be resolved to that container's namespace (ns:PATH) by the runtime`, { context: { container: mode.container } });
    case 'none':
      return setupNone(paths, req);
    case 'bridge':
      if (paths.rootless) {
        throw new NetworkError('rootless-bridge', `network "${mode.networks[0].name}": bridge networks need root (rootless networking with pasta is not supported yet); use --network none or host`, { context: { network: mode.networks[0].name } });
      }
      return setupBridge(paths, req, mode.networks);
  }
}

async function setupNone(paths: StoragePaths, req: ContainerNetworkRequest): Promise<ContainerNetworkResult> {
  const netnsPath = netnsPathFor(paths, req.containerId);
  const state: ContainerNetworkState = {
    containerId: req.containerId, containerName: req.containerName, kind: 'none', netnsPath, ownsNetns: true, networks: [], ports: [], phase: 'setting-up',
  };
  await writeNetworkState(paths, state);
  try {
    await createNetns(netnsPath);
    const result = plainResult(req, netnsPath, {});
    await writeNetworkState(paths, { ...state, phase: 'ready', result });
    return result;
  } catch (error) {
    await teardownContainerNetwork(paths, req.containerId).catch(() => undefined);
    throw error;
  }
}

/** The recorded network of a container (for `berth port`, `ps`, `inspect`), if set up. */
export async function getContainerNetwork(paths: StoragePaths, containerId: string): Promise<ContainerNetworkResult | undefined> {
  const state = await readNetworkState(paths, containerId);
  return state?.phase === 'ready' ? (state.result as ContainerNetworkResult) : undefined;
}

/** IDs of containers whose network is set up on `network` (running ones; the runtime knows stopped ones). */
export async function containersOnNetwork(paths: StoragePaths, network: string): Promise<string[]> {
  return (await listNetworkStates(paths)).filter((s) => s.networks.includes(network)).map((s) => s.containerId);
}
