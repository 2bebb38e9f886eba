/**
 * Rootless id mapping, as Podman and containers-storage do it: the user's own uid becomes
 * container uid 0, and the user's first subordinate range from /etc/subuid (/etc/subgid for
 * groups) becomes container ids 1..N. Both the store (src/image/store/idmap.ts: owners of
 * unpacked files) and the runtime (src/runtime/userns.ts: the namespace berth works in) use it.
 * Lives with the storage paths because it decides who owns the store's files, and because the
 * rootless re-exec (every rootless command) must load it without the image module.
 * PURE: callers pass the files' text.
 */
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

