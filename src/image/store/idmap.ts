/**
 * Layer owners for rootless stores. The mapping (src/paths/idmap.ts) is Podman's: the user's
 * own uid becomes container uid 0, its first /etc/subuid range container ids 1..N. Layers are unpacked inside a user namespace with this
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
import { describeHostRanges, describeRanges, isMapped, parseIdMap, type IdMapping } from '../../paths/index.js';

export { describeHostRanges, describeRanges, isMapped, parseIdMap, parseSubordinateIds, rootlessRanges, toHost, type IdMapping, type IdRange } from '../../paths/index.js';

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
