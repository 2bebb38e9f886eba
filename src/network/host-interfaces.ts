/**
 * What this network namespace already has: interface names and IPv4 routes (read from /proc, which
 * follows the caller's namespace; /sys may show another one's).
 */
import fsSync from 'node:fs';
import type { Subnet } from './cidr.js';
import type { NetworkConfig } from './config.js';

/** IPv4 routes of this network namespace, except those of berth's own bridges. */
export function readHostRoutes(existing: NetworkConfig[]): { iface: string; subnet: Subnet }[] {
  const own = new Set(existing.filter((n) => n.driver === 'bridge').map((n) => n.network_interface));
  let text = '';
  try {
    text = fsSync.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const routes: { iface: string; subnet: Subnet }[] = [];
  for (const line of text.trim().split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || own.has(iface) || destination === '00000000') continue;
    const dest = littleEndianHex(destination);
    const maskValue = littleEndianHex(mask);
    const prefix = maskValue.toString(2).replace(/0+$/, '').length;
    if (prefix === 0) continue;
    routes.push({ iface, subnet: { family: 4, base: dest, prefix } });
  }
  return routes;
}

/** Interfaces of this process's network namespace (/sys may show another one's). */
export function localInterfaces(): string[] {
  try {
    return fsSync.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);
  } catch {
    return [];
  }
}

function littleEndianHex(hex: string): bigint {
  const bytes = hex.match(/../g)!.reverse().join('');
  return BigInt(`0x${bytes}`);
}
