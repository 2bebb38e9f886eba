// Writes dist/berth-generator.cache: V8 code cache of dist/berth-generator.cjs after a warm-up
// run over the test fixtures (dry run, nothing written), so the functions a real run needs are in
// it. generators/berth-generator loads the bundle through loadBundle() below (same wrapper, so
// the cache matches). CommonJS on purpose: node's ESM loader costs ~30 ms of start-up.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const vm = require('node:vm');

/** Compile and run the CommonJS bundle; returns its exports and the script (for its cache). */
function loadBundle(file, cachedData) {
  const source = readFileSync(file, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, file.slice(0, file.lastIndexOf('/')));
  return { exports: module.exports, script };
}

module.exports = { loadBundle };

if (require.main === module) {
  const root = process.argv[2];
  const { exports, script } = loadBundle(`${root}/dist/berth-generator.cjs`);
  const io = { engine: '/usr/bin/berth', programName: 'berth-generator', stdout: () => {}, stderr: () => {} };
  for (const corpus of ['main', 'dropins', 'errors']) {
    exports.runGenerator(['--dryrun'], { ...io, env: { BERTH_UNIT_DIRS: `${root}/test/fixtures/quadlet/${corpus}` } });
  }
  const temporary = `${root}/dist/.berth-generator.cache.${process.pid}`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, `${root}/dist/berth-generator.cache`);
}
