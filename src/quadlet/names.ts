/** Quadlet's naming rules: service names and the names of the engine resources. */
import type { UnitFile } from '../unit/index.js';
import type { Kind } from './model.js';
import { SECTION_OF } from './keys.js';

const SERVICE_SUFFIX: Record<Kind, string> = { container: '', volume: '-volume', network: '-network', pod: '-pod' };

/** "web.container" -> "web"; "sleep@10.container" -> "sleep@10". */
export function stripExtension(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** Service name without ".service": ServiceName= or the file name with the kind's suffix. */
export function serviceNameOf(name: string, kind: Kind, unit: UnitFile): string {
  const explicit = unit.lookupLast(SECTION_OF[kind], 'ServiceName');
  return explicit !== undefined ? explicit : stripExtension(name) + SERVICE_SUFFIX[kind];
}

/** The container name as written into the unit (may hold specifiers). */
export function containerNameOf(name: string, unit: UnitFile): string {
  const explicit = unit.lookupLast('Container', 'ContainerName');
  if (explicit !== undefined && explicit !== '') return explicit;
  return name.includes('@') ? 'systemd-%p_%i' : 'systemd-%N';
}

/** The container name with %N resolved; "" when other specifiers make it unknowable here. */
export function containerResourceName(name: string, unit: UnitFile, serviceName: string): string {
  const resolved = containerNameOf(name, unit).replaceAll('%N', serviceName);
  return resolved.includes('%') ? '' : resolved;
}

export function resourceNameOf(name: string, kind: Kind, unit: UnitFile, serviceName: string): string {
  const key = { volume: 'VolumeName', network: 'NetworkName', pod: 'PodName' } as const;
  if (kind === 'container') return containerResourceName(name, unit, serviceName);
  const explicit = unit.lookupLast(SECTION_OF[kind], key[kind]);
  return explicit !== undefined && explicit !== '' ? explicit : `systemd-${stripExtension(name)}`;
}
