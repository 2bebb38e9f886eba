/**
 * Resolve a container's user the way Podman does: `name|uid[:group|gid]` looked up in the image's
 * own /etc/passwd and /etc/group (never the host's). Pure: callers pass the files' text.
 */
import { RuntimeError } from '../errors/index.js';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string; name?: string }
interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? [{ name: f[0], uid, gid, home: f[5] || '/' }] : [];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    const gid = Number(f[2]);
    return Number.isInteger(gid) ? [{ name: f[0], gid, members: f[3].split(',').filter(Boolean) }] : [];
  });
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);

/**
 * @param spec  the --user value or the image's User ("" means root)
 * @param groupAdd  --group-add values (names or gids); "keep-groups" is not supported rootful
 */
export function resolveUser(spec: string, passwdText: string, groupText: string, groupAdd: string[] = []): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2) as [string, string | undefined];
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (isNumeric(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) {
      throw new RuntimeError('user-not-found', `unable to find user ${userPart}: no matching entries in passwd file`, { context: { user: userPart } });
    }
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') gid = lookupGroup(groupPart, groups);
  const additional = new Set<number>();
  // Supplementary groups from /etc/group apply when the user is known by name there (as Podman).
  if (entry && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(entry.name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const g of groupAdd) additional.add(lookupGroup(g, groups));
  return { uid, gid, additionalGids: [...additional], home: entry?.home ?? '/', name: entry?.name };
}

function lookupGroup(spec: string, groups: GroupEntry[]): number {
  if (isNumeric(spec)) return Number(spec);
  const g = groups.find((x) => x.name === spec);
  if (!g) throw new RuntimeError('group-not-found', `unable to find group ${spec}: no matching entries in group file`, { context: { group: spec } });
  return g.gid;
}
