/**
 * cgroup layout: berth needs the unified (v2) hierarchy at /sys/fs/cgroup, as crun does. On a
 * hybrid or v1 host crun refuses ("cgroups in hybrid mode not supported"); berth says so up front.
 * `--cgroups=split` puts the container in a child of the calling process's own cgroup, so under
 * a systemd service (Delegate=yes) the container stays inside the service and systemd accounts
 * for it and kills it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors/index.js';
import { runProc } from './proc.js';
import { lockHelperPid } from '../image/store/locks.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
export const CGROUP_ROOT = '/sys/fs/cgroup';

export type CgroupLayout = 'v2' | 'hybrid' | 'v1' | 'none';

export function detectCgroupLayout(root = CGROUP_ROOT): CgroupLayout {
  try {
    if (fs.statfsSync(root).type === CGROUP2_SUPER_MAGIC) return 'v2';
  } catch { return 'none'; }
  try {
    if (fs.statfsSync(path.join(root, 'unified')).type === CGROUP2_SUPER_MAGIC) return 'hybrid';
  } catch { /* v1 only */ }
  return 'v1';
}

export function requireCgroupV2(layout: CgroupLayout = detectCgroupLayout()): void {
  if (layout === 'v2') return;
  throw new RuntimeError('cgroups-unsupported',
    `cgroups ${layout === 'hybrid' ? 'in hybrid mode' : layout} are not supported by crun: boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1) or run berth with --cgroups=disabled inside a namespace that mounts cgroup2 on /sys/fs/cgroup`,
    { context: { layout } });
}

/** This process's cgroup in the unified hierarchy: the `0::` line of /proc/self/cgroup. */
export function ownCgroup(text: string = fs.readFileSync('/proc/self/cgroup', 'utf8')): string {
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new RuntimeError('cgroups-unsupported', 'no unified cgroup entry in /proc/self/cgroup', {});
  return line.slice(3) || '/';
}

/** The controllers a child of `parent` could get (the parent's cgroup.controllers). */
export function availableControllers(parent: string, root = CGROUP_ROOT): string[] {
  try {
    return fs.readFileSync(path.join(root, parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch { return []; }
}

/** cgroupsPath for a container, relative to the cgroup2 mount (crun's cgroupfs manager). */
export function containerCgroupPath(id: string, mode: string, parent?: string): string | undefined {
  if (mode === 'disabled') return undefined;
  if (mode === 'split' && parent) return path.posix.join(parent, `berth-${id.slice(0, 12)}`);
  return `/berth/berth-${id.slice(0, 12)}`;
}

/**
 * cgroup v2 forbids enabling controllers for children of a cgroup that holds processes. Under
 * --cgroups=split the service cgroup holds berth itself; moving berth into a sibling leaf first
 * lets crun delegate memory/pids to the container's cgroup. Best effort: without it the
 * container still runs, just without those limits.
 */
export function moveSelfToLeaf(parent: string, root = CGROUP_ROOT): void {
  const leaf = path.join(root, parent, 'berth-supervisor');
  try {
    fs.mkdirSync(leaf, { recursive: true });
    // berth's own helper process (locks, mount(2)) too, if it is already running
    for (const pid of [process.pid, lockHelperPid()]) if (pid) fs.writeFileSync(path.join(leaf, 'cgroup.procs'), `${pid}\n`);
  } catch { /* not delegated to us: stay where we are */ }
}

/**
 * Rootless: crun may only create the container's cgroup inside a cgroup delegated to the user
 * (systemd's user@.service, or a service with Delegate=yes): there it runs as `split`. Anywhere
 * else (this VM's hybrid layout, or a cgroup the user cannot write) the container runs without
 * cgroup limits, said once; Podman's rootless cgroupfs manager does the same.
 */
export function rootlessCgroupMode(requested: string, layout: CgroupLayout = detectCgroupLayout(), root = CGROUP_ROOT): { mode: string; warning?: string } {
  if (requested === 'disabled') return { mode: requested };
  if (layout !== 'v2') {
    return { mode: 'disabled', warning: `cgroups ${layout === 'hybrid' ? 'in hybrid mode' : layout} cannot be used by an unprivileged user: rootless containers run without cgroup limits (--memory, --pids-limit are not applied)` };
  }
  let own: string;
  try { own = ownCgroup(); } catch { return { mode: 'disabled', warning: 'no unified cgroup entry in /proc/self/cgroup: rootless containers run without cgroup limits' }; }
  try {
    fs.accessSync(path.join(root, own), fs.constants.W_OK);
    return { mode: 'split' };
  } catch {
    return { mode: 'disabled', warning: `cgroup ${own} is not delegated to this user: rootless containers run without cgroup limits (run berth from a systemd --user service or a Delegate=yes unit to get them)` };
  }
}

let viewMounted = false;

/**
 * crun refuses a hybrid layout even with cgroups disabled. On such a host berth's rootless user
 * namespace gets its own cgroup namespace too (userns.ts), so cgroup2 can be mounted over
 * /sys/fs/cgroup in berth's private mount namespace, rooted at berth's own cgroup as
 * /proc/self/cgroup then says ("0::/"): crun sees cgroup v2. The host's mounts are untouched
 * (private propagation). On a v2 host nothing is done: the normal path stays normal. Returns the
 * layout the host had, for rootlessCgroupMode.
 */
export async function cgroupViewInUserNamespace(root = CGROUP_ROOT): Promise<CgroupLayout> {
  const layout = viewMounted ? 'hybrid' : detectCgroupLayout(root);
  if (viewMounted || layout !== 'hybrid') return layout;
  const r = await runProc('mount', ['-t', 'cgroup2', 'cgroup2', root]);
  if (r.exitCode !== 0) throw new RuntimeError('cgroups-unsupported', `cannot mount cgroup2 on ${root} in berth's user namespace: ${r.stderr.trim()}`, { context: { layout } });
  viewMounted = true;
  return layout;
}

export function removeCgroup(cgroupPath: string, root = CGROUP_ROOT): void {
  try { fs.rmdirSync(path.join(root, cgroupPath)); } catch { /* gone or busy */ }
}
