/**
 * Validating `pod create` input before anything is made (PURE): names, --share, --exit-policy,
 * ports, networks and volumes, and the combinations Podman refuses. Errors name the flag and value.
 */
import { PodError, UsageError } from '../errors/index.js';
import { parseNetworkOption, parsePublish } from '../network/index.js';
import { flagValues } from '../runtime/index.js';
import type { ExitPolicy, PodOptions, ShareKind } from './types.js';

export const POD_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const DEFAULT_SHARE: ShareKind[] = ['net', 'ipc', 'uts'];
const SHAREABLE: readonly string[] = ['net', 'ipc', 'uts'];
// Podman accepts these too; berth gives every container its own (see the report in NOTES-pod.md).
const ACCEPTED_NOT_SHARED: readonly string[] = ['cgroup', 'none'];

const bad = (flag: string, value: string, why: string): UsageError =>
  new UsageError('invalid-flag', `invalid value for ${flag} "${value}": ${why}`, { context: { flag, value } });

/** --share net,ipc,uts | +pid (adds to the default) | none ; "cgroup" is accepted, not shared. */
export function parseShare(values: string[]): ShareKind[] {
  if (values.length === 0) return [...DEFAULT_SHARE];
  const out = new Set<ShareKind>();
  for (const raw of values) {
    const add = raw.startsWith('+');
    if (add) for (const k of DEFAULT_SHARE) out.add(k);
    for (const kind of (add ? raw.slice(1) : raw).split(',').map((s) => s.trim()).filter(Boolean)) {
      if (SHAREABLE.includes(kind)) out.add(kind as ShareKind);
      else if (!ACCEPTED_NOT_SHARED.includes(kind)) throw bad('--share', raw, `"${kind}" cannot be shared (supported: net, ipc, uts, cgroup, none)`);
    }
  }
  return DEFAULT_SHARE.filter((k) => out.has(k));
}

export function parseExitPolicy(value: string): ExitPolicy {
  if (value !== 'continue' && value !== 'stop') throw bad('--exit-policy', value, 'expected continue or stop');
  return value;
}

/** Everything that can be checked without touching the system. */
export function validatePodOptions(o: PodOptions): void {
  if (o.name !== undefined && !POD_NAME_PATTERN.test(o.name)) {
    throw new PodError('invalid-name', `pod name "${o.name}" is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`, { context: { pod: o.name } });
  }
  if (o.infraName !== undefined && !POD_NAME_PATTERN.test(o.infraName)) throw bad('--infra-name', o.infraName, 'names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*');
  for (const p of o.publish) parsePublish(p);
  for (const v of o.volumes) flagValues.parseVolume(v);
  if (!o.infra) {
    const needsInfra = [o.publish.length ? '--publish' : '', o.network.length ? '--network' : '', o.share.length ? '--share' : '', o.infraImage ? '--infra-image' : '', o.infraConmonPidfile ? '--infra-conmon-pidfile' : ''].filter(Boolean);
    if (needsInfra.length) throw new UsageError('pod-no-infra', `${needsInfra.join(', ')} cannot be used with --infra=false: there is no infra container to hold them`, { context: { flags: needsInfra.join(',') } });
    return;
  }
  if (o.network.length) {
    const mode = parseNetworkOption(o.network);
    if (mode.kind === 'container') throw bad('--network', o.network.join(','), 'a pod cannot join another container\'s network');
    if (!o.share.includes('net')) throw bad('--network', o.network.join(','), 'the pod does not share its network namespace (--share without net)');
  }
  if (o.publish.length && !o.share.includes('net')) throw bad('--publish', o.publish.join(','), 'ports are published at the pod: it must share its network namespace (--share net)');
}
