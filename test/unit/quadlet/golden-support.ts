/**
 * Golden tests for the generator: the expectations sit in the input files as `## assert-…`
 * header lines (a symlinked file keeps them in `<name>.asserts`). Used by
 * test/unit/quadlet/golden.test.ts; also read by the differential test to pick its corpus.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitWords, UnitFile } from '../../../src/unit/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const FIXTURES = `${REPO_ROOT}test/fixtures/quadlet`;
/** The four kinds berth translates, and the ones it answers with a failing stand-in. */
export const UNIT_EXTENSIONS = ['.container', '.volume', '.network', '.pod', '.kube', '.image', '.build'];

export interface Assertion {
  verb: string;
  args: string[];
  /** The text after the verb, verbatim. */
  raw: string;
}

export function unitFilesOf(dir: string): string[] {
  return readdirSync(dir).filter((name) => UNIT_EXTENSIONS.some((ext) => name.endsWith(ext))).sort();
}

export function assertionsOf(dir: string, name: string, substitutions: Record<string, string>): Assertion[] {
  const path = `${dir}/${name}`;
  const file = lstatSync(path).isSymbolicLink() && existsSync(`${path}.asserts`) ? `${path}.asserts` : path;
  const assertions: Assertion[] = [];
  for (let line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('## ')) continue;
    for (const [from, to] of Object.entries(substitutions)) line = line.replaceAll(from, to);
    const body = line.slice(3);
    const space = body.indexOf(' ');
    const verb = space === -1 ? body : body.slice(0, space);
    const raw = space === -1 ? '' : body.slice(space + 1);
    assertions.push({ verb, raw, args: raw === '' ? [] : splitWords(raw) });
  }
  return assertions;
}

export function defaultServiceFile(name: string): string {
  const dot = name.lastIndexOf('.');
  const suffix = { '.container': '', '.volume': '-volume', '.network': '-network', '.pod': '-pod', '.image': '-image', '.build': '-build' }[name.slice(dot)] ?? '';
  return `${name.slice(0, dot)}${suffix}.service`;
}

export function serviceFileFor(assertions: Assertion[], name: string): string {
  const explicit = assertions.find((a) => a.verb === 'assert-service-name');
  return explicit?.args[0] ?? defaultServiceFile(name);
}

/** Words of an Exec line without the engine (the first word). */
export function engineWords(value: string): string[] {
  return splitWords(value).slice(1);
}

function containsRun(haystack: string[], needle: string[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export interface GeneratedView {
  unit: UnitFile;
  /** link path (relative to the output dir) -> target, every link of the run. */
  links: Map<string, string>;
  stderr: string;
  serviceFile: string;
}

export function checkAssertions(view: GeneratedView, assertions: Assertion[]): void {
  const { unit } = view;
  const exec = (key: string): string[] => {
    const value = unit.lookupLast('Service', key);
    assert.ok(value !== undefined, `${view.serviceFile}: no ${key}=`);
    return engineWords(value);
  };
  for (const { verb, args, raw } of assertions) {
    const [section, key] = args;
    const rest = raw.split(' ').slice(2).join(' ');
    switch (verb) {
      case 'assert-service-name':
        break;
      case 'assert-key-is':
        assert.equal(unit.lookupLast(section!, key!), rest, `${view.serviceFile}: [${section}] ${key}`);
        break;
      case 'assert-key-values':
        assert.deepEqual(unit.lookupAll(section!, key!).flatMap((v) => splitWords(v)), args.slice(2), `${view.serviceFile}: [${section}] ${key}`);
        break;
      case 'assert-key-missing':
        assert.equal(unit.lookupLast(section!, key!), undefined, `${view.serviceFile}: [${section}] ${key} should be unset`);
        break;
      case 'assert-engine-args':
        assert.ok(containsRun(exec('ExecStart'), args), `${view.serviceFile}: ExecStart lacks ${JSON.stringify(args)}:\n${exec('ExecStart').join(' ')}`);
        break;
      case 'assert-engine-args-not':
        assert.ok(!containsRun(exec('ExecStart'), args), `${view.serviceFile}: ExecStart has ${JSON.stringify(args)}`);
        break;
      case 'assert-exec-args': {
        const words = exec(args[0]!);
        assert.ok(containsRun(words, args.slice(1)), `${view.serviceFile}: ${args[0]} lacks ${JSON.stringify(args.slice(1))}:\n${words.join(' ')}`);
        break;
      }
      case 'assert-engine-last': {
        const words = exec('ExecStart');
        assert.deepEqual(words.slice(-args.length), args, `${view.serviceFile}: ExecStart ends with ${words.slice(-args.length).join(' ')}`);
        break;
      }
      case 'assert-symlink':
        assert.equal(view.links.get(args[0]!), args[1], `${view.serviceFile}: link ${args[0]}`);
        break;
      case 'assert-no-symlinks': {
        const mine = [...view.links].filter(([link, target]) => link.endsWith(`/${view.serviceFile}`) || target === view.serviceFile);
        assert.deepEqual(mine, [], `${view.serviceFile}: unexpected links`);
        break;
      }
      case 'assert-error':
        assert.equal(unit.lookupLast('Unit', 'X-Berth-Error'), raw, `${view.serviceFile}: X-Berth-Error`);
        assert.ok(view.stderr.split('\n').includes(`berth-generator: ${raw}`), `stderr lacks "${raw}":\n${view.stderr}`);
        assertFailingService(unit);
        break;
      case 'assert-error-prefix':
        assert.ok(unit.lookupLast('Unit', 'X-Berth-Error')?.startsWith(raw), `${view.serviceFile}: X-Berth-Error ${unit.lookupLast('Unit', 'X-Berth-Error')}`);
        assertFailingService(unit);
        break;
      default:
        assert.fail(`unknown assertion ${verb}`);
    }
  }
}

function assertFailingService(unit: UnitFile): void {
  const start = unit.lookupLast('Service', 'ExecStart');
  assert.ok(start?.startsWith('/bin/sh -c '), `a broken unit runs a failing /bin/sh, not the engine: ${start}`);
  assert.equal(unit.lookupLast('Service', 'Type'), 'oneshot');
}

/** Every link below dir: relative path -> target. */
export function readLinks(dir: string, prefix = ''): Map<string, string> {
  const links = new Map<string, string>();
  for (const name of readdirSync(`${dir}/${prefix}`)) {
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const stat = lstatSync(`${dir}/${relative}`);
    if (stat.isSymbolicLink()) links.set(relative, readlinkSync(`${dir}/${relative}`));
    else if (stat.isDirectory()) for (const [k, v] of readLinks(dir, relative)) links.set(k, v);
  }
  return links;
}
