/**
 * A container on bridge networks: host ports and addresses reserved and the plan recorded (under
 * the IPAM lock), then the namespace made and netavark run. Any failure undoes all of it.
 */
import { BerthError, NetworkError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { requireNetwork, type NetworkConfig } from './config.js';
import { allocateAddresses, ipamLock } from './ipam.js';
import type { NetworkMode } from './mode.js';
import { buildNetavarkInput, netavarkSetup } from './netavark.js';
import { createNetns, netnsPathFor } from './netns.js';
import { reserveHostPorts } from './ports.js';
import { bridgeResult } from './results.js';
import { loadNetworkSettings } from './settings.js';
import { listNetworkStates, writeNetworkState, type ContainerNetworkState } from './state.js';
import { teardownContainerNetwork } from './teardown.js';
import type { ContainerNetworkRequest, ContainerNetworkResult } from './types.js';

export async function setupBridge(paths: StoragePaths, req: ContainerNetworkRequest, wanted: Extract<NetworkMode, { kind: 'bridge' }>['networks']): Promise<ContainerNetworkResult> {
  const settings = loadNetworkSettings();
  const networks: NetworkConfig[] = [];
  for (const attachment of wanted) networks.push(await requireNetwork(paths, attachment.name));
  const netnsPath = netnsPathFor(paths, req.containerId);
  const shortId = req.containerId.slice(0, 12);

  try {
    const state = await ipamLock(paths, async () => {
      const claims = (await listNetworkStates(paths)).filter((s) => s.containerId !== req.containerId);
      const ports = await reserveHostPorts(req.ports, claims);
      const attachments = [];
      for (const [index, attachment] of wanted.entries()) {
        const network = networks[index];
        const ips = await allocateAddresses(paths, network, req.containerId, attachment.staticIps);
        const aliases = [...new Set([...attachment.aliases, shortId])];
        attachments.push({ network, interfaceName: attachment.interfaceName ?? `eth${index}`, ips, aliases, staticMac: attachment.staticMac });
      }
      const upstream = req.dns?.filter((s) => !s.startsWith('127.'));
      const input = buildNetavarkInput({ containerId: req.containerId, containerName: req.containerName, hostname: req.hostname, attachments, ports, dnsServers: upstream });
      const recorded: ContainerNetworkState = {
        containerId: req.containerId, containerName: req.containerName, kind: 'bridge', netnsPath, ownsNetns: true,
        netavark: input, networks: networks.map((n) => n.name), ports, phase: 'setting-up',
      };
      await writeNetworkState(paths, recorded);
      return recorded;
    });

    await createNetns(netnsPath);
    const status = await netavarkSetup(paths, settings, netnsPath, state.netavark!);
    const result = bridgeResult(req, netnsPath, networks, state, status);
    await writeNetworkState(paths, { ...state, phase: 'ready', result });
    return result;
  } catch (error) {
    await teardownContainerNetwork(paths, req.containerId).catch(() => undefined);
    if (error instanceof BerthError) throw error;
    throw new NetworkError('setup-failed', `network setup for container ${req.containerName} failed: ${(error as Error).message}`, { context: { container: req.containerName }, cause: error });
  }
}
