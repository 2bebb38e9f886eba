/**
 * Rootless id mapping, as Podman and containers-storage do it: the user's own uid becomes
 * container uid 0, and the user's first subordinate range from /etc/subuid (/etc/subgid for
 * groups) becomes container ids 1..N. Layers are unpacked inside a user namespace with this
 * mapping (see src/runtime/userns.ts), so a file owned by uid 1000 in the image is owned on the
 * host by subuid-start + 999, and the kernel overlay shows it as 1000 inside the container.
 *
 * Measured on this machine (kernel 6.18, util-linux 2.38, uidmap 4.13) before choosing: inside
 * such a namespace an unprivileged user can chown to mapped ids, create the 0/0 whiteout device
 * and mount kernel overlayfs (with `userxattr`), so no FUSE is needed. The alternative berth had
 * (owners kept in a `user.containers.override_stat` xattr) is only honoured by fuse-overlayfs;
 * with kernel overlay every file would show up as root inside the container.
 * Pure except chownError, which reads this process's own uid_map/gid_map.
 */
import fs from 'node:fs';
import { ImageError } from '../../errors/index.js';

/** One line of a uid_map: `count` ids from `inside` map to host ids from `outside`. */
export interface IdRange { inside: number; outside: number; count: number }
export interface IdMapping { uids: IdRange[]; gids: IdRange[] }

/** The user's ranges in /etc/subuid or /etc/subgid format (`name-or-id:start:count`), in file order. */
export function parseSubordinateIds(text: string, user: { name: string; id: number }): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [who, start, count] = line.split(':');
    if (who !== user.name && who !== String(user.id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && s >= 0 && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

/**
 * Podman's default rootless mapping: own id → 0, then the subordinate ranges from 1 on (all of
 * them, back to back, as containers-storage does). No subordinate ids: just own id → 0.
 */
export function rootlessRanges(ownId: number, subordinate: { start: number; count: number }[]): IdRange[] {
  const ranges: IdRange[] = [{ inside: 0, outside: ownId, count: 1 }];
  let next = 1;
  for (const s of subordinate) {
    ranges.push({ inside: next, outside: s.start, count: s.count });
    next += s.count;
  }
  return ranges;
}

/** /proc/<pid>/uid_map or gid_map text. */
export function parseIdMap(text: string): IdRange[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([inside, outside, count]) => ({ inside: inside!, outside: outside!, count: count! }));
}

export function isMapped(id: number, ranges: IdRange[]): boolean {
  return ranges.some((r) => id >= r.inside && id < r.inside + r.count);
}

/** Host id for a container id, undefined when outside the mapping. */
export function toHost(id: number, ranges: IdRange[]): number | undefined {
  const r = ranges.find((x) => id >= x.inside && id < x.inside + x.count);
  return r === undefined ? undefined : r.outside + (id - r.inside);
}

/** "0-65536" style text of the ids a mapping covers (inside view), e.g. for error messages. */
export function describeRanges(ranges: IdRange[]): string {
  if (ranges.length === 0) return 'none';
  const merged: { start: number; end: number }[] = [];
  for (const r of [...ranges].sort((a, b) => a.inside - b.inside)) {
    const last = merged[merged.length - 1];
    if (last && r.inside === last.end + 1) last.end = r.inside + r.count - 1;
    else merged.push({ start: r.inside, end: r.inside + r.count - 1 });
  }
  return merged.map((m) => (m.start === m.end ? `${m.start}` : `${m.start}-${m.end}`)).join(', ');
}

/** The host ids a mapping uses, e.g. "1001, 100000-165535". */
export function describeHostRanges(ranges: IdRange[]): string {
  return ranges.map((r) => (r.count === 1 ? `${r.outside}` : `${r.outside}-${r.outside + r.count - 1}`)).join(', ');
}

/** Podman's "potentially insufficient UIDs or GIDs" case, naming the entry and the range. */
export function insufficientIdsError(entry: string, uid: number, gid: number, mapping: IdMapping, layer?: string): ImageError {
  const which = !isMapped(uid, mapping.uids) ? `uid ${uid}` : `gid ${gid}`;
  const ranges = !isMapped(uid, mapping.uids) ? mapping.uids : mapping.gids;
  const prefix = layer ? `layer ${layer}: ` : '';
  return new ImageError('insufficient-ids',
    `${prefix}entry "${entry}" is owned by ${which}, outside the ids this user can map (${describeRanges(ranges)}, host ${describeHostRanges(ranges)}): potentially insufficient UIDs or GIDs available in the user namespace; give this user a larger range in /etc/subuid and /etc/subgid`,
    { context: { entry, uid, gid, digest: layer, range: describeRanges(ranges) } });
}

/**
 * The error for a failed chown of a layer entry: EINVAL inside a user namespace means the owner
 * is not mapped (Podman's "potentially insufficient UIDs or GIDs"); anything else is returned as is.
 */
export function chownError(error: unknown, entry: string, uid: number, gid: number, layer?: string): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'EINVAL') return error;
  let mapping: IdMapping;
  try {
    mapping = { uids: parseIdMap(fs.readFileSync('/proc/self/uid_map', 'utf8')), gids: parseIdMap(fs.readFileSync('/proc/self/gid_map', 'utf8')) };
  } catch {
    return error;
  }
  if (isMapped(uid, mapping.uids) && isMapped(gid, mapping.gids)) return error;
  return insufficientIdsError(entry, uid, gid, mapping, layer);
}
