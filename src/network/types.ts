/** What the runtime asks of the network layer and what it gets back. */
import type { NetworkMode } from './mode.js';
import type { PortMapping } from './publish.js';

export interface ContainerNetworkRequest {
  containerId: string;
  containerName: string;
  mode: NetworkMode;
  ports: PortMapping[];
  hostname: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  addHosts?: string[];
}

export interface NetworkAttachmentResult { network: string; interfaceName: string; ips: string[]; gateways: string[]; macAddress?: string }

export interface ContainerNetworkResult {
  /** The namespace to join; undefined = the host's (network "host"). */
  netnsPath?: string;
  ips: string[];
  gateways: string[];
  dnsServers: string[];
  hostsEntries: string[];
  /** Ports with random host ports filled in. */
  ports: PortMapping[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** Ready-made file contents for /etc/hosts and /etc/resolv.conf. */
  hostsFile: string;
  resolvConf: string;
  attachments: NetworkAttachmentResult[];
}
