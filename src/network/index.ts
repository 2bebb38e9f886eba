/**
 * Container networking: the runtime calls setupContainerNetwork before the container starts and
 * teardownContainerNetwork when it is removed. Bridge networks go through netavark; every step is
 * recorded in the runroot first, so a failure or a crash can be undone completely.
 */
import fs from 'node:fs/promises';
import { BerthError, NetworkError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { requireNetwork, type NetworkConfig } from './config.js';
import { hostsEntries, hostsFile, readHostResolv, resolvConf, withoutLoopback } from './hosts.js';
import { allocateAddresses, ipamLock, releaseAddresses } from './ipam.js';
import type { NetworkMode } from './mode.js';
import { buildNetavarkInput, netavarkSetup, netavarkTeardown, type NetavarkStatus } from './netavark.js';
import { createNetns, isMounted, netnsPathFor, removeNetns } from './netns.js';
import { reserveHostPorts } from './ports.js';
import type { PortMapping } from './publish.js';
import { loadNetworkSettings } from './settings.js';
import { listNetworkStates, readNetworkState, removeNetworkState, writeNetworkState, type ContainerNetworkState } from './state.js';

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
export type { ContainerNetworkState } from './state.js';

export interface ContainerNetworkRequest {
  containerId: string;
  containerName: string;
  mode: NetworkMode;
  ports: PortMapping[];
  hostname: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  addHosts?: string[];
}

export interface NetworkAttachmentResult { network: string; interfaceName: string; ips: string[]; gateways: string[]; macAddress?: string }

export interface ContainerNetworkResult {
  /** The namespace to join; undefined = the host's (network "host"). */
  netnsPath?: string;
  ips: string[];
  gateways: string[];
  dnsServers: string[];
  hostsEntries: string[];
  /** Ports with random host ports filled in. */
  ports: PortMapping[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** Ready-made file contents for /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvConf: string;
  attachments: NetworkAttachmentResult[];
}

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

function plainResult(req: ContainerNetworkRequest, netnsPath: string | undefined, opts: { hostNetwork?: boolean }): ContainerNetworkResult {
  const host = readHostResolv();
  const servers = req.dns?.length ? req.dns : opts.hostNetwork ? host.nameservers : withoutLoopback(host.nameservers);
  const search = req.dnsSearch?.length ? req.dnsSearch : host.search;
  const options = req.dnsOptions?.length ? req.dnsOptions : host.options;
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips: [], addHosts: req.addHosts, hostNetwork: opts.hostNetwork });
  return {
    netnsPath,
    ips: [],
    gateways: [],
    dnsServers: servers,
    dnsSearch: search,
    dnsOptions: options,
    hostsEntries: entries,
    hostsFile: hostsFile(entries),
    resolvConf: resolvConf({ nameservers: servers, search, options }),
    ports: [],
    attachments: [],
  };
}

/** Joining a namespace berth set up (a pod's, another container's): its addresses and resolvers. */
function sharedResult(req: ContainerNetworkRequest, owner: ContainerNetworkResult): ContainerNetworkResult {
  const servers = owner.dnsServers.length > 0 && !req.dns?.length ? owner.dnsServers : req.dns ?? [];
  const search = req.dnsSearch?.length ? req.dnsSearch : owner.dnsSearch;
  const options = req.dnsOptions?.length ? req.dnsOptions : owner.dnsOptions;
  const hostGateway = owner.gateways.find((g) => !g.includes(':')) ?? owner.gateways[0];
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips: owner.ips, addHosts: req.addHosts, hostGateway });
  return {
    ...owner,
    dnsServers: servers, dnsSearch: search, dnsOptions: options,
    hostsEntries: entries, hostsFile: hostsFile(entries), resolvConf: resolvConf({ nameservers: servers, search, options }),
  };
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

async function setupBridge(paths: StoragePaths, req: ContainerNetworkRequest, wanted: Extract<NetworkMode, { kind: 'bridge' }>['networks']): Promise<ContainerNetworkResult> {
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

function bridgeResult(req: ContainerNetworkRequest, netnsPath: string, networks: NetworkConfig[], state: ContainerNetworkState, status: NetavarkStatus): ContainerNetworkResult {
  const attachments: NetworkAttachmentResult[] = [];
  const aardvark: string[] = [];
  const aardvarkSearch: string[] = [];
  for (const network of networks) {
    const block = status[network.name] ?? {};
    const per = state.netavark!.networks[network.name];
    const iface = block.interfaces?.[per.interface_name];
    const subnets = iface?.subnets ?? [];
    attachments.push({
      network: network.name,
      interfaceName: per.interface_name,
      ips: subnets.length > 0 ? subnets.map((s) => s.ipnet.split('/')[0]) : per.static_ips,
      gateways: subnets.map((s) => s.gateway).filter((g): g is string => !!g),
      macAddress: iface?.mac_address,
    });
    if (network.dns_enabled) {
      aardvark.push(...(block.dns_server_ips ?? []));
      aardvarkSearch.push(...(block.dns_search_domains ?? []));
    }
  }
  const ips = attachments.flatMap((a) => a.ips);
  const gateways = [...new Set(attachments.flatMap((a) => a.gateways))];
  const host = readHostResolv();
  let servers: string[];
  // On a DNS-enabled network aardvark-dns answers, forwarding to --dns servers (given to netavark).
  if (aardvark.length > 0) servers = [...new Set(aardvark)];
  else if (req.dns?.length) servers = req.dns;
  else servers = withoutLoopback(host.nameservers);
  const search = req.dnsSearch?.length ? req.dnsSearch : [...new Set([...aardvarkSearch, ...host.search])];
  const options = req.dnsOptions?.length ? req.dnsOptions : host.options;
  const hostGateway = gateways.find((g) => !g.includes(':')) ?? gateways[0];
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips, addHosts: req.addHosts, hostGateway });
  return {
    netnsPath, ips, gateways, dnsServers: servers, dnsSearch: search, dnsOptions: options,
    hostsEntries: entries, hostsFile: hostsFile(entries), resolvConf: resolvConf({ nameservers: servers, search, options }),
    ports: state.ports, attachments,
  };
}

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

/** The recorded network of a container (for `berth port`, `ps`, `inspect`), if set up. */
export async function getContainerNetwork(paths: StoragePaths, containerId: string): Promise<ContainerNetworkResult | undefined> {
  const state = await readNetworkState(paths, containerId);
  return state?.phase === 'ready' ? (state.result as ContainerNetworkResult) : undefined;
}

/** IDs of containers whose network is set up on `network` (running ones; the runtime knows stopped ones). */
export async function containersOnNetwork(paths: StoragePaths, network: string): Promise<string[]> {
  return (await listNetworkStates(paths)).filter((s) => s.networks.includes(network)).map((s) => s.containerId);
}
