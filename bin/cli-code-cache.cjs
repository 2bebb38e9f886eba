// Writes <dir>/fast.cache: V8's code cache of <dir>/fast.cjs (bin/build-cli) after a warm-up that
// parses typical command lines (src/cli/fast-main.ts warmUp: nothing runs, nothing is written),
// so the functions `berth run` needs are compiled from the cache instead of the source.
// bin/berth.js loads the bundle through the same loadBundle (its own: same wrapper, so the cache matches).
'use strict';
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { loadBundle } = require('./berth.js');

/** bin/berth.js reads the bundle as latin1 (cheaper than UTF-8 decoding): it must be plain ASCII. */
function assertAscii(file) {
  const source = readFileSync(file);
  const at = source.findIndex((byte) => byte > 0x7f);
  if (at >= 0) {
    const context = source.subarray(Math.max(0, at - 60), at + 20).toString('utf8');
    throw new Error(`${file}: a non-ASCII character at byte ${at} (write it as a \\u escape in the source): …${context}…`);
  }
}

async function main() {
  const dir = process.argv[2];
  assertAscii(`${dir}/fast.cjs`);
  const { exports, script } = loadBundle(`${dir}/fast.cjs`);
  const scratch = mkdtempSync('/var/tmp/berth-code-cache-');
  try {
    await exports.warmUp(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(`${dir}/fast.cache`, script.createCachedData());
}

main().catch((error) => { process.stderr.write(`bin/cli-code-cache.cjs: ${error.stack}\n`); process.exitCode = 1; });
