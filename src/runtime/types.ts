/**
 * The shapes the runtime passes around: what a user asked for (ContainerOptions, already parsed
 * from flags), what berth remembers about a container (ContainerRecord, persistent) and what is
 * true right now (RunState, volatile, under the run root).
 */

/** The parts of an OCI image config file the runtime reads. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  config?: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    StopSignal?: string;
    Volumes?: Record<string, object> | null;
    ExposedPorts?: Record<string, object> | null;
    Labels?: Record<string, string> | null;
  };
}

/** What the runtime needs of an image: structurally the same as src/image's ImageHandle. */
export interface RuntimeImage {
  id: string;
  digest: string;
  names: string[];
  config: ImageConfigFile;
  layerDirs: string[];
}

export interface BindMount { kind: 'bind'; source: string; destination: string; options: string[] }
/** `anonymous`: made for this container (-v /path, the image's Volumes); removed with `rm -v` and `--rm`. */
export interface VolumeMount { kind: 'volume'; name: string; destination: string; options: string[]; anonymous?: boolean }
export interface TmpfsMount { kind: 'tmpfs'; destination: string; options: string[] }
export type MountRequest = BindMount | VolumeMount | TmpfsMount;

export interface Ulimit { name: string; soft: number; hard: number }
export interface DeviceRequest { hostPath: string; containerPath: string; permissions: string }
export type HealthOnFailure = 'none' | 'kill' | 'restart' | 'stop';
/** --health-*: intervalMs 0 means "disable" (checks only when asked: `berth healthcheck run`). */
export interface HealthCheck {
  test: string[]; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number; onFailure?: HealthOnFailure;
  maxLogCount?: number;        // log entries kept (0: all); Podman's default 5
  maxLogSize?: number;         // characters of output kept per entry (0: all); Podman's default 500
  logDestination?: string;     // 'local' (default), or a directory that also gets <id>-healthcheck.log
  startup?: StartupHealthCheck;
}
/** --health-startup-*: gates the regular check until it passed `success` times (0: once); `retries` failures (0: never) restart the container. */
export interface StartupHealthCheck { test: string[]; intervalMs: number; timeoutMs: number; retries: number; success: number }

export type SdNotifyMode = 'conmon' | 'container' | 'healthy' | 'ignore';
export type CgroupsMode = 'enabled' | 'disabled' | 'no-conmon' | 'split';

/** Everything `run`/`create` accept, validated and normalised (no raw flag strings left). */
export interface ContainerOptions {
  image: string;
  name?: string;
  command: string[];           // CMD override (empty: the image's)
  entrypoint?: string[];       // override ([] clears the image's)
  env: Record<string, string>; // explicit -e / --env-file / --env-host, merged in flag order
  labels: Record<string, string>;
  annotations: Record<string, string>;
  user?: string;
  groupAdd: string[];
  workdir?: string;
  readOnly: boolean;
  readOnlyTmpfs: boolean;
  mounts: MountRequest[];
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  seccompProfile?: string;     // path, or 'unconfined'
  labelDisable: boolean;
  hostname?: string;
  ulimits: Ulimit[];
  sysctls: Record<string, string>;
  init: boolean;
  stopSignal?: string;
  stopTimeout?: number;        // seconds
  devices: DeviceRequest[];
  shmSize?: number;            // bytes
  memory?: number;             // bytes
  pidsLimit?: number;
  tz?: string;
  healthCheck?: HealthCheck;
  network: string[];           // raw --network values (parsed by src/network)
  publish: string[];           // raw -p values (parsed by src/network)
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addHosts: string[];
  sdnotify: SdNotifyMode;
  cgroups: CgroupsMode;
  logDriver: string;
  rm: boolean;
  /** -t: a terminal for the process when run in the foreground (see launch.ts). */
  tty?: boolean;
  /** -i: with -t, what is typed goes to the process's terminal. */
  interactive?: boolean;
  systemdUnit?: string;        // PODMAN_SYSTEMD_UNIT when started by a generated unit
  pod?: string;                // id of the pod this container belongs to (src/pod); informational for the runtime
  joinNamespaces?: Partial<Record<'ipc' | 'uts' | 'pid', string>>;  // join these existing namespaces (ns file paths, e.g. a pod's) instead of new ones
}

/** Persistent: <root>/containers/<id>/config.json. */
export interface ContainerRecord {
  id: string;
  name: string;
  created: string;             // ISO time
  image: { id: string; digest: string; name: string; layerDirs: string[]; config: ImageConfigFile };
  options: ContainerOptions;
  stopSignal: string;          // resolved: flag > image > SIGTERM
  stopTimeout: number;         // seconds
  cgroupParent?: string;       // absolute cgroup path (from the creating process for --cgroups=split)
}

export type ContainerStatus = 'created' | 'running' | 'exited' | 'stopped';

/** Volatile: <runroot>/containers/<id>/state.json. */
export interface RunState {
  status: ContainerStatus;
  bootId: string;
  pid?: number;
  pidStartTime?: string;       // /proc/<pid>/stat field 22: tells a reused PID apart
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  mounted?: boolean;
  networkSetUp?: boolean;
  crunCreated?: boolean;
  supervisor?: 'systemd' | 'monitor' | 'foreground';
  ports?: { hostIp: string; hostPort: number; containerPort: number; protocol: string; range: number }[];
  ips?: string[];
  netnsPath?: string;
}
