/**
 * The subnets of a new network: the user's (checked for overlap with other networks and the
 * host's routes, gateways and IP ranges inside them) or the first free one from the pools.
 */
import { randomBytes } from 'node:crypto';
import { NetworkError, UsageError } from '../errors/index.js';
import {
  canonicalAddress, formatAddress, formatSubnet, lastAddress, parseAddress, parseSubnet, subnetContains, subnetsOverlap,
  type Subnet,
} from './cidr.js';
import type { CreateNetworkOptions, NetworkConfig, NetworkSubnet } from './config.js';
import { readHostRoutes } from './host-interfaces.js';
import type { NetworkSettings } from './settings.js';

export function buildSubnets(name: string, opts: CreateNetworkOptions, existing: NetworkConfig[], settings: NetworkSettings): NetworkSubnet[] {
  const taken = existing.flatMap((n) => n.subnets.map((s) => ({ network: n.name, subnet: parseSubnet(s.subnet, { loose: true })! })));
  const hostRoutes = readHostRoutes(existing);
  const gateways = opts.gateways ?? [];
  const ranges = opts.ipRanges ?? [];
  if (gateways.length > (opts.subnets?.length ?? 0)) throw usage('--gateway needs a --subnet for each gateway', name);
  if (ranges.length > (opts.subnets?.length ?? 0)) throw usage('--ip-range needs a --subnet for each range', name);

  const result: NetworkSubnet[] = [];
  const chosen: Subnet[] = [];
  for (const [index, text] of (opts.subnets ?? []).entries()) {
    const subnet = parseSubnet(text);
    if (!subnet) throw usage(`--subnet "${text}" is not a subnet in CIDR form with host bits zero (e.g. 10.91.5.0/24)`, name);
    if (subnet.prefix > (subnet.family === 4 ? 30 : 126)) throw usage(`--subnet ${text} is too small for a gateway and a container`, name);
    const other = taken.find((t) => subnetsOverlap(t.subnet, subnet));
    if (other) throw new NetworkError('subnet-overlap', `subnet ${text} overlaps subnet ${formatSubnet(other.subnet)} of network "${other.network}"`, { context: { network: name, subnet: text } });
    const route = hostRoutes.find((r) => subnetsOverlap(r.subnet, subnet));
    if (route) throw new NetworkError('subnet-overlap', `subnet ${text} overlaps ${formatSubnet(route.subnet)}, already routed on the host via ${route.iface}`, { context: { network: name, subnet: text } });
    const mine = chosen.find((c) => subnetsOverlap(c, subnet));
    if (mine) throw usage(`--subnet ${text} overlaps --subnet ${formatSubnet(mine)}`, name);
    chosen.push(subnet);
    const entry: NetworkSubnet = { subnet: formatSubnet(subnet) };
    const gateway = gateways[index];
    if (gateway !== undefined) {
      const gw = parseAddress(gateway);
      if (!gw || !subnetContains(subnet, gw.family, gw.value)) throw usage(`--gateway ${gateway} is not inside subnet ${text}`, name);
      if (gw.value === subnet.base || (subnet.family === 4 && gw.value === lastAddress(subnet))) throw usage(`--gateway ${gateway} is the network or broadcast address of ${text}`, name);
      entry.gateway = canonicalAddress(gateway);
    } else {
      entry.gateway = formatAddress(subnet.family, subnet.base + 1n);
    }
    if (ranges[index] !== undefined) entry.lease_range = parseLeaseRange(ranges[index], subnet, name);
    result.push(entry);
  }

  if (result.length === 0) {
    const free = pickFreeSubnet(settings, [...taken.map((t) => t.subnet), ...hostRoutes.map((r) => r.subnet)]);
    if (!free) throw new NetworkError('no-free-subnet', 'no free subnet left in default_subnet_pools; give --subnet', { context: { network: name } });
    result.push({ subnet: formatSubnet(free), gateway: formatAddress(4, free.base + 1n) });
  }
  if (opts.ipv6 && !result.some((s) => parseSubnet(s.subnet)!.family === 6)) {
    const used = taken.map((t) => t.subnet);
    // A unique-local /64 derived from random bits; retry on the (unlikely) clash.
    for (let attempt = 0; attempt < 16; attempt++) {
      const bytes = randomBytes(5);
      const base = (0xfdn << 120n) | (BigInt(`0x${bytes.toString('hex')}`) << 80n);
      const candidate: Subnet = { family: 6, base, prefix: 64 };
      if (!used.some((u) => subnetsOverlap(u, candidate))) {
        result.push({ subnet: formatSubnet(candidate), gateway: formatAddress(6, base + 1n) });
        break;
      }
    }
  }
  return result;
}

function parseLeaseRange(text: string, subnet: Subnet, name: string): { start_ip: string; end_ip: string } {
  let start: bigint;
  let end: bigint;
  const asSubnet = parseSubnet(text, { loose: true });
  if (asSubnet) {
    if (asSubnet.family !== subnet.family) throw usage(`--ip-range ${text} is not in the family of its subnet`, name);
    start = asSubnet.base;
    end = lastAddress(asSubnet);
  } else {
    const [a, b] = text.split('-').map((p) => parseAddress(p.trim()));
    if (!a || !b || a.family !== subnet.family || b.family !== subnet.family) throw usage(`--ip-range "${text}" is neither a CIDR nor START-END`, name);
    start = a.value;
    end = b.value;
  }
  // Keep the network and broadcast addresses out of the range.
  if (start === subnet.base) start += 1n;
  if (subnet.family === 4 && end === lastAddress(subnet)) end -= 1n;
  if (!subnetContains(subnet, subnet.family, start) || !subnetContains(subnet, subnet.family, end) || end < start) {
    throw usage(`--ip-range ${text} is not inside subnet ${formatSubnet(subnet)}`, name);
  }
  return { start_ip: formatAddress(subnet.family, start), end_ip: formatAddress(subnet.family, end) };
}

function pickFreeSubnet(settings: NetworkSettings, used: Subnet[]): Subnet | undefined {
  for (const pool of settings.defaultSubnetPools) {
    const base = parseSubnet(pool.base, { loose: true })!;
    const step = 1n << BigInt(32 - pool.size);
    for (let value = base.base; value <= lastAddress(base); value += step) {
      const candidate: Subnet = { family: 4, base: value, prefix: pool.size };
      if (!used.some((u) => subnetsOverlap(u, candidate))) return candidate;
    }
  }
  return undefined;
}

function usage(message: string, network: string): UsageError {
  return new UsageError('invalid-network', message, { context: { network } });
}
