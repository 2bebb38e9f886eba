/**
 * Entry of the CommonJS CLI bundle (bin/build-cli -> dist/bundle/cli/fast.cjs, with V8's code
 * cache): the fast path only. bin/berth.js runs it first and hands the command line to the full
 * CLI (main.ts, yargs) when it returns undefined.
 */
import { fastCommand } from './fast-path.js';
import { reportError } from './report-error.js';

// The rootless re-exec's host-side half (bin/berth.js), from this bundle rather than as ES modules.
export { needsUserNamespace, runRootless } from '../runtime/userns.js';

/** The exit status, or undefined when the command line is not one for the fast path. */
export async function fastMain(argv: string[]): Promise<number | undefined> {
  try {
    const fast = await fastCommand(argv);
    if (!fast) return undefined;
    await fast();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error);
  }
}

/**
 * For the code cache (bin/cli-code-cache.cjs): parse typical command lines of generated units
 * without running them, so the functions they need are compiled, and cached, at build time.
 */
export async function warmUp(root: string): Promise<void> {
  const globals = [`--root=${root}/root`, `--runroot=${root}/run`];
  const { parseRunTokens } = await import('./commands/container-flags.js');
  parseRunTokens(['--name', 'web', '--cidfile=/run/web.cid', '--replace', '--rm', '--cgroups=split', '--sdnotify=conmon', '-d',
    '--network=none', '-e', 'A=1', '--label', 'k=v', '-v', '/srv:/srv:ro', '--tmpfs', '/tmp', '--cap-drop=all', '--security-opt=no-new-privileges',
    '--pull=never', 'example.org/app:1', 'sh', '-c', 'true'], { root: `${root}/root`, runroot: `${root}/run` }, {});
  for (const line of [['run', '--rm', 'img', 'true'], ['create', 'img'], ['rm', '-v', '-f', '-i', '--cidfile=/run/x.cid'], ['stop', '-t', '10', 'x'], ['start', 'x'],
    ['pull', '-q', '--tls-verify=false', 'example.org/app:1']]) {
    await fastCommand([...globals, ...line]);
  }
  // Run what touches only the scratch storage: the unit's ExecStop on no container, and the
  // image lookup of `run` up to "not known locally" (the storage paths, records, locks, the store).
  for (const line of [['rm', '-v', '-f', '-i', `--cidfile=${root}/none.cid`], ['stop', '-i', 'none']]) await (await fastCommand([...globals, ...line]))?.();
  const { createFromArgs } = await import('./commands/run.js');
  const create = parseRunTokens(['--cgroups=disabled', '--pull=never', '--network=none', 'warm-up.invalid/none:1', 'true'], { root: `${root}/root`, runroot: `${root}/run` }, {});
  await createFromArgs(create).then(() => { throw new Error('warm-up: an image that cannot exist was found'); }, () => undefined);
  // A container created, prepared and removed in the scratch storage (no mount, no crun: runtime/warm-up.ts).
  const { warmUpStartPath } = await import('../runtime/warm-up.js');
  const run = parseRunTokens(['--rm', '--network=none', 'warm-up.invalid/none:1', 'true'], { root: `${root}/root`, runroot: `${root}/run` }, {});
  await warmUpStartPath(`${root}/start-path`, run.options);
  // `pull` (and `run` of a missing image): the registry client's and progress modules, loaded but not run.
  await import('../image/pull.js');
  await import('../image/progress.js');
}
