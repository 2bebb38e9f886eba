#!/usr/bin/env node
// Entry point named by package.json "bin": works from any working directory.
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
