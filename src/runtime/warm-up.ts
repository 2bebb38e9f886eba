/**
 * The build's code-cache warm-up (bin/cli-code-cache.cjs, src/cli/fast-main.ts warmUp) for the
 * container start path: V8 caches only functions that ran, and every function of `berth run` that
 * the cache lacks is compiled again on every start (~10 ms of CPU). So the warm-up creates,
 * prepares and removes a container in scratch storage, through the real code, with two steps
 * stood in for while `warmUpMode.rootfs` is set: the overlay mount (a scratch dir is the root file
 * system; no root privileges needed) and the seccomp compile (no crun run at build time).
 * Nothing is started; everything stays under the scratch dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import type { ContainerOptions } from './types.js';
import { createContainer, removeContainer, cleanupRuntime, crunContext } from './lifecycle.js';
import { prepareBundle } from './prepare.js';
import { crunRunArgs } from './crun.js';
import { readState, pidFile } from './state.js';

export { warmUpMode } from './warm-up-mode.js';
import { warmUpMode } from './warm-up-mode.js';

export async function warmUpStartPath(scratch: string, options: ContainerOptions): Promise<void> {
  const paths: StoragePaths = { root: path.join(scratch, 'root'), runroot: path.join(scratch, 'run'), rootless: false };
  const rootfs = path.join(scratch, 'rootfs');
  for (const d of ['etc', 'bin', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
  fs.writeFileSync(path.join(rootfs, 'bin', 'true'), '', { mode: 0o755 });
  warmUpMode.rootfs = rootfs;
  try {
    const image = { id: 'f'.repeat(64), digest: `sha256:${'f'.repeat(64)}`, names: ['warm-up.invalid/none:1'], layerDirs: [rootfs],
      config: { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['true'], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [] } } };
    const record = await createContainer(paths, { options, image, imageName: image.names[0], replace: false });
    const state = readState(paths, record.id);
    const { bundle } = await prepareBundle(paths, record, state);
    crunRunArgs(crunContext(paths, record), record.id, bundle, pidFile(paths, record.id), path.join(scratch, 'crun.log'), false);
    await cleanupRuntime(paths, record, { ...state, status: 'exited', exitCode: 0, startedAt: new Date().toISOString() });
    await removeContainer(paths, record, { force: true, volumes: true });
  } finally {
    warmUpMode.rootfs = undefined;
  }
}
