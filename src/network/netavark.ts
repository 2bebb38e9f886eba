/**
 * Drives netavark (1.4 schema): builds the JSON it reads on stdin, runs `setup`/`teardown`
 * against a namespace path, parses its status JSON. Netavark itself does no IPAM: addresses come
 * as static_ips from ./ipam.ts. With dns_enabled networks it starts aardvark-dns, whose config
 * lives under <runroot>/networks/netavark/aardvark-dns.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetworkError } from '../errors/index.js';
import { runProc } from '../runtime/proc.js';
import type { StoragePaths } from '../paths/index.js';
import type { NetworkConfig } from './config.js';
import type { PortMapping } from './publish.js';
import { withFileLock } from './files.js';
import type { NetworkSettings } from './settings.js';

export interface NetavarkPerNetwork {
  interface_name: string;
  static_ips: string[];
  aliases: string[];
  static_mac?: string;
}

export interface NetavarkInput {
  container_id: string;
  container_name: string;
  container_hostname?: string;
  networks: Record<string, NetavarkPerNetwork>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings: { host_ip: string; container_port: number; host_port: number; range: number; protocol: string }[];
  dns_servers?: string[];
}

/** The fields of a network netavark reads (berth's extras, labels and created, stay out). */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: string;
  network_interface: string;
  subnets: NetworkConfig['subnets'];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  options: Record<string, string>;
  ipam_options: Record<string, string>;
  network_dns_servers?: string[];
}

export interface NetavarkStatus {
  [network: string]: {
    dns_search_domains?: string[];
    dns_server_ips?: string[];
    interfaces?: Record<string, { mac_address: string; subnets?: { gateway?: string; ipnet: string }[] }>;
  };
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fsSync.existsSync(p));

export function netavarkConfigDir(paths: StoragePaths): string {
  return path.join(paths.runroot, 'networks', 'netavark');
}

export function toNetavarkNetwork(n: NetworkConfig): NetavarkNetwork {
  return {
    name: n.name,
    id: n.id,
    driver: n.driver,
    network_interface: n.network_interface,
    subnets: n.subnets,
    ipv6_enabled: n.ipv6_enabled,
    internal: n.internal,
    dns_enabled: n.dns_enabled,
    options: n.options,
    ipam_options: n.ipam_options,
    ...(n.network_dns_servers?.length ? { network_dns_servers: n.network_dns_servers } : {}),
  };
}

export function buildNetavarkInput(args: {
  containerId: string;
  containerName: string;
  hostname?: string;
  attachments: { network: NetworkConfig; interfaceName: string; ips: string[]; aliases: string[]; staticMac?: string }[];
  ports: PortMapping[];
  dnsServers?: string[];
}): NetavarkInput {
  const input: NetavarkInput = {
    container_id: args.containerId,
    container_name: args.containerName,
    networks: {},
    network_info: {},
    port_mappings: args.ports.map((p) => ({
      host_ip: p.hostIp,
      container_port: p.containerPort,
      host_port: p.hostPort,
      range: p.range,
      protocol: p.protocol,
    })),
  };
  if (args.hostname) input.container_hostname = args.hostname;
  if (args.dnsServers && args.dnsServers.length > 0) input.dns_servers = args.dnsServers;
  for (const a of args.attachments) {
    const per: NetavarkPerNetwork = { interface_name: a.interfaceName, static_ips: a.ips, aliases: a.network.dns_enabled ? a.aliases : [] };
    if (a.staticMac) per.static_mac = a.staticMac;
    input.networks[a.network.name] = per;
    input.network_info[a.network.name] = toNetavarkNetwork(a.network);
  }
  return input;
}

async function runNetavark(paths: StoragePaths, settings: NetworkSettings, command: 'setup' | 'teardown', netnsPath: string, input: NetavarkInput): Promise<string> {
  const configDir = netavarkConfigDir(paths);
  await fs.mkdir(path.join(configDir, 'aardvark-dns'), { recursive: true });
  // One netavark at a time per runroot: concurrent setups would race creating the same bridge.
  return withFileLock(path.join(configDir, '.berth.lock'), async () => {
    // If berth is killed mid-call, netavark dies with it (setpriv --pdeathsig) instead of racing the
    // teardown the next berth does from the recorded state.
    const argv = [settings.netavarkBinary, '--config', configDir, '--aardvark-binary', settings.aardvarkBinary, command, netnsPath];
    const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
    // node:child_process directly (runProc), not execa: this is on every `berth run -p`'s start
    // path and loading execa's module graph costs more than the call itself.
    // aardvark-dns, started by netavark, must not hold our pipes open (runProc waits for them).
    const result = await runProc(file, args, {
      input: JSON.stringify(input),
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
      timeoutMs: 60_000,
    });
    if (result.error) {
      throw new NetworkError('netavark-missing', `cannot run ${settings.netavarkBinary}: ${result.error.message}`, { cause: result.error });
    }
    if (result.exitCode !== 0) {
      throw new NetworkError(`netavark-${command}`, `netavark ${command} failed for container ${input.container_name}: ${netavarkMessage(result.stdout, result.stderr)}`, {
        context: { container: input.container_name },
      });
    }
    return result.stdout;
  });
}

function netavarkMessage(stdout: string, stderr: string): string {
  for (const text of [stdout, stderr]) {
    const line = text.split('\n').find((l) => l.trim().startsWith('{"error"'));
    if (line) {
      try {
        return (JSON.parse(line) as { error: string }).error;
      } catch {
        return line;
      }
    }
  }
  return (stderr.split('\n').filter((l) => l.trim() && !l.includes('failed to connect to syslog')).join('; ') || stdout).trim() || 'no output';
}

export async function netavarkSetup(paths: StoragePaths, settings: NetworkSettings, netnsPath: string, input: NetavarkInput): Promise<NetavarkStatus> {
  const stdout = await runNetavark(paths, settings, 'setup', netnsPath, input);
  try {
    return JSON.parse(stdout) as NetavarkStatus;
  } catch (error) {
    throw new NetworkError('netavark-output', `netavark setup printed no status JSON: ${stdout.slice(0, 200)}`, { cause: error });
  }
}

export async function netavarkTeardown(paths: StoragePaths, settings: NetworkSettings, netnsPath: string, input: NetavarkInput): Promise<void> {
  await runNetavark(paths, settings, 'teardown', netnsPath, input);
}
