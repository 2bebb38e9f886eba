/**
 * What the pod commands and the container commands share: finding pods from names, IDs and
 * --pod-id-file files; joining a container to its pod (`run/create --pod`); starting a member's
 * infra first (`start`); the pod's exit policy after a member is gone (`rm`, `cleanup`).
 */
import fs from 'node:fs';
import { PodError } from '../../errors/index.js';
import type { StoragePaths } from '../../paths/index.js';
import type { ContainerOptions } from '../../runtime/index.js';
import { applyExitPolicy, ensurePodInfra, findPod, joinPodOptions, listPods, podNetwork, readPod, requirePod, type PodRecord } from '../../pod/index.js';

const strs = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String)).filter(Boolean);

export function readPodIdFile(file: string): string | undefined {
  try { return fs.readFileSync(file, 'utf8').trim() || undefined; } catch { return undefined; }
}

/**
 * Pods named by positional args, --pod-id-file files, or --all. With `ignore`, a missing
 * pod (or id file) is skipped instead of failing (Quadlet's ExecStop/ExecStopPost use it).
 */
export function podsOf(argv: Record<string, unknown>, paths: StoragePaths, opts: { ignore?: boolean } = {}): PodRecord[] {
  if (argv.all) return listPods(paths);
  const refs = strs(argv.pods ?? argv.pod);
  for (const file of strs(argv['pod-id-file'])) {
    const id = readPodIdFile(file);
    if (id) refs.push(id);
    else if (!opts.ignore) throw new PodError('pod-id-file', `reading pod ID file ${file}: no such file or empty`, { context: { file } });
  }
  if (refs.length === 0 && !opts.ignore) throw new PodError('no-pod', 'name at least one pod (or --pod-id-file, or --all)', {});
  const out: PodRecord[] = [];
  for (const ref of refs) {
    const pod = opts.ignore ? findPod(paths, ref) : requirePod(paths, ref);
    if (pod && !out.some((p) => p.id === pod.id)) out.push(pod);
  }
  return out;
}

/**
 * `run/create --pod NAME` or `--pod-id-file FILE` (Quadlet's Pod=): the pod's infra is started if
 * it is not running (its namespaces must exist), and the container's options join the pod.
 */
export async function joinPod(paths: StoragePaths, ref: { pod?: string; podIdFile?: string }, options: ContainerOptions): Promise<ContainerOptions> {
  let name = ref.pod;
  if (ref.podIdFile) {
    name = readPodIdFile(ref.podIdFile);
    if (!name) throw new PodError('pod-id-file', `reading pod ID file ${ref.podIdFile}: no such file or empty`, { context: { file: ref.podIdFile } });
  }
  if (!name) return options;
  const pod = findPod(paths, name);
  if (!pod) throw new PodError('no-such-pod', `no pod with name or ID "${name}" found: no such pod`, { context: { pod: name } });
  const joined = joinPodOptions(paths, pod, options, podNetwork(paths, pod));
  await ensurePodInfra(paths, pod);
  return joined;
}

/**
 * After a container of a pod exited or was removed (`rm`, the monitor's `cleanup`): a pod created
 * with --exit-policy=stop stops once its last container is gone. Never fails the caller.
 */
export async function podExitPolicy(paths: StoragePaths, record: { id: string; name: string; options: { pod?: string } }): Promise<void> {
  if (!record.options.pod) return;
  try {
    await applyExitPolicy(paths, record);
  } catch (error) {
    process.stderr.write(`Warning: stopping the pod of ${record.name} (exit policy): ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/**
 * `berth start` of a pod's container: the pod's infra (and its namespaces) must run first, as
 * Podman does. Starting the infra itself goes through the pod ('infra-started': nothing more to do).
 */
export async function startPodInfraFor(paths: StoragePaths, record: { id: string; name: string; options: { pod?: string } }): Promise<'infra-started' | 'ready' | 'no-pod'> {
  if (!record.options.pod) return 'no-pod';
  const pod = readPod(paths, record.options.pod);
  if (!pod) throw new PodError('no-such-pod', `container ${record.name} belongs to pod ${record.options.pod.slice(0, 12)}, which no longer exists`, { context: { container: record.name, pod: record.options.pod } });
  await ensurePodInfra(paths, pod);
  return record.id === pod.infraId ? 'infra-started' : 'ready';
}
