/**
 * Engine-wide network settings, read from berth.toml's [network] table (Podman's containers.conf
 * key names): default_subnet, default_subnet_pools, netavark_binary, aardvark_binary.
 * File: $BERTH_CONFIG, else /etc/berth/berth.toml (rootful) or $XDG_CONFIG_HOME/berth/berth.toml.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { NetworkError } from '../errors/index.js';
import { parseSubnet } from './cidr.js';

export interface SubnetPool { base: string; size: number }
export interface NetworkSettings {
  defaultSubnet: string;
  defaultSubnetPools: SubnetPool[];
  netavarkBinary: string;
  aardvarkBinary: string;
}

const NETAVARK_CANDIDATES = ['/usr/libexec/podman/netavark', '/usr/lib/podman/netavark', '/usr/local/libexec/podman/netavark'];
const AARDVARK_CANDIDATES = ['/usr/libexec/podman/aardvark-dns', '/usr/lib/podman/aardvark-dns', '/usr/local/libexec/podman/aardvark-dns'];

export const BUILTIN_SETTINGS: Omit<NetworkSettings, 'netavarkBinary' | 'aardvarkBinary'> = {
  // Not Podman's 10.88.0.0/16, so both can run on one host.
  defaultSubnet: '10.90.0.0/16',
  defaultSubnetPools: [{ base: '10.91.0.0/16', size: 24 }, { base: '10.92.0.0/16', size: 24 }],
};

export function settingsFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_CONFIG) return env.BERTH_CONFIG;
  if (process.getuid?.() === 0) return '/etc/berth/berth.toml';
  const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME ?? os.homedir(), '.config');
  return path.join(configHome, 'berth', 'berth.toml');
}

export function loadNetworkSettings(env: NodeJS.ProcessEnv = process.env): NetworkSettings {
  const file = settingsFile(env);
  let table: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      table = (parseToml(text).network ?? {}) as Record<string, unknown>;
    } catch (error) {
      throw new NetworkError('bad-config', `${file}: ${(error as Error).message}`, { context: { file }, cause: error });
    }
  }
  const bad = (key: string, why: string): never => {
    throw new NetworkError('bad-config', `${file}: [network] ${key}: ${why}`, { context: { file, key } });
  };
  const defaultSubnet = table.default_subnet ?? BUILTIN_SETTINGS.defaultSubnet;
  if (typeof defaultSubnet !== 'string' || !parseSubnet(defaultSubnet)) bad('default_subnet', 'expected a subnet like "10.90.0.0/16"');
  let pools = BUILTIN_SETTINGS.defaultSubnetPools;
  if (table.default_subnet_pools !== undefined) {
    if (!Array.isArray(table.default_subnet_pools)) bad('default_subnet_pools', 'expected an array of {base, size}');
    pools = (table.default_subnet_pools as unknown[]).map((p) => {
      const pool = p as { base?: unknown; size?: unknown };
      const subnet = typeof pool.base === 'string' ? parseSubnet(pool.base) : undefined;
      if (!subnet || typeof pool.size !== 'number' || pool.size < subnet.prefix || pool.size > 30) {
        bad('default_subnet_pools', `bad pool ${JSON.stringify(p)}`);
      }
      return { base: pool.base as string, size: pool.size as number };
    });
  }
  const binary = (key: string, envName: string, candidates: string[]): string => {
    const configured = env[envName] ?? table[key];
    if (configured !== undefined) {
      if (typeof configured !== 'string') bad(key, 'expected a path');
      return configured as string;
    }
    return candidates.find((c) => fs.existsSync(c)) ?? candidates[1];
  };
  return {
    defaultSubnet: defaultSubnet as string,
    defaultSubnetPools: pools,
    netavarkBinary: binary('netavark_binary', 'BERTH_NETAVARK', NETAVARK_CANDIDATES),
    aardvarkBinary: binary('aardvark_binary', 'BERTH_AARDVARK', AARDVARK_CANDIDATES),
  };
}
