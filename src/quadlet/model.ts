/** Shared shapes of the generator: what a source unit is, what translators need and return. */
import type { UnitFile } from '../unit/index.js';

export type Kind = 'container' | 'volume' | 'network' | 'pod';

export const KINDS: readonly Kind[] = ['container', 'volume', 'network', 'pod'];

/** Quadlet resolves names in this order: volumes and networks first, pods last (they list their containers). */
export const KIND_ORDER: Record<Kind, number> = { volume: 2, network: 2, container: 4, pod: 5 };

/** One Quadlet source file after drop-ins were merged. */
export interface SourceUnit {
  /** File name, e.g. "web.container" or "sleep@10.container". */
  name: string;
  kind: Kind;
  /** Absolute path of the file (SourcePath=, relative path resolution). */
  path: string;
  /** The merged file. */
  unit: UnitFile;
}

/** What other units need to know about a unit before any is translated. */
export interface UnitInfo {
  /** Generated service name without ".service". */
  serviceName: string;
  /** Name of the engine resource (container/volume/network/pod name); "" when not resolvable. */
  resourceName: string;
  /** For pods: services of the containers that start with the pod, in translation order. */
  containersToStart: string[];
}

export interface TranslateContext {
  user: boolean;
  /** Absolute path of the engine executable written into Exec lines. */
  engine: string;
  units: Map<string, UnitInfo>;
  /** Existence check for AddDevice=-/dev/x (the only host lookup a translator needs). */
  pathExists: (path: string) => boolean;
}

export interface InstallLink {
  /** Path relative to the output dir, e.g. "default.target.wants/web.service". */
  link: string;
  /** Symlink target, e.g. "../web.service". */
  target: string;
}

export interface GeneratedUnit {
  /** "web.service". */
  fileName: string;
  text: string;
  links: InstallLink[];
  /** Set when this is the failing stand-in for a broken source. */
  error?: string;
}
