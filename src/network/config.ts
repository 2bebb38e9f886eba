/**
 * Network definitions: one JSON file per network under <root>/networks/NAME.json, in netavark's
 * network format (plus labels and created). The default network "berth" is synthesized from the
 * settings unless a file overrides it, as Podman does for "podman".
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetworkError, UsageError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { canonicalAddress, formatAddress, formatSubnet, parseAddress, parseSubnet } from './cidr.js';
import { localInterfaces } from './host-interfaces.js';
import { buildSubnets } from './subnets.js';
import { readJson, withFileLock, writeJsonAtomic } from './files.js';
import { DEFAULT_NETWORK_NAME, NETWORK_NAME_PATTERN } from './mode.js';
import { loadNetworkSettings, type NetworkSettings } from './settings.js';

export interface NetworkSubnet {
  subnet: string;
  gateway?: string;
  lease_range?: { start_ip?: string; end_ip?: string };
}

export interface NetworkConfig {
  name: string;
  id: string;
  driver: 'bridge' | 'macvlan' | 'ipvlan';
  network_interface: string;
  created: string;
  subnets: NetworkSubnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam_options: Record<string, string>;
  /** Upstream servers aardvark-dns asks for this network (`--dns`). */
  network_dns_servers?: string[];
}

export interface CreateNetworkOptions {
  name?: string;
  driver?: string;
  subnets?: string[];
  gateways?: string[];
  ipRanges?: string[];
  internal?: boolean;
  disableDns?: boolean;
  ipv6?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  interfaceName?: string;
  ignoreIfExists?: boolean;
  /** host-local (default) or none (no addresses at all). */
  ipamDriver?: string;
  dnsServers?: string[];
}

const DRIVER_OPTIONS: Record<string, string[]> = {
  bridge: ['mtu', 'vlan', 'isolate', 'metric', 'com.docker.network.bridge.name', 'com.docker.network.driver.mtu'],
  macvlan: ['parent', 'mode', 'mtu', 'metric'],
  ipvlan: ['parent', 'mode', 'mtu', 'metric'],
};

export function networksDir(paths: StoragePaths): string {
  return path.join(paths.root, 'networks');
}

function networkFile(paths: StoragePaths, name: string): string {
  return path.join(networksDir(paths), `${name}.json`);
}

function lockFile(paths: StoragePaths): string {
  return path.join(networksDir(paths), '.config.lock');
}

export function networkIdFor(name: string): string {
  return createHash('sha256').update(`berth-network:${name}`).digest('hex');
}

export function defaultNetwork(settings: NetworkSettings = loadNetworkSettings()): NetworkConfig {
  const subnet = parseSubnet(settings.defaultSubnet)!;
  return {
    name: DEFAULT_NETWORK_NAME,
    id: networkIdFor(DEFAULT_NETWORK_NAME),
    driver: 'bridge',
    network_interface: 'berth0',
    created: new Date(0).toISOString(),
    subnets: [{ subnet: formatSubnet(subnet), gateway: formatAddress(subnet.family, subnet.base + 1n) }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    labels: {},
    options: {},
    ipam_options: { driver: 'host-local' },
  };
}

export async function getNetwork(paths: StoragePaths, nameOrId: string): Promise<NetworkConfig | undefined> {
  if (NETWORK_NAME_PATTERN.test(nameOrId)) {
    const stored = await readJson<NetworkConfig>(networkFile(paths, nameOrId));
    if (stored) return stored;
    if (nameOrId === DEFAULT_NETWORK_NAME) return defaultNetwork();
  }
  if (/^[0-9a-f]{3,64}$/.test(nameOrId)) {
    const matches = (await listNetworks(paths)).filter((n) => n.id.startsWith(nameOrId));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new NetworkError('ambiguous-network', `network ID prefix "${nameOrId}" matches ${matches.length} networks`, { context: { network: nameOrId } });
  }
  return undefined;
}

export async function requireNetwork(paths: StoragePaths, nameOrId: string): Promise<NetworkConfig> {
  const network = await getNetwork(paths, nameOrId);
  if (!network) throw new NetworkError('network-not-found', `network "${nameOrId}" not found`, { context: { network: nameOrId }, exitCode: 125 });
  return network;
}

export async function listNetworks(paths: StoragePaths): Promise<NetworkConfig[]> {
  let files: string[] = [];
  try {
    files = (await fs.readdir(networksDir(paths))).filter((f) => f.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const networks: NetworkConfig[] = [];
  for (const file of files.sort()) {
    const network = await readJson<NetworkConfig>(path.join(networksDir(paths), file));
    if (network) networks.push(network);
  }
  if (!networks.some((n) => n.name === DEFAULT_NETWORK_NAME)) networks.unshift(defaultNetwork());
  return networks;
}

export async function createNetwork(paths: StoragePaths, opts: CreateNetworkOptions): Promise<NetworkConfig> {
  const settings = loadNetworkSettings();
  return withFileLock(lockFile(paths), async () => {
    const existing = await listNetworks(paths);
    const name = opts.name ?? nextFreeName(existing);
    if (!NETWORK_NAME_PATTERN.test(name)) throw usage(`invalid network name "${name}": use letters, digits, "_", "." and "-"`, name);
    const clash = existing.find((n) => n.name === name);
    if (clash && (opts.ignoreIfExists)) return clash;
    if (clash) throw new NetworkError('network-exists', `network "${name}" already exists`, { context: { network: name } });

    const driver = opts.driver ?? 'bridge';
    if (!(driver in DRIVER_OPTIONS)) throw usage(`unsupported network driver "${driver}" (bridge, macvlan, ipvlan)`, name);
    const options = { ...(opts.options ?? {}) };
    for (const key of Object.keys(options)) {
      if (!DRIVER_OPTIONS[driver].includes(key)) throw usage(`unknown ${driver} option "${key}" (${DRIVER_OPTIONS[driver].join(', ')})`, name);
    }
    if (options.mtu !== undefined && !/^\d+$/.test(options.mtu)) throw usage(`option mtu=${options.mtu} is not a number`, name);

    const ipamDriver = opts.ipamDriver ?? 'host-local';
    if (ipamDriver !== 'host-local' && ipamDriver !== 'none') throw usage(`unsupported IPAM driver "${ipamDriver}" (host-local, none)`, name);
    if (ipamDriver === 'none' && (opts.subnets?.length || opts.gateways?.length || opts.ipRanges?.length)) throw usage('--ipam-driver none takes no --subnet, --gateway or --ip-range', name);
    for (const server of opts.dnsServers ?? []) if (!parseAddress(server)) throw usage(`--dns "${server}" is not an IP address`, name);
    const subnets = ipamDriver === 'none' ? [] : buildSubnets(name, opts, existing, settings);
    const ipv6 = subnets.some((s) => parseSubnet(s.subnet)!.family === 6);
    let iface: string;
    if (driver === 'bridge') {
      iface = opts.interfaceName ?? options['com.docker.network.bridge.name'] ?? nextFreeInterface(existing);
      delete options['com.docker.network.bridge.name'];
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(iface)) throw usage(`invalid interface name "${iface}"`, name);
      const owner = existing.find((n) => n.network_interface === iface);
      if (owner) throw new NetworkError('interface-in-use', `interface "${iface}" is already used by network "${owner.name}"`, { context: { network: name } });
    } else {
      iface = options.parent ?? '';
      delete options.parent;
      if (iface && !localInterfaces().includes(iface)) {
        throw new NetworkError('no-parent-interface', `parent interface "${iface}" for ${driver} network "${name}" does not exist`, { context: { network: name } });
      }
    }

    const config: NetworkConfig = {
      name,
      id: name === DEFAULT_NETWORK_NAME ? networkIdFor(name) : randomBytes(32).toString('hex'),
      driver: driver as NetworkConfig['driver'],
      network_interface: iface,
      created: new Date().toISOString(),
      subnets,
      ipv6_enabled: ipv6,
      internal: opts.internal ?? false,
      dns_enabled: driver === 'bridge' && !opts.disableDns,
      labels: opts.labels ?? {},
      options,
      ipam_options: { driver: ipamDriver },
    };
    if (opts.dnsServers?.length) config.network_dns_servers = opts.dnsServers.map((s) => canonicalAddress(s)!);
    await writeJsonAtomic(networkFile(paths, name), config);
    return config;
  });
}

function nextFreeName(existing: NetworkConfig[]): string {
  const names = new Set(existing.map((n) => n.name));
  for (let i = 1; ; i++) if (!names.has(`berth${i}`)) return `berth${i}`;
}

function nextFreeInterface(existing: NetworkConfig[]): string {
  const used = new Set(existing.map((n) => n.network_interface));
  for (let i = 1; ; i++) if (!used.has(`berth${i}`)) return `berth${i}`;
}

export interface RemoveNetworkOptions {
  force?: boolean;
  /** IDs of containers using the network (RUNTIME knows stopped ones too). */
  usedBy?: (network: NetworkConfig) => Promise<string[]>;
  /** With force: remove those containers first. */
  removeContainers?: (containerIds: string[]) => Promise<void>;
}

export async function removeNetwork(paths: StoragePaths, nameOrId: string, opts: RemoveNetworkOptions = {}): Promise<NetworkConfig> {
  const network = await requireNetwork(paths, nameOrId);
  if (network.name === DEFAULT_NETWORK_NAME) {
    throw new NetworkError('default-network', `the default network "${DEFAULT_NETWORK_NAME}" cannot be removed`, { context: { network: network.name } });
  }
  const users = opts.usedBy ? await opts.usedBy(network) : [];
  if (users.length > 0) {
    if (!opts.force) {
      throw new NetworkError('network-in-use', `network "${network.name}" is in use by ${users.length} container(s): ${users.map((u) => u.slice(0, 12)).join(', ')} (use -f to remove them too)`, { context: { network: network.name } });
    }
    await opts.removeContainers?.(users);
  }
  await withFileLock(lockFile(paths), async () => {
    await fs.rm(networkFile(paths, network.name), { force: true });
  });
  return network;
}

function usage(message: string, network: string): UsageError {
  return new UsageError('invalid-network', message, { context: { network } });
}
