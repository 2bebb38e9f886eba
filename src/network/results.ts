/**
 * The result handed to the runtime, built from what was set up: addresses, resolvers, and the
 * /etc/hosts and /etc/resolv.conf contents that follow from them. Pure but for reading the host's resolv.conf.
 */
import type { NetworkConfig } from './config.js';
import { hostsEntries, hostsFile, readHostResolv, resolvConf, withoutLoopback } from './hosts.js';
import type { NetavarkStatus } from './netavark.js';
import type { ContainerNetworkState } from './state.js';
import type { ContainerNetworkRequest, ContainerNetworkResult, NetworkAttachmentResult } from './types.js';

export function plainResult(req: ContainerNetworkRequest, netnsPath: string | undefined, opts: { hostNetwork?: boolean }): ContainerNetworkResult {
  const host = readHostResolv();
  const servers = req.dns?.length ? req.dns : opts.hostNetwork ? host.nameservers : withoutLoopback(host.nameservers);
  const search = req.dnsSearch?.length ? req.dnsSearch : host.search;
  const options = req.dnsOptions?.length ? req.dnsOptions : host.options;
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips: [], addHosts: req.addHosts, hostNetwork: opts.hostNetwork });
  return {
    netnsPath,
    ips: [],
    gateways: [],
    dnsServers: servers,
    dnsSearch: search,
    dnsOptions: options,
    hostsEntries: entries,
    hostsFile: hostsFile(entries),
    resolvConf: resolvConf({ nameservers: servers, search, options }),
    ports: [],
    attachments: [],
  };
}

/** Joining a namespace berth set up (a pod's, another container's): its addresses and resolvers. */
export function sharedResult(req: ContainerNetworkRequest, owner: ContainerNetworkResult): ContainerNetworkResult {
  const servers = owner.dnsServers.length > 0 && !req.dns?.length ? owner.dnsServers : req.dns ?? [];
  const search = req.dnsSearch?.length ? req.dnsSearch : owner.dnsSearch;
  const options = req.dnsOptions?.length ? req.dnsOptions : owner.dnsOptions;
  const hostGateway = owner.gateways.find((g) => !g.includes(':')) ?? owner.gateways[0];
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips: owner.ips, addHosts: req.addHosts, hostGateway });
  return {
    ...owner,
    dnsServers: servers, dnsSearch: search, dnsOptions: options,
    hostsEntries: entries, hostsFile: hostsFile(entries), resolvConf: resolvConf({ nameservers: servers, search, options }),
  };
}

export function bridgeResult(req: ContainerNetworkRequest, netnsPath: string, networks: NetworkConfig[], state: ContainerNetworkState, status: NetavarkStatus): ContainerNetworkResult {
  const attachments: NetworkAttachmentResult[] = [];
  const aardvark: string[] = [];
  const aardvarkSearch: string[] = [];
  for (const network of networks) {
    const block = status[network.name] ?? {};
    const per = state.netavark!.networks[network.name];
    const iface = block.interfaces?.[per.interface_name];
    const subnets = iface?.subnets ?? [];
    attachments.push({
      network: network.name,
      interfaceName: per.interface_name,
      ips: subnets.length > 0 ? subnets.map((s) => s.ipnet.split('/')[0]) : per.static_ips,
      gateways: subnets.map((s) => s.gateway).filter((g): g is string => !!g),
      macAddress: iface?.mac_address,
    });
    if (network.dns_enabled) {
      aardvark.push(...(block.dns_server_ips ?? []));
      aardvarkSearch.push(...(block.dns_search_domains ?? []));
    }
  }
  const ips = attachments.flatMap((a) => a.ips);
  const gateways = [...new Set(attachments.flatMap((a) => a.gateways))];
  const host = readHostResolv();
  let servers: string[];
  // On a DNS-enabled network aardvark-dns answers, forwarding to --dns servers (given to netavark).
  if (aardvark.length > 0) servers = [...new Set(aardvark)];
  else if (req.dns?.length) servers = req.dns;
  else servers = withoutLoopback(host.nameservers);
  const search = req.dnsSearch?.length ? req.dnsSearch : [...new Set([...aardvarkSearch, ...host.search])];
  const options = req.dnsOptions?.length ? req.dnsOptions : host.options;
  const hostGateway = gateways.find((g) => !g.includes(':')) ?? gateways[0];
  const entries = hostsEntries({ hostname: req.hostname, containerName: req.containerName, ips, addHosts: req.addHosts, hostGateway });
  return {
    netnsPath, ips, gateways, dnsServers: servers, dnsSearch: search, dnsOptions: options,
    hostsEntries: entries, hostsFile: hostsFile(entries), resolvConf: resolvConf({ nameservers: servers, search, options }),
    ports: state.ports, attachments,
  };
}
