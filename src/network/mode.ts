/**
 * `--network` values (Podman's spelling) into a NetworkMode:
 *   bridge | private        the default network ("berth")
 *   NAME[:ip=IP,alias=A,…]  named networks (several allowed, also comma-separated names)
 *   host | none | container:NAME | ns:PATH
 */
import net from 'node:net';
import { UsageError } from '../errors/index.js';

export const DEFAULT_NETWORK_NAME = 'berth';

export interface NetworkAttachment { name: string; aliases: string[]; staticIps: string[]; staticMac?: string; interfaceName?: string }

export type NetworkMode =
  | { kind: 'bridge'; networks: NetworkAttachment[] }
  | { kind: 'host' }
  | { kind: 'none' }
  | { kind: 'container'; container: string }
  | { kind: 'ns'; path: string };

export const NETWORK_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseNetworkOption(values: string[], opts: { aliases?: string[]; ips?: string[] } = {}): NetworkMode {
  const aliases = opts.aliases ?? [];
  const ips = opts.ips ?? [];
  for (const ip of ips) if (!net.isIP(ip)) throw usage(`--ip "${ip}" is not an IP address`, ip);

  const words = values.flatMap((v) => (v.includes(':') ? [v] : v.split(','))).map((v) => v.trim()).filter(Boolean);
  const special = words.map(parseSpecial).filter((m): m is Exclude<NetworkMode, { kind: 'bridge' }> => m !== undefined);
  if (special.length > 0) {
    if (words.length > 1) throw usage(`--network ${words.join(',')}: "${words.find((w) => parseSpecial(w))}" cannot be combined with other networks`, words.join(','));
    if (aliases.length > 0) throw usage('--network-alias needs a bridge network', aliases.join(','));
    if (ips.length > 0) throw usage('--ip needs a bridge network', ips.join(','));
    return special[0];
  }

  const networks: NetworkAttachment[] = [];
  for (const word of words.length > 0 ? words : ['bridge']) {
    const attachment = parseAttachment(word);
    if (networks.some((n) => n.name === attachment.name)) throw usage(`network "${attachment.name}" is given twice`, word);
    networks.push(attachment);
  }
  if ((aliases.length > 0 || ips.length > 0) && networks.length > 1) {
    throw usage('--ip and --network-alias apply to one network; write them per network: --network NAME:ip=IP,alias=NAME', words.join(','));
  }
  networks[0].aliases.push(...aliases);
  networks[0].staticIps.push(...ips);
  return { kind: 'bridge', networks };
}

function parseSpecial(word: string): Exclude<NetworkMode, { kind: 'bridge' }> | undefined {
  if (word === 'host') return { kind: 'host' };
  if (word === 'none') return { kind: 'none' };
  if (word.startsWith('container:')) {
    const container = word.slice('container:'.length);
    if (!container) throw usage('--network container: needs a container name or ID', word);
    return { kind: 'container', container };
  }
  if (word.startsWith('ns:')) {
    const path = word.slice('ns:'.length);
    if (!path.startsWith('/')) throw usage(`--network ${word}: the namespace path must be absolute`, word);
    return { kind: 'ns', path };
  }
  if (word === 'slirp4netns' || word.startsWith('slirp4netns:') || word === 'pasta' || word.startsWith('pasta:')) {
    throw usage(`--network ${word}: rootless network modes are not supported yet`, word);
  }
  return undefined;
}

function parseAttachment(word: string): NetworkAttachment {
  const colon = word.indexOf(':');
  const rawName = colon < 0 ? word : word.slice(0, colon);
  const name = rawName === 'bridge' || rawName === 'private' ? DEFAULT_NETWORK_NAME : rawName;
  if (!NETWORK_NAME_PATTERN.test(name)) throw usage(`invalid network name "${rawName}"`, word);
  const attachment: NetworkAttachment = { name, aliases: [], staticIps: [] };
  if (colon < 0) return attachment;
  for (const option of word.slice(colon + 1).split(',')) {
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? '' : option.slice(eq + 1);
    switch (key) {
      case 'alias':
        if (!value) throw usage(`--network ${word}: alias needs a value`, word);
        attachment.aliases.push(value);
        break;
      case 'ip':
      case 'ip6':
        if (!net.isIP(value)) throw usage(`--network ${word}: "${value}" is not an IP address`, word);
        attachment.staticIps.push(value);
        break;
      case 'mac':
        if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value)) throw usage(`--network ${word}: "${value}" is not a MAC address`, word);
        attachment.staticMac = value.toLowerCase();
        break;
      case 'interface_name':
        if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(value)) throw usage(`--network ${word}: invalid interface name "${value}"`, word);
        attachment.interfaceName = value;
        break;
      default:
        throw usage(`--network ${word}: unknown option "${key}" (alias, ip, ip6, mac, interface_name)`, word);
    }
  }
  return attachment;
}

function usage(message: string, value: string): UsageError {
  return new UsageError('invalid-network-option', message, { context: { value } });
}
