/**
 * Podman's flag value syntaxes, parsed into typed options. PURE; every error is a UsageError
 * naming the flag and the value (exit 125).
 */
import path from 'node:path';
import { UsageError } from '../errors/index.js';
import type { DeviceRequest, MountRequest, Ulimit } from './types.js';
import { rlimitName } from './oci-config.js';

const bad = (flag: string, value: string, why: string): UsageError =>
  new UsageError('invalid-flag', `invalid value for ${flag} "${value}": ${why}`, { context: { flag, value } });

/** "512m", "1g", "1024", "64k", "1.5g" → bytes (Podman/docker units, binary multiples). */
export function parseSize(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw bad(flag, value, 'expected a size such as 512m or 1g');
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as 'k'];
  return Math.floor(Number(m[1]) * mult);
}

/** "30s", "1m30s", "500ms", "2h", "0" → milliseconds (Go durations). */
export function parseDuration(value: string, flag: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|us|\u00b5s|ns|s|m|h)/gy;
  let total = 0;
  let matched = '';
  for (let m = re.exec(value); m; m = re.exec(value)) {
    matched += m[0];
    total += Number(m[1]) * { ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001, s: 1000, m: 60000, h: 3600000 }[m[2] as 's'];
  }
  if (!value || matched !== value) throw bad(flag, value, 'expected a duration such as 30s or 1m');
  return total;
}

/** --ulimit nofile=1024:2048, nproc=512, core=-1 (unlimited). */
export function parseUlimit(value: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value.trim());
  if (!m) throw bad('--ulimit', value, 'expected TYPE=SOFT[:HARD]');
  const name = rlimitName(m[1]);
  if (!name) throw bad('--ulimit', value, `unknown limit type ${m[1]}`);
  const n = (s: string): number => (s === '-1' ? Infinity : Number(s));
  const soft = n(m[2]);
  const hard = m[3] !== undefined ? n(m[3]) : soft;
  if (soft > hard) throw bad('--ulimit', value, 'soft limit above hard limit');
  return { name, soft, hard };
}

export function parseKeyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw bad(flag, v, 'empty key');
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** -e NAME=VALUE, -e NAME (take it from berth's environment, skip if unset), -e 'PREFIX*'. */
export function parseEnv(values: string[], hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw bad('--env', v, 'empty variable name');
    if (i > 0) { out[v.slice(0, i)] = v.slice(i + 1); continue; }
    if (v.endsWith('*')) {
      const prefix = v.slice(0, -1);
      for (const [k, val] of Object.entries(hostEnv)) if (k.startsWith(prefix) && val !== undefined) out[k] = val;
      continue;
    }
    if (hostEnv[v] !== undefined) out[v] = hostEnv[v]!;
  }
  return out;
}

/** --env-file: NAME=VALUE per line, # comments, NAME alone takes berth's environment. */
export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const i = line.indexOf('=');
    if (i === 0) throw new UsageError('invalid-env-file', `${file}:${index + 1}: variable name is empty`, { context: { file, line: index + 1 } });
    if (i < 0) { const k = line.trim(); if (hostEnv[k] !== undefined) out[k] = hostEnv[k]!; return; }
    out[line.slice(0, i).trimStart()] = line.slice(i + 1);
  });
  return out;
}

const VOLUME_OPTIONS = /^(ro|rw|z|Z|U|O|nocopy|copy|r?(private|shared|slave|unbindable)|r?bind|nosuid|suid|nodev|dev|noexec|exec|idmap.*)$/;

/** -v SRC:DEST[:OPTS], SRC absolute → bind, else a named volume; -v DEST alone → an anonymous volume (named at create). */
export function parseVolume(value: string): MountRequest {
  const parts = value.split(':');
  if (parts.length === 1 && value.startsWith('/')) return { kind: 'volume', name: '', anonymous: true, destination: path.posix.normalize(value).replace(/(.)\/$/, '$1'), options: [] };
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw bad('--volume', value, 'expected SOURCE:DESTINATION[:OPTIONS]');
  const [source, destination, opts = ''] = parts;
  if (!destination.startsWith('/')) throw bad('--volume', value, `destination ${destination} must be an absolute path`);
  const options = opts ? opts.split(',') : [];
  for (const o of options) if (!VOLUME_OPTIONS.test(o)) throw bad('--volume', value, `unknown option ${o}`);
  if (source.startsWith('/') || source.startsWith('.')) return { kind: 'bind', source: path.resolve(source), destination: path.posix.normalize(destination), options };
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source)) throw bad('--volume', value, `invalid volume name ${source}`);
  return { kind: 'volume', name: source, destination: path.posix.normalize(destination), options };
}

/** --tmpfs /run[:size=64m,mode=1777] */
export function parseTmpfs(value: string): MountRequest {
  const i = value.indexOf(':');
  const destination = i < 0 ? value : value.slice(0, i);
  if (!destination.startsWith('/')) throw bad('--tmpfs', value, 'destination must be an absolute path');
  const options = i < 0 ? [] : value.slice(i + 1).split(',').filter(Boolean);
  return { kind: 'tmpfs', destination: path.posix.normalize(destination), options };
}

/** --mount type=bind,source=/a,target=/b,ro | type=volume,source=name,target=/b | type=tmpfs,target=/t,tmpfs-size=… */
export function parseMount(value: string): MountRequest {
  const fields: Record<string, string> = {};
  const flags: string[] = [];
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) flags.push(part.trim());
    else fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const type = fields.type ?? 'volume';
  const destination = fields.target ?? fields.destination ?? fields.dst;
  if (!destination || !destination.startsWith('/')) throw bad('--mount', value, 'needs target=ABSOLUTE_PATH');
  const source = fields.source ?? fields.src;
  const options: string[] = [];
  const ro = flags.includes('ro') || flags.includes('readonly') || fields.ro === 'true' || fields.readonly === 'true';
  if (ro) options.push('ro');
  if (fields['bind-propagation']) options.push(fields['bind-propagation']);
  switch (type) {
    case 'bind':
      if (!source) throw bad('--mount', value, 'type=bind needs source=PATH');
      return { kind: 'bind', source: path.resolve(source), destination, options };
    case 'volume':
      if (!source) return { kind: 'volume', name: '', anonymous: true, destination, options };
      return { kind: 'volume', name: source, destination, options };
    case 'tmpfs':
      if (fields['tmpfs-size']) options.push(`size=${fields['tmpfs-size']}`);
      if (fields['tmpfs-mode']) options.push(`mode=${fields['tmpfs-mode']}`);
      return { kind: 'tmpfs', destination, options };
    default:
      throw bad('--mount', value, `unsupported type ${type}`);
  }
}

/** --device /dev/fuse[:/dev/fuse][:rwm] */
export function parseDevice(value: string): DeviceRequest {
  const parts = value.split(':');
  const hostPath = parts[0];
  if (!hostPath.startsWith('/')) throw bad('--device', value, 'host path must be absolute');
  let containerPath = hostPath;
  let permissions = 'rwm';
  if (parts.length === 2) { if (/^[rwm]+$/.test(parts[1])) permissions = parts[1]; else containerPath = parts[1]; }
  if (parts.length === 3) { containerPath = parts[1]; permissions = parts[2]; }
  if (parts.length > 3 || !/^[rwm]+$/.test(permissions) || !containerPath.startsWith('/')) throw bad('--device', value, 'expected HOST[:CONTAINER][:PERMISSIONS]');
  return { hostPath, containerPath, permissions };
}

export function parseIntFlag(value: string | number, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) throw bad(flag, String(value), min === 0 ? 'expected a non-negative integer' : 'expected an integer');
  return n;
}
