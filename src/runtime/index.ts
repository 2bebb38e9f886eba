/**
 * Containers: OCI config from image + options, the crun driver, state, lifecycle, logs, exec.
 * The CLI and the pod/volume modules use only what is exported here.
 */
export type { ContainerOptions, ContainerRecord, RunState, RuntimeImage, MountRequest, HealthCheck, HealthOnFailure, SdNotifyMode, CgroupsMode, ContainerStatus } from './types.js';
export { createContainer, stopContainer, killContainer, removeContainer, removeContainerVolumes, waitContainer, cleanupRuntime, containerState, lookupContainer, withContainerLock, DEFAULT_STOP_TIMEOUT } from './lifecycle.js';
export { startContainer, type LaunchMode, type StartResult } from './launch.js';
export { listRecords, findRecord, requireRecord, readState, containerDir, containerRunDir, logFile } from './state.js';
export { execInContainer, type ExecOptions } from './exec.js';
export { streamLogs, type LogsOptions } from './logs.js';
export { waitHealthy, runHealthCheck, healthcheckRun, type HealthcheckResult } from './health.js';
export { readHealth, type HealthState, type HealthStatus, type HealthLogEntry } from './health-state.js';
export { readHealthTimers, scheduleHealthChecks } from './health-timer.js';
export { sdNotify } from './notify.js';
export { buildOciConfig, DEFAULT_CAPABILITIES, normalizeCapability } from './oci-config.js';
export * as flagValues from './options.js';
export { parseSignal } from './signals.js';
export { detectCgroupLayout, requireCgroupV2 } from './cgroups.js';
