/**
 * One test file's world: a registry with fixture images, a private mount/cgroup/pid namespace
 * (test/support/ns.ts) and berth storage under /var/tmp; `berth(...)` runs the real binary inside.
 * `leftovers()` lists whatever a container left: mounts under the storage dirs, crun containers,
 * container state dirs, netns files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { buildImageLayout, pushImage, writeInsecureRegistriesConf, type ImageSpec } from '../../support/images.js';
import { startNamespace, type TestNamespace, type NsExecResult } from '../../support/ns.js';
import { fileURLToPath } from 'node:url';

export interface World {
  dir: string;
  ns: TestNamespace;
  registry: TestRegistry;
  images: Record<string, string>;
  berth(args: string[], options?: { env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<NsExecResult>;
  leftovers(): Promise<string[]>;
  stop(): Promise<void>;
}

// dist/test/integration/runtime/harness.js -> the repository root
export const BERTH = fileURLToPath(new URL('../../../../bin/berth.js', import.meta.url));

export async function startWorld(name: string, specs: Record<string, ImageSpec>): Promise<World> {
  const dir = fs.mkdtempSync(path.join('/var/tmp', `berth-rt-${name}-`));
  const registry = await startRegistry();
  let ns: TestNamespace | undefined;
  try {
    const images: Record<string, string> = {};
    for (const [key, spec] of Object.entries(specs)) images[key] = await pushImage(await buildImageLayout(spec), registry.host, `test/${key}`);
    const conf = writeInsecureRegistriesConf(dir, [registry.host]);
    ns = await startNamespace(name);
    const theNs = ns;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', CONTAINERS_REGISTRIES_CONF: conf };
    const flags = [`--root=${dir}/root`, `--runroot=${dir}/run`];
    return {
      dir, ns, registry, images,
      berth: (args, o = {}) => theNs.exec([process.execPath, BERTH, ...flags, ...args], { env: { ...env, ...o.env }, input: o.input, timeoutMs: o.timeoutMs }),
      leftovers: async () => {
        const found: string[] = [];
        const mounts = await theNs.exec(['cat', '/proc/self/mountinfo']);
        for (const line of mounts.stdout.split('\n')) if (line.includes(dir)) found.push(`mount: ${line.split(' ')[4]}`);
        const crun = await theNs.exec(['crun', '--root', `${dir}/run/crun`, 'list', '-q']);
        for (const id of crun.stdout.split('\n').filter(Boolean)) found.push(`crun: ${id}`);
        for (const d of [`${dir}/root/containers`, `${dir}/run/containers`, `${dir}/run/netns`]) {
          for (const e of fs.existsSync(d) ? fs.readdirSync(d) : []) if (!e.startsWith('.')) found.push(`dir: ${d}/${e}`);
        }
        // removed containers' dirs are deleted by berth's helper just after berth exits: give it a moment
        for (const trash of [`${dir}/root/containers/.trash`, `${dir}/run/containers/.trash`]) {
          for (let i = 0; i < 100 && fs.existsSync(trash) && fs.readdirSync(trash).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
          for (const e of fs.existsSync(trash) ? fs.readdirSync(trash) : []) found.push(`trash: ${trash}/${e}`);
        }
        return found;
      },
      stop: async () => {
        await theNs.stop();
        await registry.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await ns?.stop();
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** busybox PID 1 ignores SIGTERM: this entrypoint exits on it (and says so). */
export const TERM_AWARE = ['sh', '-c', 'echo started; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done'];
