/**
 * A container joining a pod (`run/create --pod`): its options gain the pod's namespaces (the
 * infra's network namespace, the pod's IPC and UTS files), hostname and volumes, and the pod's
 * id. PURE: the caller looked the pod up and knows the infra's network namespace path.
 */
import { UsageError } from '../errors/index.js';
import { flagValues, type ContainerOptions } from '../runtime/index.js';
import { podNsPath } from './ns.js';
import type { StoragePaths } from '../paths/index.js';
import type { PodRecord } from './types.js';

export interface InfraNetwork { kind: 'ns'; path: string }
export type PodNetwork = InfraNetwork | { kind: 'host' } | undefined;

export function joinPodOptions(paths: StoragePaths, pod: PodRecord, o: ContainerOptions, network: PodNetwork): ContainerOptions {
  const refuse = (flag: string, why: string): UsageError =>
    new UsageError('pod-conflict', `${flag} cannot be used for a container in pod ${pod.name}: ${why}`, { context: { pod: pod.name, flag } });
  const sharesNet = Boolean(pod.infraId) && pod.share.includes('net');
  if (sharesNet && o.publish.length) throw refuse('--publish', 'ports are published at the pod (berth pod create -p)');
  if (sharesNet && o.network.length) throw refuse('--network', 'the container uses the pod\'s network namespace');
  if (pod.share.includes('uts') && pod.infraId && o.hostname !== undefined) throw refuse('--hostname', 'the container uses the pod\'s UTS namespace (its hostname)');

  const joinNamespaces: NonNullable<ContainerOptions['joinNamespaces']> = { ...o.joinNamespaces };
  if (pod.infraId) {
    if (pod.share.includes('ipc')) joinNamespaces.ipc = podNsPath(paths, pod.id, 'ipc');
    if (pod.share.includes('uts')) joinNamespaces.uts = podNsPath(paths, pod.id, 'uts');
  }
  let networkValues = o.network;
  if (sharesNet && network) networkValues = network.kind === 'host' ? ['host'] : [`ns:${network.path}`];

  // The pod's volumes first; a container's own mount at the same destination wins.
  const own = new Set(o.mounts.map((m) => m.destination));
  const podMounts = pod.volumes.map(flagValues.parseVolume).filter((m) => !own.has(m.destination));

  return {
    ...o,
    pod: pod.id,
    network: networkValues,
    hostname: pod.share.includes('uts') && pod.infraId ? pod.hostname : o.hostname,
    joinNamespaces,
    mounts: [...podMounts, ...o.mounts],
  };
}
