#!/usr/bin/env node
// Entry point named by package.json "bin": works from any working directory. Runs the CLI bundle
// made by bin/build-cli (`npm run build`) while it is newer than the tsc output, else the tsc output.
import { statSync } from 'node:fs';

const argv = process.argv.slice(2);
// Rootless: commands that write the store or start containers run again inside berth's user
// namespace (src/runtime/userns.ts); decided before the CLI is loaded, to keep this half cheap.
const userns = process.getuid?.() !== 0 && !process.env.BERTH_ROOTLESS_UID ? await import('../dist/src/runtime/userns.js') : undefined;
if (userns?.needsUserNamespace(argv)) {
  userns.runRootless(argv).then((code) => { process.exitCode = code; });
} else {
  const mtime = (url) => statSync(new URL(url, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const bundleFresh = mtime('../dist/bundle/cli/main.mjs') >= mtime('../dist/src/cli/main.js');
  const { main } = await import(bundleFresh ? '../dist/bundle/cli/main.mjs' : '../dist/src/cli/main.js');
  main(argv).then((code) => { process.exitCode = code; });
}
