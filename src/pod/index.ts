/**
 * Pods: containers sharing network, IPC and UTS namespaces through an infra container
 * (catatonit), with ports published at the pod and volumes given to every member.
 * The CLI uses only what is exported here. Imports run pod → runtime (and network's parsers).
 */
export type { PodOptions, PodRecord, PodStatus, ShareKind, ExitPolicy } from './types.js';
export { listPods, findPod, requirePod, readPod, podDir, podRunDir } from './store.js';
export {
  createPod, startPod, stopPod, restartPod, removePod, ensurePodInfra, applyExitPolicy, podContainers, infraRecord, podNetwork,
  type CreatePodRequest, type PodActionResult, type RemovePodOptions,
} from './lifecycle.js';
export { podStatus, podMembers, inspectPod, combineStatus, type PodMember } from './status.js';
export { joinPodOptions, type PodNetwork } from './join.js';
export { parseShare, parseExitPolicy, validatePodOptions, DEFAULT_SHARE, POD_NAME_PATTERN } from './options.js';
export { podNsPath, podNamespacesReady } from './ns.js';
export { minimalInfraImage, CATATONIT, INFRA_IMAGE_NAME } from './infra.js';
