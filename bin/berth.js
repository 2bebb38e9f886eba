#!/usr/bin/env node
// Entry point named by package.json "bin": works from any working directory. Runs the CLI bundle
// made by bin/build-cli (`npm run build`) while it is newer than the tsc output, else the tsc output.
import { statSync } from 'node:fs';

const mtime = (url) => statSync(new URL(url, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundleFresh = mtime('../dist/bundle/cli/main.mjs') >= mtime('../dist/src/cli/main.js');
const { main } = await import(bundleFresh ? '../dist/bundle/cli/main.mjs' : '../dist/src/cli/main.js');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
