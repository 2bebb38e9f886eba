/**
 * A pod's status and its `pod inspect` / `pod ps` views, computed from its containers' states
 * (infra included, as Podman counts it).
 */
import type { StoragePaths } from '../paths/index.js';
import { containerState, type ContainerRecord, type ContainerStatus } from '../runtime/index.js';
import { infraRecord, podContainers } from './lifecycle.js';
import type { PodRecord, PodStatus } from './types.js';

export function combineStatus(statuses: ContainerStatus[]): PodStatus {
  if (statuses.length === 0) return 'Created';
  const running = statuses.filter((s) => s === 'running').length;
  if (running === statuses.length) return 'Running';
  if (running > 0) return 'Degraded';
  if (statuses.every((s) => s === 'created')) return 'Created';
  if (statuses.every((s) => s === 'stopped')) return 'Stopped';
  return 'Exited';
}

export interface PodMember { record: ContainerRecord; status: ContainerStatus; infra: boolean }

export function podMembers(paths: StoragePaths, pod: PodRecord): PodMember[] {
  const infra = infraRecord(paths, pod);
  const all = [...(infra ? [{ record: infra, infra: true }] : []), ...podContainers(paths, pod).map((record) => ({ record, infra: false }))];
  return all.map((m) => ({ ...m, status: containerState(paths, m.record).status }));
}

export function podStatus(paths: StoragePaths, pod: PodRecord): PodStatus {
  return combineStatus(podMembers(paths, pod).map((m) => m.status));
}

/** Podman's `pod inspect` fields that berth has. */
export function inspectPod(paths: StoragePaths, pod: PodRecord): Record<string, unknown> {
  const members = podMembers(paths, pod);
  const infra = members.find((m) => m.infra);
  const infraState = infra ? containerState(paths, infra.record) : undefined;
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    ExitPolicy: pod.exitPolicy,
    State: combineStatus(members.map((m) => m.status)),
    Hostname: pod.hostname,
    Labels: pod.labels,
    CreateInfra: Boolean(pod.infraId),
    InfraContainerID: pod.infraId ?? '',
    InfraConfig: pod.infraId ? {
      PortBindings: infraState?.ports ?? [],
      Networks: pod.network,
      NetworkOptions: {},
      InfraPid: infraState?.status === 'running' ? infraState.pid : 0,
    } : undefined,
    SharedNamespaces: pod.share,
    Mounts: pod.volumes,
    NumContainers: members.length,
    Containers: members.map((m) => ({ Id: m.record.id, Name: m.record.name, State: m.status })),
  };
}
