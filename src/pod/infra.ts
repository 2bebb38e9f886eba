/**
 * The infra container: a pause-style catatonit (`catatonit -P`) that holds the pod's network
 * namespace (with its published ports) while containers come and go. It needs no image: berth
 * builds a minimal root file system once (catatonit is a static binary: one file and a few empty
 * mount points), shared by every pod and keyed by the binary's digest. `--infra-image` uses an
 * image instead, with the host's catatonit bind-mounted in.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { PodError } from '../errors/index.js';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerOptions, RuntimeImage } from '../runtime/index.js';
import { podNsPath } from './ns.js';
import { podsDir } from './store.js';
import type { PodRecord } from './types.js';

export const CATATONIT = '/usr/bin/catatonit';
export const INFRA_IMAGE_NAME = 'berth/infra:catatonit';
const IN_CONTAINER = '/catatonit';
const MOUNT_POINTS = ['dev', 'proc', 'sys', 'etc', 'run', 'tmp'];

function catatonitBytes(): Buffer {
  try { return fs.readFileSync(CATATONIT); } catch {
    throw new PodError('infra-missing', `pods need ${CATATONIT} for their infra container (Debian package catatonit), or --infra=false`, { context: { file: CATATONIT } });
  }
}

/** The minimal infra rootfs as an image the runtime can mount; built once, atomically. */
export function minimalInfraImage(paths: StoragePaths): RuntimeImage {
  const bytes = catatonitBytes();
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  const dir = path.join(podsDir(paths), 'infra-rootfs', digest.slice(0, 16));
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      fs.mkdirSync(tmp, { recursive: true, mode: 0o755 });
      for (const d of MOUNT_POINTS) fs.mkdirSync(path.join(tmp, d), { mode: 0o755 });
      fs.chmodSync(path.join(tmp, 'tmp'), 0o1777);
      fs.writeFileSync(path.join(tmp, IN_CONTAINER.slice(1)), bytes, { mode: 0o755 });
      fs.renameSync(tmp, dir);
    } catch (error) {
      fs.rmSync(tmp, { recursive: true, force: true });
      // Another berth built it at the same time: use theirs.
      if (!fs.existsSync(dir)) throw error;
    }
  }
  return {
    id: digest,
    digest: `sha256:${digest}`,
    names: [INFRA_IMAGE_NAME],
    config: { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Entrypoint: [IN_CONTAINER, '-P'] } },
    layerDirs: [dir],
  };
}

export function defaultInfraName(podId: string): string {
  return `${podId.slice(0, 12)}-infra`;
}

export interface InfraSpec { name: string; imageName: string; withImage: boolean; command?: string[]; underSystemd: boolean; systemdUnit?: string;
  dns: { dns: string[]; dnsSearch: string[]; dnsOptions: string[]; addHosts: string[] } }

/** The infra's container options: the pod's network, ports and namespaces, nothing else. */
export function infraOptions(paths: StoragePaths, pod: PodRecord, spec: InfraSpec): ContainerOptions {
  const join: NonNullable<ContainerOptions['joinNamespaces']> = {};
  if (pod.share.includes('ipc')) join.ipc = podNsPath(paths, pod.id, 'ipc');
  if (pod.share.includes('uts')) join.uts = podNsPath(paths, pod.id, 'uts');
  return {
    image: spec.imageName,
    name: spec.name,
    command: [],
    // With an image of the user's, catatonit comes from the host (bind-mounted below).
    entrypoint: spec.command ?? (spec.withImage ? [IN_CONTAINER, '-P'] : undefined),
    env: {},
    labels: {},
    annotations: { 'io.berth.pod.infra': 'true' },
    groupAdd: [],
    readOnly: false,
    readOnlyTmpfs: true,
    mounts: spec.withImage && !spec.command ? [{ kind: 'bind', source: CATATONIT, destination: IN_CONTAINER, options: ['ro'] }] : [],
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    labelDisable: false,
    hostname: pod.hostname,
    ulimits: [],
    sysctls: {},
    init: false,
    stopSignal: 'SIGTERM',
    stopTimeout: 10,
    devices: [],
    network: pod.network,
    publish: pod.publish,
    ...spec.dns,
    // The infra never notifies systemd itself: the pod unit is Type=forking with PIDFile=.
    sdnotify: 'ignore',
    // Under a service manager the infra stays in the pod unit's cgroup (its main process).
    cgroups: spec.underSystemd ? 'split' : 'enabled',
    logDriver: 'journald',
    rm: false,
    systemdUnit: spec.systemdUnit,
    pod: pod.id,
    joinNamespaces: join,
  };
}
