/**
 * The local driver's options (`--opt KEY=VALUE`, Podman's): type=, device=, o= (comma-separated
 * mount options; for a plain directory volume only uid=, gid= and nocopy mean something), copy=.
 */
import { VolumeError } from '../errors/index.js';

export interface VolumeOptions {
  /** Filesystem type to mount at use time (tmpfs, bind, ext4, nfs, …); undefined = plain directory. */
  type?: string;
  device?: string;
  mountOptions: string[];
  uid?: number;
  gid?: number;
  nocopy: boolean;
}

const KEYS = new Set(['type', 'device', 'o', 'copy', 'nocopy']);

export function parseVolumeOptions(volume: string, options: Record<string, string>): VolumeOptions {
  const fail = (why: string): never => {
    throw new VolumeError('invalid-volume-option', `volume "${volume}": ${why}`, { context: { volume } });
  };
  for (const key of Object.keys(options)) if (!KEYS.has(key)) fail(`unknown option "${key}" for the local driver (type, device, o, copy, nocopy)`);
  const result: VolumeOptions = { mountOptions: [], nocopy: false };
  if (options.type !== undefined) {
    if (!/^[a-z0-9._-]+$/.test(options.type)) fail(`bad type "${options.type}"`);
    result.type = options.type;
  }
  if (options.device !== undefined) {
    if (!result.type) fail('device= needs type= (e.g. type=bind or type=ext4)');
    result.device = options.device;
  }
  if (result.type && result.type !== 'tmpfs' && !result.device) fail(`type=${result.type} needs device=`);
  if (result.type === 'bind' && !result.device!.startsWith('/')) fail('type=bind needs an absolute device= path');
  // Quadlet writes `--opt copy` / `--opt nocopy` (bare); `copy=false` is accepted too.
  if (options.copy !== undefined) {
    if (!['', 'true', 'false'].includes(options.copy)) fail(`copy=${options.copy}: expected true or false`);
    result.nocopy = options.copy === 'false';
  }
  if (options.nocopy !== undefined) result.nocopy = true;
  for (const raw of (options.o ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = raw.split('=', 2);
    if (key === 'nocopy') { result.nocopy = true; continue; }
    if ((key === 'uid' || key === 'gid') && !result.type) {
      if (value === undefined || !/^\d+$/.test(value)) fail(`o=${raw}: expected a numeric ${key}`);
      result[key] = Number(value);
      continue;
    }
    if (!result.type) fail(`o=${raw} needs type= (a plain volume accepts only uid=, gid= and nocopy)`);
    result.mountOptions.push(raw);
  }
  return result;
}
