/**
 * IP address management: one lease file per network under <root>/networks/ipam/NAME.json,
 * changed only under a file lock. An address is never leased twice; a container's leases are
 * freed at teardown (by container ID, so a crash that lost the runroot state still frees them).
 * Allocation continues after the last address handed out, so a freed address is not reused
 * at once (stale ARP/conntrack entries point at it for a while).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetworkError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { formatAddress, lastAddress, parseAddress, parseSubnet, subnetContains, type Subnet } from './cidr.js';
import type { NetworkConfig, NetworkSubnet } from './config.js';
import { readJson, withFileLock, writeJsonAtomic } from './files.js';

export interface Lease { containerId: string; allocatedAt: string }
interface LeaseFile {
  network: string;
  leases: Record<string, Lease>;
  /** Per subnet: the last address handed out. */
  last: Record<string, string>;
}

export function ipamDir(paths: StoragePaths): string {
  return path.join(paths.root, 'networks', 'ipam');
}

function leaseFile(paths: StoragePaths, network: string): string {
  return path.join(ipamDir(paths), `${network}.json`);
}

/** The lock every allocation, release and port reservation holds. */
export function ipamLock<T>(paths: StoragePaths, fn: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(ipamDir(paths), '.lock'), fn);
}

async function load(paths: StoragePaths, network: string): Promise<LeaseFile> {
  return (await readJson<LeaseFile>(leaseFile(paths, network))) ?? { network, leases: {}, last: {} };
}

/**
 * One address per subnet of the network for the container (static ones where given).
 * Caller holds ipamLock. Idempotent: a container that already holds leases gets them back.
 */
export async function allocateAddresses(paths: StoragePaths, network: NetworkConfig, containerId: string, staticIps: string[] = []): Promise<string[]> {
  const file = await load(paths, network.name);
  const held = Object.entries(file.leases).filter(([, l]) => l.containerId === containerId).map(([ip]) => ip);
  if (held.length > 0) return held;

  const subnets = network.subnets.map((s) => ({ entry: s, subnet: parseSubnet(s.subnet, { loose: true })! }));
  const wanted = staticIps.map((ip) => {
    const parsed = parseAddress(ip);
    const home = parsed && subnets.find((s) => subnetContains(s.subnet, parsed.family, parsed.value));
    if (!parsed || !home) {
      throw new NetworkError('ip-not-in-network', `requested IP ${ip} is not in any subnet of network "${network.name}" (${network.subnets.map((s) => s.subnet).join(', ')})`, { context: { network: network.name, ip } });
    }
    return { ip: formatAddress(parsed.family, parsed.value), value: parsed.value, home };
  });

  const result: string[] = [];
  const now = new Date().toISOString();
  for (const { entry, subnet } of subnets) {
    const fixed = wanted.filter((w) => w.home.entry === entry);
    if (fixed.length > 1) throw new NetworkError('ip-conflict', `two requested IPs in subnet ${entry.subnet}`, { context: { network: network.name } });
    let ip: string;
    if (fixed.length === 1) {
      ip = fixed[0].ip;
      const reason = reservedReason(entry, subnet, fixed[0].value);
      if (reason) throw new NetworkError('ip-reserved', `requested IP ${ip} is ${reason} of network "${network.name}"`, { context: { network: network.name, ip } });
      const holder = file.leases[ip];
      if (holder) throw new NetworkError('ip-in-use', `requested IP ${ip} on network "${network.name}" is already used by container ${holder.containerId.slice(0, 12)}`, { context: { network: network.name, ip } });
    } else {
      ip = nextFree(file, entry, subnet, network.name);
      file.last[entry.subnet] = ip;
    }
    file.leases[ip] = { containerId, allocatedAt: now };
    result.push(ip);
  }
  await writeJsonAtomic(leaseFile(paths, network.name), file);
  return result;
}

function reservedReason(entry: NetworkSubnet, subnet: Subnet, value: bigint): string | undefined {
  if (value === subnet.base) return 'the network address';
  if (subnet.family === 4 && value === lastAddress(subnet)) return 'the broadcast address';
  if (entry.gateway && parseAddress(entry.gateway)?.value === value) return 'the gateway';
  return undefined;
}

function nextFree(file: LeaseFile, entry: NetworkSubnet, subnet: Subnet, network: string): string {
  let start = subnet.base + 1n;
  let end = subnet.family === 4 ? lastAddress(subnet) - 1n : lastAddress(subnet);
  if (entry.lease_range?.start_ip) start = parseAddress(entry.lease_range.start_ip)!.value;
  if (entry.lease_range?.end_ip) end = parseAddress(entry.lease_range.end_ip)!.value;
  const last = file.last[entry.subnet] ? parseAddress(file.last[entry.subnet])!.value : start - 1n;
  const size = end - start + 1n;
  // Bounded walk: at most the whole range once, but never more than 1M steps (huge IPv6 ranges).
  const limit = size < 1_000_000n ? size : 1_000_000n;
  let candidate = last + 1n;
  for (let i = 0n; i < limit; i++, candidate++) {
    if (candidate > end || candidate < start) candidate = start;
    if (reservedReason(entry, subnet, candidate)) continue;
    const ip = formatAddress(subnet.family, candidate);
    if (!file.leases[ip]) return ip;
  }
  throw new NetworkError('subnet-full', `no free IP address left in subnet ${entry.subnet} of network "${network}"`, { context: { network, subnet: entry.subnet } });
}

/** Frees every lease of the container (in one network, or all). Caller holds ipamLock. */
export async function releaseAddresses(paths: StoragePaths, containerId: string, network?: string): Promise<string[]> {
  let names: string[];
  if (network) {
    names = [network];
  } else {
    try {
      names = (await fs.readdir(ipamDir(paths))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
  const freed: string[] = [];
  for (const name of names) {
    const file = await load(paths, name);
    const mine = Object.keys(file.leases).filter((ip) => file.leases[ip].containerId === containerId);
    if (mine.length === 0) continue;
    for (const ip of mine) delete file.leases[ip];
    await writeJsonAtomic(leaseFile(paths, name), file);
    freed.push(...mine);
  }
  return freed;
}

/** All leases of a network: IP -> lease. */
export async function listLeases(paths: StoragePaths, network: string): Promise<Record<string, Lease>> {
  return (await load(paths, network)).leases;
}
