/**
 * Host ports for published ports: refuse ones already taken (by any process: we try to bind
 * them; by another berth container: its forwarding rule binds nothing, so we compare with the
 * ports recorded in the other containers' network state) and fill in random ones for "-p 80".
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { NetworkError } from '../errors/index.js';
import { formatPortMapping, type PortMapping } from './publish.js';

export interface PortClaim { containerId: string; containerName: string; ports: PortMapping[] }

/** Returns the mappings with every hostPort filled in. Throws NetworkError naming the port. */
export async function reserveHostPorts(ports: PortMapping[], claims: PortClaim[]): Promise<PortMapping[]> {
  const result: PortMapping[] = [];
  for (const mapping of ports) {
    if (mapping.hostPort !== 0) {
      const other = conflictingClaim(mapping, [...claims, { containerId: '', containerName: 'this container', ports: result }]);
      if (other) {
        const by = other.containerId === '' ? 'is published twice by this container' : `is already published by container ${other.containerName}`;
        throw new NetworkError('port-in-use', `host port ${describe(mapping)} ${by}`, { context: { port: mapping.hostPort, protocol: mapping.protocol } });
      }
      for (let port = mapping.hostPort; port < mapping.hostPort + mapping.range; port++) {
        const error = await tryBind(mapping.hostIp, port, mapping.protocol);
        if (error) {
          throw new NetworkError('port-in-use', `host port ${describe({ ...mapping, hostPort: port, range: 1 })} is not available: ${error}`, { context: { port, protocol: mapping.protocol } });
        }
      }
      result.push(mapping);
    } else {
      result.push(await pickRandom(mapping, [...claims, { containerId: '', containerName: 'this container', ports: result }]));
    }
  }
  return result;
}

function describe(m: PortMapping): string {
  const text = formatPortMapping(m);
  return text.slice(0, text.indexOf('->')) + `/${m.protocol}`;
}

function conflictingClaim(mapping: PortMapping, claims: PortClaim[]): PortClaim | undefined {
  return claims.find((claim) => claim.ports.some((p) => overlaps(p, mapping)));
}

function overlaps(a: PortMapping, b: PortMapping): boolean {
  if (a.protocol !== b.protocol || a.hostPort === 0 || b.hostPort === 0) return false;
  const ipsMeet = a.hostIp === '' || b.hostIp === '' || a.hostIp === b.hostIp;
  return ipsMeet && a.hostPort < b.hostPort + b.range && b.hostPort < a.hostPort + a.range;
}

async function pickRandom(mapping: PortMapping, claims: PortClaim[]): Promise<PortMapping> {
  for (let attempt = 0; attempt < 100; attempt++) {
    let start: number;
    if (mapping.range === 1 && mapping.protocol !== 'sctp') {
      start = await kernelPickedPort(mapping.hostIp, mapping.protocol);
    } else {
      start = 32768 + Math.floor(Math.random() * (60999 - 32768 - mapping.range));
    }
    const candidate = { ...mapping, hostPort: start };
    if (conflictingClaim(candidate, claims)) continue;
    let free = true;
    for (let port = start; port < start + mapping.range && free; port++) {
      if (await tryBind(mapping.hostIp, port, mapping.protocol)) free = false;
    }
    if (free) return candidate;
  }
  throw new NetworkError('no-free-port', `no free host port found for ${formatPortMapping(mapping)}`, { context: { protocol: mapping.protocol } });
}

function bindAddress(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

async function kernelPickedPort(hostIp: string, protocol: 'tcp' | 'udp'): Promise<number> {
  if (protocol === 'udp') {
    const socket = dgram.createSocket(net.isIPv6(hostIp) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, bindAddress(hostIp), resolve);
    });
    const port = socket.address().port;
    socket.close();
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: bindAddress(hostIp), exclusive: true }, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** undefined when the port can be bound right now, else the reason. */
export async function tryBind(hostIp: string, port: number, protocol: PortMapping['protocol']): Promise<string | undefined> {
  if (protocol === 'sctp') return undefined; // node cannot open SCTP sockets; netavark reports clashes itself
  const host = bindAddress(hostIp);
  try {
    if (protocol === 'udp') {
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port, address: host, exclusive: true }, resolve);
      });
      socket.close();
    } else {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, exclusive: true }, resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return 'address already in use';
    if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this host`;
    return (error as Error).message;
  }
}
