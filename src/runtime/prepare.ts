/**
 * Everything between "a container record" and "a bundle crun can run": mount the rootfs, set up
 * the network, write /etc files, resolve the user in the image, gather host facts, build and write
 * config.json, check the command exists. On any failure what was done is undone by the caller
 * (lifecycle.cleanupRuntime), which relies only on state recorded before each step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import { parseNetworkOption, parsePublish, privateNoneResult, setupContainerNetwork, type ContainerNetworkResult, type NetworkMode, type PortMapping } from '../network/index.js';
import type { ContainerRecord, RunState } from './types.js';
import { mountRootfs } from './rootfs.js';
import { terminalSize } from './helpers.js';
import { writeEtcFiles } from './etc-files.js';
import { resolveInRoot, checkCommand, mkdirInRoot } from './command-check.js';
import { resolveUser } from './users.js';
import { buildOciConfig, type HostFacts, type OciSpec, type ResolvedDevice } from './oci-config.js';
import { deviceCgroupUsable, kernelRelease, readRlimitHard, warnOnce } from './host.js';
import { availableControllers, containerCgroupPath, detectCgroupLayout, cgroupViewInUserNamespace } from './cgroups.js';
import { DEFAULT_SECCOMP_PROFILE, loadSeccompProfile, seccompArch } from './seccomp.js';
import { SECCOMP_BPF_ANNOTATION, compiledSeccomp } from './seccomp-cache.js';
import { bundleDir, containerDir, containerRunDir, readState, writeState, findRecord } from './state.js';
import { resolveVolumeMounts } from './volumes.js';

export const BERTH_VERSION = '0.1.0';
export const CATATONIT = '/usr/bin/catatonit';

export function networkModeOf(paths: StoragePaths, record: ContainerRecord): NetworkMode {
  const values = record.options.network;
  if (values.length === 0 && (paths.rootless || !fs.existsSync('/usr/lib/podman/netavark'))) return { kind: 'none' };
  const mode = parseNetworkOption(values);
  if (mode.kind === 'container') {
    const other = findRecord(paths, mode.container);
    const otherState = other ? readState(paths, other.id) : undefined;
    // A --network=none container's namespace has no file (privateNetns): joined through its init.
    if (other && otherState?.status === 'running' && !otherState.netnsPath && otherState.pid && privateNetns(paths, other, networkModeOf(paths, other))) {
      return { kind: 'ns', path: `/proc/${otherState.pid}/ns/net` };
    }
    if (!other || otherState?.status !== 'running' || !otherState.netnsPath) {
      throw new RuntimeError('network-container', `--network container:${mode.container}: no running container with that name or ID and its own network namespace`, { context: { container: mode.container } });
    }
    return { kind: 'ns', path: otherState.netnsPath };
  }
  return mode;
}

/**
 * --network=none outside a pod (rootful): crun makes the namespace, nothing is set up or torn
 * down (network/index.ts privateNoneResult). A pod's infra keeps a namespace file its members
 * join; rootless keeps its own path (src/network).
 */
export function privateNetns(paths: StoragePaths, record: ContainerRecord, mode: NetworkMode): boolean {
  return mode.kind === 'none' && !record.options.pod && !paths.rootless;
}

export function publishedPorts(record: ContainerRecord): PortMapping[] {
  return record.options.publish.flatMap((p) => parsePublish(p));
}

function readImageFile(rootfs: string, file: string): string {
  const host = resolveInRoot(rootfs, file);
  if (!host) return '';
  try { return fs.readFileSync(host, 'utf8'); } catch { return ''; }
}

export function gatherHostFacts(record: ContainerRecord, cgroupParent: string | undefined): HostFacts {
  const layout = detectCgroupLayout();
  const limits = readRlimitHard();
  const deviceOk = record.options.cgroups !== 'disabled' && deviceCgroupUsable(undefined, limits);
  if (!deviceOk && record.options.cgroups !== 'disabled') warnOnce('the device cgroup filter needs RLIMIT_MEMLOCK raised (CAP_SYS_RESOURCE), which is not permitted here: containers run without a device allow-list; only the default device nodes are created');
  const seccompOpt = record.options.seccompProfile;
  let seccompProfile: HostFacts['seccompProfile'];
  if (seccompOpt !== 'unconfined') {
    const file = seccompOpt ?? DEFAULT_SECCOMP_PROFILE;
    if (seccompOpt !== undefined || fs.existsSync(file)) seccompProfile = loadSeccompProfile(file);
    else warnOnce(`no seccomp profile at ${file}: containers run without seccomp filtering (install golang-github-containers-common)`);
  }
  return {
    rlimitHard: limits,
    deviceCgroupUsable: deviceOk,
    controllers: availableControllers(cgroupParent ?? '/'),
    cgroupV2: layout === 'v2',
    arch: seccompArch(),
    kernel: kernelRelease(),
    seccompProfile,
  };
}

function resolveDevices(record: ContainerRecord): ResolvedDevice[] {
  return record.options.devices.map((d) => {
    let st: fs.Stats;
    try { st = fs.statSync(d.hostPath); } catch {
      throw new RuntimeError('device-not-found', `device ${d.hostPath} does not exist`, { context: { file: d.hostPath } });
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new RuntimeError('not-a-device', `${d.hostPath} is not a device`, { context: { file: d.hostPath } });
    const rdev = st.rdev;
    const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
    const minor = (rdev & 0xff) | Number((BigInt(rdev) >> 12n) & ~0xffn);
    return { containerPath: d.containerPath, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, permissions: d.permissions };
  });
}

export interface PreparedBundle { bundle: string; spec: OciSpec; network: ContainerNetworkResult; warnings: string[] }

/** Each step records itself in `state` before it acts, so cleanupRuntime can undo after a crash. */
export async function prepareBundle(paths: StoragePaths, record: ContainerRecord, state: RunState, o: { terminal?: boolean } = {}): Promise<PreparedBundle> {
  const dir = containerDir(paths, record.id);
  const runDir = containerRunDir(paths, record.id);
  fs.mkdirSync(runDir, { recursive: true });

  // Validate what needs no side effect first: bad input then leaves nothing behind.
  for (const m of record.options.mounts) {
    if (m.kind === 'bind' && !fs.existsSync(m.source)) {
      throw new RuntimeError('bind-source-missing', `bind mount source ${m.source} does not exist: no such file or directory`, { context: { file: m.source } });
    }
  }
  const devices = resolveDevices(record);
  let tzFile: string | undefined;
  if (record.options.tz) {
    tzFile = record.options.tz === 'local' ? '/etc/localtime' : path.join('/usr/share/zoneinfo', record.options.tz);
    if (record.options.tz.includes('..') || !fs.existsSync(tzFile)) throw new RuntimeError('invalid-tz', `--tz ${record.options.tz}: no such time zone`, { context: { tz: record.options.tz } });
  }
  if (record.options.init && !fs.existsSync(CATATONIT)) {
    throw new RuntimeError('init-missing', `--init needs ${CATATONIT} (Debian package catatonit)`, { context: { file: CATATONIT } });
  }
  const mode = networkModeOf(paths, record);
  const ports = publishedPorts(record);

  if (paths.userns) await cgroupViewInUserNamespace();
  state.mounted = true;
  writeState(paths, record.id, state);
  // The lock helper mounts the overlay (mount(2)) while the network, the /etc files and the host
  // facts are prepared, none of which reads the root file system.
  const mounting = mountRootfs(dir, record.image.layerDirs, { volatile: record.options.rm, rootless: paths.rootless });
  let hostname: string, network: ContainerNetworkResult, etc: ReturnType<typeof writeEtcFiles>, cgroupsPath: string | undefined, host: HostFacts;
  try {
    hostname = record.options.hostname ?? (mode.kind === 'host' ? fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : record.id.slice(0, 12));
    const networkRequest = {
      containerId: record.id, containerName: record.name, mode, ports, hostname,
      dns: record.options.dns, dnsSearch: record.options.dnsSearch, dnsOptions: record.options.dnsOptions, addHosts: record.options.addHosts,
    };
    if (privateNetns(paths, record, mode)) {
      network = privateNoneResult(networkRequest);   // nothing to undo: no marker, no state write
    } else {
      state.networkSetUp = true;
      writeState(paths, record.id, state);
      network = await setupContainerNetwork(paths, networkRequest);
    }
    state.netnsPath = network.netnsPath;
    state.ports = network.ports;
    state.ips = network.ips;
    if (state.networkSetUp) writeState(paths, record.id, state);

    etc = writeEtcFiles(runDir, {
      hostname, hostsFile: network.hostsFile, resolvConf: network.resolvConf,
      name: record.name, id: record.id, image: record.image.name, imageId: record.image.id,
    }, BERTH_VERSION, paths.rootless);
    cgroupsPath = containerCgroupPath(record.id, record.options.cgroups, record.cgroupParent);
    host = gatherHostFacts(record, cgroupsPath ? path.posix.dirname(cgroupsPath) : undefined);
  } catch (error) {
    await mounting.catch(() => undefined);   // settled before the caller's cleanup unmounts
    throw error;
  }
  const rootfs = await mounting;

  const userSpec = record.options.user ?? record.image.config.config?.User ?? '';
  const user = resolveUser(userSpec, readImageFile(rootfs, '/etc/passwd'), readImageFile(rootfs, '/etc/group'), record.options.groupAdd);
  const volumes = await resolveVolumeMounts(paths, record, rootfs);
  const { spec, warnings } = buildOciConfig({
    record, rootfs, user, hostname, etc,
    network: network.netnsPath ? { kind: 'path', path: network.netnsPath } : mode.kind === 'host' ? { kind: 'host' } : { kind: 'none' },
    cgroupsPath, initBinary: record.options.init ? CATATONIT : undefined, devices, volumes, tzFile, host, terminal: o.terminal, consoleSize: o.terminal ? terminalSize() : undefined, rootless: paths.rootless,
  });
  for (const w of warnings) warnOnce(w);
  if (spec.linux.seccomp && spec.annotations[SECCOMP_BPF_ANNOTATION] === undefined) {
    const bpf = await compiledSeccomp(paths, spec.linux.seccomp, host.kernel);
    if (bpf) spec.annotations[SECCOMP_BPF_ANNOTATION] = bpf;
  }

  const mountPoints = spec.mounts.map((m) => m.destination);
  checkCommand(rootfs, spec.process.args[record.options.init ? 2 : 0], spec.process.env, spec.process.cwd, mountPoints);
  checkWorkdir(rootfs, spec.process.cwd, record);

  const bundle = bundleDir(paths, record.id);
  fs.mkdirSync(bundle, { recursive: true });
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  return { bundle, spec, network, warnings };
}

/** Podman creates a missing workdir only when it came from the image; an explicit one must exist. */
function checkWorkdir(rootfs: string, cwd: string, record: ContainerRecord): void {
  const host = resolveInRoot(rootfs, cwd);
  if (host && fs.existsSync(host)) return;
  if (record.options.workdir === undefined || record.options.mounts.some((m) => cwd.startsWith(m.destination))) {
    mkdirInRoot(rootfs, cwd);
    return;
  }
  throw new RuntimeError('workdir-missing', `workdir ${cwd} does not exist in the container`, { context: { workdir: cwd } });
}
