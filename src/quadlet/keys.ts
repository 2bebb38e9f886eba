/**
 * Which keys each Quadlet section accepts (Quadlet 5.4, podman-systemd.unit(5)) and the simple
 * key -> flag tables the translators walk. Keys with their own logic (Volume=, Network=, User=,
 * ...) are listed as supported here and handled in the translator.
 */
import type { Kind } from './model.js';

export const SECTION_OF: Record<Kind, string> = {
  container: 'Container',
  volume: 'Volume',
  network: 'Network',
  pod: 'Pod',
};

/** Quadlet sections of kinds berth does not translate yet: named in "wrong section" errors. */
export const OTHER_QUADLET_SECTIONS = ['Kube', 'Image', 'Build'];

const CONTAINER_KEYS = [
  'AddCapability', 'AddDevice', 'AddHost', 'Annotation', 'AutoUpdate', 'CgroupsMode', 'ContainerName',
  'ContainersConfModule', 'DNS', 'DNSOption', 'DNSSearch', 'DropCapability', 'Entrypoint', 'Environment',
  'EnvironmentFile', 'EnvironmentHost', 'Exec', 'ExposeHostPort', 'GIDMap', 'GlobalArgs', 'Group', 'GroupAdd',
  'HealthCmd', 'HealthInterval', 'HealthLogDestination', 'HealthMaxLogCount', 'HealthMaxLogSize',
  'HealthOnFailure', 'HealthRetries', 'HealthStartPeriod', 'HealthStartupCmd', 'HealthStartupInterval',
  'HealthStartupRetries', 'HealthStartupSuccess', 'HealthStartupTimeout', 'HealthTimeout', 'HostName', 'IP',
  'IP6', 'Image', 'Label', 'LogDriver', 'LogOpt', 'Mask', 'Mount', 'Network', 'NetworkAlias', 'NoNewPrivileges',
  'Notify', 'PidsLimit', 'Pod', 'PodmanArgs', 'PublishPort', 'Pull', 'ReadOnly', 'ReadOnlyTmpfs', 'RemapGid',
  'RemapUid', 'RemapUidSize', 'RemapUsers', 'Rootfs', 'RunInit', 'SeccompProfile', 'Secret',
  'SecurityLabelDisable', 'SecurityLabelFileType', 'SecurityLabelLevel', 'SecurityLabelNested',
  'SecurityLabelType', 'ServiceName', 'ShmSize', 'StartWithPod', 'StopSignal', 'StopTimeout', 'SubGIDMap',
  'SubUIDMap', 'Sysctl', 'Timezone', 'Tmpfs', 'UIDMap', 'Ulimit', 'Unmask', 'User', 'UserNS', 'VolatileTmp',
  'Volume', 'WorkingDir',
];

const VOLUME_KEYS = [
  'ContainersConfModule', 'Copy', 'Device', 'Driver', 'GlobalArgs', 'Group', 'Image', 'Label', 'Options',
  'PodmanArgs', 'ServiceName', 'Type', 'User', 'VolumeName',
];

const NETWORK_KEYS = [
  'ContainersConfModule', 'DisableDNS', 'DNS', 'Driver', 'Gateway', 'GlobalArgs', 'Internal', 'IPAMDriver',
  'IPRange', 'IPv6', 'Label', 'NetworkName', 'Options', 'PodmanArgs', 'ServiceName', 'Subnet',
];

const POD_KEYS = [
  'AddHost', 'ContainersConfModule', 'DNS', 'DNSOption', 'DNSSearch', 'GIDMap', 'GlobalArgs', 'IP', 'IP6',
  'Network', 'NetworkAlias', 'PodName', 'PodmanArgs', 'PublishPort', 'RemapGid', 'RemapUid', 'RemapUidSize',
  'RemapUsers', 'ServiceName', 'ShmSize', 'SubGIDMap', 'SubUIDMap', 'UIDMap', 'UserNS', 'Volume',
];

export const SUPPORTED_KEYS: Record<Kind, ReadonlySet<string>> = {
  container: new Set(CONTAINER_KEYS),
  volume: new Set(VOLUME_KEYS),
  network: new Set(NETWORK_KEYS),
  pod: new Set(POD_KEYS),
};

export const QUADLET_SECTION_KEYS: ReadonlySet<string> = new Set(['DefaultDependencies']);

/**
 * Keys systemd itself knows in [Unit]/[Service]/[Install] that share a name with a Quadlet key:
 * seeing these there is not a misplaced Quadlet key.
 */
export const SYSTEMD_KEYS_SHARED_WITH_QUADLET: ReadonlySet<string> = new Set([
  'Environment', 'EnvironmentFile', 'User', 'Group', 'Type', 'DefaultDependencies', 'WorkingDirectory', 'NoNewPrivileges',
]);

// ---- flag tables -------------------------------------------------------------------------------

/** Single-valued keys: the last value, if not empty, becomes `flag value`. */
export const CONTAINER_STRING_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['Timezone', '--tz'],
  ['PidsLimit', '--pids-limit'],
  ['ShmSize', '--shm-size'],
  ['Entrypoint', '--entrypoint'],
  ['WorkingDir', '--workdir'],
  ['IP', '--ip'],
  ['IP6', '--ip6'],
  ['HostName', '--hostname'],
  ['StopSignal', '--stop-signal'],
  ['StopTimeout', '--stop-timeout'],
  ['Pull', '--pull'],
];

/** Repeatable keys: every value becomes `flag value`. */
export const CONTAINER_ALL_STRING_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['NetworkAlias', '--network-alias'],
  ['Ulimit', '--ulimit'],
  ['DNS', '--dns'],
  ['DNSOption', '--dns-option'],
  ['DNSSearch', '--dns-search'],
  ['GroupAdd', '--group-add'],
  ['AddHost', '--add-host'],
  ['Tmpfs', '--tmpfs'],
];

/** Boolean keys: `flag` when true, `flag=false` when false, nothing when unset. */
export const CONTAINER_BOOL_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['RunInit', '--init'],
  ['EnvironmentHost', '--env-host'],
  ['ReadOnlyTmpfs', '--read-only-tmpfs'],
];

/** Boolean keys that only add a fixed argument pair when true. */
export const CONTAINER_SECURITY_BOOLS: ReadonlyArray<readonly [string, string[]]> = [
  ['NoNewPrivileges', ['--security-opt=no-new-privileges']],
  ['SecurityLabelDisable', ['--security-opt', 'label=disable']],
  ['SecurityLabelNested', ['--security-opt', 'label=nested']],
];

/** Single-valued keys rendered as `--security-opt PREFIXvalue`. */
export const CONTAINER_SECURITY_STRINGS: ReadonlyArray<readonly [string, string]> = [
  ['SecurityLabelType', 'label=type:'],
  ['SecurityLabelFileType', 'label=filetype:'],
  ['SecurityLabelLevel', 'label=level:'],
];

/** Keys holding `k=v` words; rendered sorted by key as `flag k=v`. */
export const CONTAINER_KEYVAL_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['Environment', '--env'],
  ['Label', '--label'],
  ['Annotation', '--annotation'],
];

/** Health keys, in the order Quadlet emits them, as `--health-NAME value`. */
export const HEALTH_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['HealthCmd', '--health-cmd'],
  ['HealthInterval', '--health-interval'],
  ['HealthOnFailure', '--health-on-failure'],
  ['HealthLogDestination', '--health-log-destination'],
  ['HealthMaxLogCount', '--health-max-log-count'],
  ['HealthMaxLogSize', '--health-max-log-size'],
  ['HealthRetries', '--health-retries'],
  ['HealthStartPeriod', '--health-start-period'],
  ['HealthTimeout', '--health-timeout'],
  ['HealthStartupCmd', '--health-startup-cmd'],
  ['HealthStartupInterval', '--health-startup-interval'],
  ['HealthStartupRetries', '--health-startup-retries'],
  ['HealthStartupSuccess', '--health-startup-success'],
  ['HealthStartupTimeout', '--health-startup-timeout'],
];

export const NETWORK_BOOL_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['DisableDNS', '--disable-dns'],
  ['Internal', '--internal'],
  ['IPv6', '--ipv6'],
];

export const NETWORK_STRING_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['IPAMDriver', '--ipam-driver'],
  ['Driver', '--driver'],
];

export const NETWORK_KEYVAL_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['Options', '--opt'],
  ['Label', '--label'],
];

export const POD_STRING_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['IP', '--ip'],
  ['IP6', '--ip6'],
  ['ShmSize', '--shm-size'],
];

export const POD_ALL_STRING_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['NetworkAlias', '--network-alias'],
  ['DNS', '--dns'],
  ['DNSOption', '--dns-option'],
  ['DNSSearch', '--dns-search'],
  ['AddHost', '--add-host'],
];

/** Keys whose value must be a systemd boolean (checked up front so junk is an error, not ignored). */
export const BOOLEAN_KEYS: Record<Kind, ReadonlySet<string>> = {
  container: new Set(['EnvironmentHost', 'NoNewPrivileges', 'ReadOnly', 'ReadOnlyTmpfs', 'RunInit',
    'SecurityLabelDisable', 'SecurityLabelNested', 'StartWithPod', 'VolatileTmp']),
  volume: new Set(['Copy']),
  network: new Set(['DisableDNS', 'Internal', 'IPv6']),
  pod: new Set(),
};
