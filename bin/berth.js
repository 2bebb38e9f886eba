#!/usr/bin/env node
// Entry point named by package.json "bin": works from any working directory.
// CommonJS (bin/package.json) on purpose: node's ESM loader costs start-up time, and `berth run`
// is every unit's ExecStart. While the bundles made by bin/build-cli (`npm run build`) are newer
// than the tsc output: the container commands' fast path from dist/bundle/cli/fast.cjs with V8's
// code cache, everything else from the ES module bundle; else the tsc output.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { dirname } = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const root = `${dirname(__dirname)}/`;
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const tscTime = mtime(`${root}dist/src/cli/main.js`);
const fastBundle = `${root}dist/bundle/cli/fast.cjs`;
const argv = process.argv.slice(2);

/**
 * Compile and run a CommonJS bundle, with V8's code cache when given; returns its exports and the
 * script (bin/cli-code-cache.cjs writes fast.cache from it: same wrapper, so the cache matches).
 * Here rather than in a module of its own: loading one more file through node's CommonJS loader
 * costs ~1.7 ms of every `berth run`.
 */
function loadBundle(file, cachedData) {
  const source = readFileSync(file, 'latin1');   // ASCII: bin/cli-code-cache.cjs refuses a bundle that is not
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

function loadFast() {
  let cache;
  try {
    cache = readFileSync(`${root}dist/bundle/cli/fast.cache`);
  } catch {
    cache = undefined; // no cache: compile as usual
  }
  return loadBundle(fastBundle, cache).exports;
}

async function run() {
  // Rootless: commands that write the store or start containers run again inside berth's user
  // namespace (src/runtime/userns.ts); decided from the code-cached bundle (the ES modules of the
  // tsc output cost ~20 ms more to load), before any command's module runs.
  const fastTime = mtime(fastBundle);
  const fast = fastTime >= 0 && fastTime >= tscTime ? loadFast() : undefined;
  if (process.getuid?.() !== 0 && !process.env.BERTH_ROOTLESS_UID) {
    const userns = fast ?? await import('../dist/src/runtime/userns.js');
    if (userns.needsUserNamespace(argv)) return userns.runRootless(argv);
  }
  if (fast) {
    const code = await fast.fastMain(argv);
    if (code !== undefined) return code;
  }
  const esmFresh = mtime(`${root}dist/bundle/cli/main.mjs`) >= tscTime;
  const { main } = await import(esmFresh ? '../dist/bundle/cli/main.mjs' : '../dist/src/cli/main.js');
  return main(argv);
}

module.exports = { loadBundle };
if (require.main === module) run().then((code) => { process.exitCode = code; });
