// Post-processes esbuild's CommonJS bundle (bin/build-cli), for the start-up of `berth run`:
//  1. Every `import fs from 'node:fs'` of the ~60 modules becomes its own
//     __toESM(require('node:fs')), which copies the whole module's properties again (~13 000
//     property definitions for one `berth run`, ~10 ms). Memoized here, one copy per module object.
//  2. Built-in modules that the container commands rarely touch (crypto: names, ids, digests;
//     zlib: layer unpacking; readline: the short-name prompt; fs/promises: the store and network
//     modules, async only off the start path; worker_threads: the layer extractor's worker;
//     child_process, net, dgram: a start spawns through src/process/raw-spawn.ts, and only
//     systemd's notify socket or a network needs sockets; os, timers/promises: a few calls off
//     the start path) are loaded on first use instead of
//     when the bundle loads (~12 ms of node's own module loading on every start): their require
//     returns a Proxy that requires the real module at its first property access.
// esbuild's helper is matched exactly; if its text ever changes, the bundle is left as it is
// (correct, only slower) with a warning.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const file = process.argv[2];
const LAZY = ['node:crypto', 'node:zlib', 'node:readline', 'node:fs/promises', 'node:worker_threads', 'node:child_process', 'node:net', 'node:dgram', 'node:os', 'node:timers/promises', 'node:https', 'node:v8'];
const helper = 'var __toESM=(mod,isNodeMode,target)=>(';
const lazy = 'var __lazyMark=Symbol("berth.lazyBuiltin");'
  + 'var __lazyBuiltin=(id)=>{let real;const load=()=>real??=require(id);'
  + 'return new Proxy({},{get:(_,k)=>k===__lazyMark?true:load()[k],has:(_,k)=>k in load(),'
  + 'ownKeys:()=>Reflect.ownKeys(load()),getOwnPropertyDescriptor:(_,k)=>{const d=Reflect.getOwnPropertyDescriptor(load(),k);if(d)d.configurable=true;return d}})};'
  // an ES default import of a lazy module: `default` is the module, names read through it
  + 'var __lazyESM=(mod)=>new Proxy({},{get:(_,k)=>k==="default"?mod:k==="__esModule"?void 0:mod[k]});';
const memoized = lazy + 'var __toESMCache=new WeakMap();'
  + 'var __toESM=(mod,isNodeMode)=>{if(mod==null||typeof mod!=="object"&&typeof mod!=="function")return __toESMOnce(mod,isNodeMode);'
  + 'if(mod[__lazyMark])return __lazyESM(mod);'
  + 'let c=__toESMCache.get(mod);if(!c)__toESMCache.set(mod,c=[]);return c[isNodeMode?1:0]??=__toESMOnce(mod,isNodeMode)};'
  + 'var __toESMOnce=(mod,isNodeMode,target)=>(';
let source = readFileSync(file, 'utf8');
if (source.split(helper).length !== 2) {
  process.stderr.write(`bin/cjs-interop.cjs: esbuild's __toESM helper not found in ${file}; left unchanged\n`);
} else {
  source = source.replace(helper, memoized);
  for (const id of LAZY) source = source.split(`require("${id}")`).join(`__lazyBuiltin("${id}")`);
  writeFileSync(file, source);
}
