/**
 * `-p/--publish` in Podman's syntax:
 *   [[HOST_IP:][HOST_PORT[-END]]:]CONTAINER_PORT[-END][/PROTOCOL[,PROTOCOL]]
 * HOST_IP may be an IPv6 address in brackets. An omitted host port (or 0) means "pick a free one".
 */
import net from 'node:net';
import { UsageError } from '../errors/index.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  /** "" = all addresses. */
  hostIp: string;
  /** 0 = chosen at setup. */
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  /** Number of consecutive ports, >= 1. */
  range: number;
}

const PROTOCOLS = new Set<PortProtocol>(['tcp', 'udp', 'sctp']);

export function parsePublish(spec: string): PortMapping[] {
  const fail = (reason: string): never => {
    throw new UsageError('invalid-publish', `invalid port mapping "${spec}": ${reason}`, { context: { spec } });
  };
  const trimmed = spec.trim();
  if (!trimmed) fail('empty');

  const slash = trimmed.lastIndexOf('/');
  const portsPart = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const protocols = slash >= 0 ? trimmed.slice(slash + 1).split(',') : ['tcp'];
  for (const p of protocols) if (!PROTOCOLS.has(p.toLowerCase() as PortProtocol)) fail(`unknown protocol "${p}" (tcp, udp or sctp)`);

  const { hostIp, rest } = splitHostIp(portsPart, fail);
  const parts = rest.split(':');
  if (parts.length > 2) fail('too many ":"; write [IP:][HOST_PORT:]CONTAINER_PORT');
  const containerText = parts[parts.length - 1];
  const hostText = parts.length === 2 ? parts[0] : '';

  const container = parseRange(containerText, 'container port', fail);
  const host = hostText === '' ? undefined : parseRange(hostText, 'host port', fail, true);
  let hostPort = 0;
  if (host && host.start !== 0) {
    if (host.count !== container.count) {
      fail(`host port range (${host.count} ports) and container port range (${container.count} ports) differ in length`);
    }
    hostPort = host.start;
  }
  return [...new Set(protocols.map((p) => p.toLowerCase() as PortProtocol))].map((protocol) => ({
    hostIp,
    hostPort,
    containerPort: container.start,
    protocol,
    range: container.count,
  }));
}

function splitHostIp(text: string, fail: (reason: string) => never): { hostIp: string; rest: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) fail('missing "]" after the IPv6 address');
    const ip = text.slice(1, close);
    if (net.isIPv6(ip) === false) fail(`"${ip}" is not an IPv6 address`);
    if (text[close + 1] !== ':') fail('expected ":" after the host address');
    return { hostIp: ip, rest: text.slice(close + 2) };
  }
  const parts = text.split(':');
  if (parts.length === 3) {
    const ip = parts[0];
    if (ip !== '' && !net.isIPv4(ip)) fail(`"${ip}" is not an IPv4 address (write IPv6 in brackets)`);
    return { hostIp: ip, rest: parts.slice(1).join(':') };
  }
  if (parts.length > 3) fail('IPv6 host addresses must be written in brackets, e.g. [::1]:8080:80');
  return { hostIp: '', rest: text };
}

function parseRange(text: string, what: string, fail: (reason: string) => never, allowZero = false): { start: number; count: number } {
  const match = text.match(/^(\d+)(?:-(\d+))?$/);
  if (!match) fail(`${what} "${text}" is not a number or a range START-END`);
  const start = Number(match![1]);
  const end = match![2] === undefined ? start : Number(match![2]);
  const min = allowZero && match![2] === undefined ? 0 : 1;
  if (start < min || start > 65535 || end < min || end > 65535) fail(`${what} ${text} is outside 1-65535`);
  if (end < start) fail(`${what} range ${text} ends before it starts`);
  return { start, count: end - start + 1 };
}

/** "127.0.0.1:8080->80/tcp" as `berth port`/`ps` print it. */
export function formatPortMapping(p: PortMapping): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp || '0.0.0.0';
  const range = (start: number) => (p.range > 1 ? `${start}-${start + p.range - 1}` : `${start}`);
  return `${ip}:${range(p.hostPort)}->${range(p.containerPort)}/${p.protocol}`;
}
