/**
 * What berth remembers about a pod (PodRecord, persistent: <root>/pods/<id>/pod.json) and what
 * `pod create` accepts (PodOptions, already parsed from flags). A pod's status is never stored:
 * it is computed from its containers' states (status.ts).
 */

/** Namespaces the pod's containers share with the infra container (Podman's --share). */
export type ShareKind = 'net' | 'ipc' | 'uts';
export type ExitPolicy = 'continue' | 'stop';
export type PodStatus = 'Created' | 'Running' | 'Degraded' | 'Exited' | 'Stopped';

export interface PodOptions {
  name?: string;
  hostname?: string;
  labels: Record<string, string>;
  infra: boolean;
  infraName?: string;
  infraImage?: string;          // an image for the infra instead of berth's minimal catatonit rootfs
  infraCommand?: string[];
  share: ShareKind[];
  exitPolicy: ExitPolicy;
  publish: string[];            // raw -p values, published at the infra (src/network parses them)
  network: string[];            // raw --network values for the infra
  volumes: string[];            // raw -v values, added to every container of the pod
  dns: string[];                // --dns, --dns-search, --dns-option, --add-host: the infra's (shared) /etc files
  dnsSearch: string[];
  dnsOptions: string[];
  addHosts: string[];
  infraConmonPidfile?: string;  // the infra's PID is written here at every start (systemd PIDFile=)
  podIdFile?: string;
}

export interface PodRecord {
  id: string;
  name: string;
  created: string;              // ISO time
  hostname: string;
  labels: Record<string, string>;
  share: ShareKind[];
  exitPolicy: ExitPolicy;
  infraId?: string;             // undefined with --infra=false
  publish: string[];
  network: string[];
  volumes: string[];
  infraConmonPidfile?: string;
  podIdFile?: string;
}
