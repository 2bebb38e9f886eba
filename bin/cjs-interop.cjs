// Post-processes esbuild's CommonJS bundle (bin/build-cli): every `import fs from 'node:fs'` of
// the ~60 modules becomes its own __toESM(require('node:fs')), which copies the whole module's
// properties again (~13 000 property definitions for one `berth run`, ~10 ms). Memoized here, one
// copy per module object. esbuild's helper is matched exactly; if its text ever changes, the
// bundle is left as it is (correct, only slower) with a warning.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const file = process.argv[2];
const helper = 'var __toESM=(mod,isNodeMode,target)=>(';
const memoized = 'var __toESMCache=new WeakMap();'
  + 'var __toESM=(mod,isNodeMode)=>{if(mod==null||typeof mod!=="object"&&typeof mod!=="function")return __toESMOnce(mod,isNodeMode);'
  + 'let c=__toESMCache.get(mod);if(!c)__toESMCache.set(mod,c=[]);return c[isNodeMode?1:0]??=__toESMOnce(mod,isNodeMode)};'
  + 'var __toESMOnce=(mod,isNodeMode,target)=>(';
const source = readFileSync(file, 'utf8');
if (source.split(helper).length !== 2) {
  process.stderr.write(`bin/cjs-interop.cjs: esbuild's __toESM helper not found in ${file}; left unchanged\n`);
} else {
  writeFileSync(file, source.replace(helper, memoized));
}
