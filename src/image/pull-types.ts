/**
 * The types callers of the image folder see (INTERFACES.md).
 */
import type { StoragePaths } from '../paths/index.js';
import type { OciImageConfigFile } from './oci.js';

export type PullPolicy = 'always' | 'missing' | 'never' | 'newer';

export interface ImageHandle {
  /** Config digest hex (no "sha256:"): Podman's image ID. */
  id: string;
  /** Manifest digest "sha256:…". */
  digest: string;
  /** Normalized references, e.g. "docker.io/library/busybox:latest". */
  names: string[];
  config: OciImageConfigFile;
  /** Unpacked layer directories, bottom -> top (overlay lowerdir wants top first: reverse). */
  layerDirs: string[];
}

export interface PullProgress {
  phase: 'resolving' | 'manifest' | 'layer' | 'unpacking' | 'done';
  image: string;
  layer?: string;
  bytes?: number;
  total?: number;
  message: string;
}

export interface EnsureImageOptions {
  paths: StoragePaths;
  policy: PullPolicy;
  /** "os/arch[/variant]" */
  platform?: string;
  /** Shorthand for the architecture of `platform`. */
  arch?: string;
  tlsVerify?: boolean;
  authfile?: string;
  quiet?: boolean;
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
}
