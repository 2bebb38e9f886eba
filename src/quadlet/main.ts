/**
 * The generator's edge: arguments, discovery, and writing. Usage:
 *   berth-generator [--user] [--dryrun] [NORMAL_DIR [EARLY_DIR LATE_DIR]]
 * Units go to NORMAL_DIR. systemd hands generators empty folders, so each file is created in place
 * (one open, exclusive); a name that already exists is replaced atomically (temp file + rename).
 * With --dryrun the units are printed to stdout. Exit status 1 when any source was broken.
 */
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { findSources, expandRoots, loadSource } from './discover.js';
import { generate, type UnloadableSource } from './generate.js';
import type { GeneratedUnit, SourceUnit } from './model.js';
import { searchRoots } from './paths.js';

export interface GeneratorIO {
  engine: string;
  /** argv[1] as invoked: a name containing "user-generator" means --user. */
  programName: string;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * This process exists only for this run (generators/berth-generator): with many files, V8's
   * optimizing compiler is turned off, as its background compiles cost more CPU than they save
   * (~25% less CPU at 100 files, ~40% at 1000; at 10 files it costs ~2 ms). Never in tests.
   */
  oneShot?: boolean;
}

const MANY_UNITS = 50;

interface Options {
  user: boolean;
  dryRun: boolean;
  outputDir?: string;
}

const USAGE = 'usage: berth-generator [--user] [--dryrun] [NORMAL_DIR [EARLY_DIR LATE_DIR]]';

export function parseArguments(args: string[], programName: string): Options | string {
  const options: Options = { user: programName.includes('user-generator'), dryRun: false };
  const positional: string[] = [];
  for (const arg of args) {
    if (arg === '--user' || arg === '-user') options.user = true;
    else if (arg === '--dryrun' || arg === '-dryrun' || arg === '--dry-run') options.dryRun = true;
    else if (arg === '-v' || arg === '--verbose' || arg === '-no-kmsg-log' || arg === '--no-kmsg-log') continue;
    else if (arg.startsWith('-') && arg !== '-') return `unknown option ${arg}\n${USAGE}`;
    else positional.push(arg);
  }
  if (positional.length > 3 || positional.length === 2) return `expected NORMAL_DIR or NORMAL_DIR EARLY_DIR LATE_DIR\n${USAGE}`;
  if (!options.dryRun && positional.length === 0) return `missing output folder\n${USAGE}`;
  options.outputDir = positional[0];
  return options;
}

export function runGenerator(args: string[], io: GeneratorIO): number {
  const options = parseArguments(args, io.programName);
  if (typeof options === 'string') {
    io.stderr(`berth-generator: ${options}\n`);
    return 2;
  }
  const uid = process.getuid?.() ?? 0;
  const roots = searchRoots({ user: options.user, env: io.env, uid, home: io.env.HOME || homedir() });
  const dirs = expandRoots(roots);
  const found = findSources(dirs);
  if (io.oneShot === true && found.size >= MANY_UNITS) setFlagsFromString('--no-opt');
  const sources: SourceUnit[] = [];
  const unloadable: UnloadableSource[] = [];
  for (const [name, path] of found) {
    const loaded = loadSource(name, path, dirs);
    if ('error' in loaded) unloadable.push(loaded);
    else sources.push(loaded);
  }

  const result = generate(sources, unloadable, { user: options.user, engine: io.engine, pathExists: existsSync });
  for (const error of result.errors) io.stderr(`berth-generator: ${error.message}\n`);

  if (options.dryRun) {
    io.stdout(result.units.map((unit) => `---${unit.fileName}---\n${unit.text}\n`).join(''));
  } else {
    try {
      writeUnits(options.outputDir!, result.units, io);
    } catch (error) {
      io.stderr(`berth-generator: cannot write to ${options.outputDir}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  }
  return result.errors.length > 0 ? 1 : 0;
}

function writeUnits(outputDir: string, units: GeneratedUnit[], io: GeneratorIO): void {
  makeDirs(outputDir);
  const taken = new Set<string>(units.map((unit) => unit.fileName));
  const made = new Set<string>();
  for (const unit of units) writeAtomically(`${outputDir}/${unit.fileName}`, unit.text);
  for (const unit of units) {
    for (const { link, target } of unit.links) {
      if (taken.has(link)) {
        io.stderr(`berth-generator: ${unit.fileName}: [Install] link ${link} is already taken, not overwritten\n`);
        continue;
      }
      taken.add(link);
      const slash = link.lastIndexOf('/');
      const dir = slash === -1 ? '' : link.slice(0, slash);
      if (dir !== '' && !made.has(dir)) {
        makeDirs(`${outputDir}/${dir}`);
        made.add(dir);
      }
      linkAtomically(`${outputDir}/${link}`, target);
    }
  }
}

/** mkdir -p, one component at a time (node's recursive mkdir can spin forever on e.g. /proc/x). */
function makeDirs(path: string): void {
  let current = path.startsWith('/') ? '' : '.';
  for (const part of path.split('/')) {
    if (part === '') continue;
    current = `${current}/${part}`;
    try {
      mkdirSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

function temporaryName(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${process.pid}.tmp`;
}

function writeAtomically(path: string, text: string): void {
  try {
    writeFileSync(path, text, { mode: 0o644, flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      rmSync(path, { force: true }); // created but not fully written
      throw error;
    }
  }
  const temporary = temporaryName(path);
  try {
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function linkAtomically(path: string, target: string): void {
  try {
    symlinkSync(target, path);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const temporary = temporaryName(path);
  try {
    symlinkSync(target, temporary);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing was created
    }
    throw error;
  }
}
