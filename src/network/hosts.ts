/**
 * /etc/hosts and /etc/resolv.conf contents for a container. Pure functions: the runtime writes
 * the files into the container.
 */
import fs from 'node:fs';
import net from 'node:net';
import { UsageError } from '../errors/index.js';

export interface HostsInput {
  hostname: string;
  containerName: string;
  ips: string[];
  /** "NAME:IP" or "NAME=IP" (Podman); IP may be "host-gateway". Several names: "a;b:IP". */
  addHosts?: string[];
  /** Address of the host as seen from the container (bridge gateway); host.containers.internal. */
  hostGateway?: string;
  /** Share the host's network: keep its own names. */
  hostNetwork?: boolean;
}

export function parseAddHost(spec: string, hostGateway?: string): { names: string[]; ip: string } {
  // IPv6 addresses contain ":", so split at the first "=" or, failing that, the first ":".
  const eq = spec.indexOf('=');
  const split = eq >= 0 ? eq : spec.indexOf(':');
  const fail = (why: string): never => {
    throw new UsageError('invalid-add-host', `invalid --add-host "${spec}": ${why}`, { context: { value: spec } });
  };
  if (split <= 0) fail('expected NAME:IP');
  const names = spec.slice(0, split).split(';').map((n) => n.trim());
  let ip = spec.slice(split + 1).replace(/^\[(.*)\]$/, '$1');
  if (names.some((n) => !/^[a-zA-Z0-9*_.-]+$/.test(n))) fail('bad host name');
  if (ip === 'host-gateway') {
    if (!hostGateway) fail('host-gateway needs a bridge network');
    ip = hostGateway!;
  } else if (!net.isIP(ip)) {
    fail(`"${ip}" is not an IP address`);
  }
  return { names, ip };
}

export function hostsEntries(input: HostsInput): string[] {
  const lines = ['127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4', '::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6'];
  for (const spec of input.addHosts ?? []) {
    const { names, ip } = parseAddHost(spec, input.hostGateway);
    lines.push(`${ip}\t${names.join(' ')}`);
  }
  const names = [...new Set([input.hostname, input.containerName].filter(Boolean))].join(' ');
  if (input.ips.length > 0) {
    for (const ip of input.ips) lines.push(`${ip}\t${names}`);
  } else if (!input.hostNetwork) {
    lines.push(`127.0.1.1\t${names}`);
  }
  if (input.hostGateway) lines.push(`${input.hostGateway}\thost.containers.internal host.docker.internal`);
  return lines;
}

export function hostsFile(entries: string[]): string {
  return `${entries.join('\n')}\n`;
}

export interface ResolvInput {
  /** Servers the container should ask (already chosen: --dns, aardvark, or the host's). */
  nameservers: string[];
  search: string[];
  options: string[];
}

export function resolvConf(input: ResolvInput): string {
  const lines: string[] = [];
  if (input.search.length > 0) lines.push(`search ${input.search.join(' ')}`);
  for (const server of input.nameservers) lines.push(`nameserver ${server}`);
  if (input.options.length > 0) lines.push(`options ${input.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export interface HostResolv { nameservers: string[]; search: string[]; options: string[] }

/** The host's resolver settings; behind systemd-resolved's 127.0.0.53 stub, its upstream file. */
export function readHostResolv(file = '/etc/resolv.conf'): HostResolv {
  const parsed = parseResolv(readOrEmpty(file));
  if (parsed.nameservers.length > 0 && parsed.nameservers.every((s) => s.startsWith('127.0.0.53'))) {
    const upstream = parseResolv(readOrEmpty('/run/systemd/resolve/resolv.conf'));
    if (upstream.nameservers.length > 0) return upstream;
  }
  return parsed;
}

export function parseResolv(text: string): HostResolv {
  const result: HostResolv = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const words = raw.replace(/[#;].*$/, '').trim().split(/\s+/).filter(Boolean);
    if (words[0] === 'nameserver' && words[1]) result.nameservers.push(words[1]);
    else if ((words[0] === 'search' || words[0] === 'domain') && words.length > 1) result.search = words.slice(1);
    else if (words[0] === 'options') result.options.push(...words.slice(1));
  }
  return result;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A container in its own namespace cannot reach the host's loopback resolvers. */
export function withoutLoopback(servers: string[]): string[] {
  return servers.filter((s) => !s.startsWith('127.') && s !== '::1');
}
