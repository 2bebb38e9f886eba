/**
 * IPv4/IPv6 addresses and subnets as BigInts: parsing, formatting, containment and overlap.
 * Small on purpose: IPAM and network creation need only these operations.
 */
import net from 'node:net';

export interface Subnet {
  family: 4 | 6;
  /** Network address (host bits cleared). */
  base: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const family = net.isIP(text);
  if (family === 4) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (family === 6) return { family: 6, value: parseIpv6(text) };
  return undefined;
}

function parseIpv6(text: string): bigint {
  let body = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = body.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = parseAddress(v4[1])!.value;
    body = body.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = body.includes('::') ? body.split('::') : [body, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text);
  return parsed && formatAddress(parsed.family, parsed.value);
}

/** Parses "10.0.0.0/24"; host bits must be zero unless `loose` (then they are cleared). */
export function parseSubnet(text: string, options: { loose?: boolean } = {}): Subnet | undefined {
  const match = text.match(/^([^/]+)\/(\d{1,3})$/);
  if (!match) return undefined;
  const address = parseAddress(match[1]);
  if (!address) return undefined;
  const prefix = Number(match[2]);
  if (prefix > BITS[address.family]) return undefined;
  const mask = subnetMask(address.family, prefix);
  const base = address.value & mask;
  if (base !== address.value && !options.loose) return undefined;
  return { family: address.family, base, prefix };
}

function subnetMask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.family, subnet.base)}/${subnet.prefix}`;
}

export function subnetSize(subnet: Subnet): bigint {
  return 1n << BigInt(BITS[subnet.family] - subnet.prefix);
}

export function lastAddress(subnet: Subnet): bigint {
  return subnet.base + subnetSize(subnet) - 1n;
}

export function subnetContains(subnet: Subnet, family: 4 | 6, value: bigint): boolean {
  return subnet.family === family && value >= subnet.base && value <= lastAddress(subnet);
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  return a.family === b.family && a.base <= lastAddress(b) && b.base <= lastAddress(a);
}
