/**
 * Booting the throwaway systemd: the launcher joins a fresh child cgroup, then `unshare` makes
 * new pid/mount/cgroup/uts/ipc/net namespaces; inside, an overlay of the host's / (tmpfs upper
 * layer) becomes the root, and systemd runs as PID 1 with a bare boot target. Nothing written
 * inside reaches the host except through the bound folders.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/**
 * Units that would act on the host kernel (modules, sysctl, binfmt) or the host /dev, or only cost
 * boot time in a box that lives for one test (journal flush, utmp, sysusers: the users already exist).
 */
export const MASKED_UNITS = [
  'modprobe@.service', 'systemd-update-utmp.service', 'systemd-update-utmp-runlevel.service', 'systemd-sysusers.service',
  'systemd-sysctl.service', 'systemd-binfmt.service', 'systemd-modules-load.service',
  'kmod-static-nodes.service', 'systemd-tmpfiles-setup-dev.service', 'proc-sys-fs-binfmt_misc.automount',
  'systemd-journal-flush.service', 'systemd-udevd.service', 'systemd-udev-trigger.service',
  'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket', 'systemd-remount-fs.service',
  'systemd-random-seed.service', 'systemd-pcrphase-sysinit.service', 'systemd-firstboot.service',
  'systemd-hwdb-update.service', 'systemd-machine-id-commit.service', 'dev-hugepages.mount', 'dev-mqueue.mount',
  'sys-kernel-debug.mount', 'sys-kernel-tracing.mount', 'sys-kernel-config.mount', 'sys-fs-fuse-connections.mount',
];

/**
 * Runs inside the new namespaces as the future PID 1: $1 = state dir (holds mnt/, binds, tmpfs),
 * $2 = hostname. Ends by exec'ing systemd.
 */
const BOOT_SCRIPT = String.raw`
set -eu
state=$1
mount --make-rprivate /
M=$state/mnt
mount -t tmpfs -o mode=755 sysbox "$M"
mkdir -p "$M/upper" "$M/work" "$M/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$M/upper,workdir=$M/work" "$M/root"
R=$M/root
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount -t cgroup2 none "$R/sys/fs/cgroup"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
while IFS= read -r d; do [ -n "$d" ] || continue; mkdir -p "$R$d"; mount --bind "$d" "$R$d"; done < "$state/binds"
while IFS= read -r d; do [ -n "$d" ] || continue; mkdir -p "$R$d"; mount -t tmpfs -o mode=755 tmpfs "$R$d"; done < "$state/tmpfs"
mkdir -p "$R/run/systemd/system"
printf '[Unit]\nDescription=sysbox\nWants=dbus.socket\n' > "$R/run/systemd/system/sysbox.target"
while IFS= read -r u; do ln -sf /dev/null "$R/run/systemd/system/$u"; done < "$state/masked"
hostname "$2"; echo "$2" > "$R/etc/hostname"
ip link set lo up
cd "$R"; mkdir -p .oldroot; pivot_root . .oldroot; umount -l /.oldroot; rmdir /.oldroot 2>/dev/null || true
export container=berth-sysbox
exec /lib/systemd/systemd --system --unit=sysbox.target --log-target=console --log-level=warning
`;

/** Starts the launcher; returns its PID (the `unshare` process, parent of the sysbox's PID 1). */
export function launch(stateDir: string, cgroupDir: string, hostname: string, logPath: string): number {
  const log = openSync(logPath, 'a');
  try {
    const child = spawn('bash', ['-c', 'echo $$ > "$0/cgroup.procs" && exec unshare --pid --fork --mount --cgroup --uts --ipc --net bash -c "$1" sysbox "$2" "$3"',
      cgroupDir, BOOT_SCRIPT, stateDir, hostname], {
      detached: true, stdio: ['ignore', log, log], env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    child.unref();
    if (child.pid === undefined) throw new Error('sysbox: could not spawn the launcher (bash missing?)');
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Field 22 of /proc/PID/stat: tells a live owner from a recycled PID. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Gone, or a zombie: the cgroup empties before a dying PID 1 has finished exiting (it waits in
 * the kernel for the rest of its pid namespace), so an empty cgroup alone is not "no process".
 */
export function hasExited(pid: number): boolean {
  try {
    return /^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
