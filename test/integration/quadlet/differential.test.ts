/**
 * Differential test: the fixture corpora go through BOTH berth's generator (the real executable)
 * and the reference Quadlet (podman 5.4's, fetched and cached by test/support/fetch-reference-quadlet),
 * system and user mode. Compared: unit names, [Install] links, dependencies
 * (Requires/After/BindsTo/Wants/Before), service settings, and the engine words of every Exec line.
 * Quadlet emits some flag groups in random (Go map) order, so flag groups are compared after a
 * stable sort by flag name: the order among repeats of one flag still counts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { splitWords, UnitFile } from '../../../src/unit/index.js';
import { SUPPORTED_KEYS, type Kind } from '../../../src/quadlet/index.js';
import { FIXTURES, readLinks, REPO_ROOT } from '../../unit/quadlet/golden-support.js';

const ENGINE = '/usr/bin/podman';
const CORPORA = ['main', 'dropins'];
const DEPENDENCY_KEYS = ['Requires', 'After', 'BindsTo', 'Wants', 'Before'];
const SERVICE_KEYS = ['Type', 'NotifyAccess', 'Delegate', 'KillMode', 'SyslogIdentifier', 'Environment', 'RemainAfterExit', 'Restart', 'PIDFile'];
const EXEC_KEYS = ['ExecStart', 'ExecStartPre', 'ExecStop', 'ExecStopPost'];
/** berth-only [Install] support: UpheldBy= (Quadlet 5.4 ignores it). */
const BERTH_ONLY_LINK = /\.upholds\//;

/** Flags that take the next word as their value (when not written as --flag=value). */
const VALUE_FLAGS = new Set([
  '--name', '--cgroups', '--network', '-v', '--publish', '--env', '--label', '--annotation', '--device', '--security-opt',
  '--cap-drop', '--cap-add', '--sysctl', '--user', '--userns', '--uidmap', '--gidmap', '--subuidname', '--subgidname',
  '--expose', '--env-file', '--secret', '--mount', '--pod-id-file', '--log-driver', '--log-opt', '--opt', '--subnet',
  '--gateway', '--ip-range', '--driver', '--ipam-driver', '--dns', '--dns-option', '--dns-search', '--infra-name',
  '--rootfs', '--tmpfs', '--tz', '--pids-limit', '--shm-size', '--entrypoint', '--workdir', '--ip', '--ip6', '--hostname',
  '--stop-signal', '--stop-timeout', '--pull', '--network-alias', '--ulimit', '--group-add', '--add-host',
  '--health-cmd', '--health-interval', '--health-on-failure', '--health-log-destination', '--health-max-log-count',
  '--health-max-log-size', '--health-retries', '--health-start-period', '--health-timeout', '--health-startup-cmd',
  '--health-startup-interval', '--health-startup-retries', '--health-startup-success', '--health-startup-timeout',
]);

function referenceQuadlet(): string {
  // The project's own fetcher (Debian's podman package carries Quadlet), cached in .cache/.
  const tool = resolve(REPO_ROOT, 'test/support/fetch-reference-quadlet');
  const cache = resolve(REPO_ROOT, '.cache/reference-quadlet');
  mkdirSync(cache, { recursive: true });
  return execFileSync(tool, [cache], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim().split('\n').pop()!;
}

/** Engine words in a comparable shape: globals, subcommand, sorted flag groups, positional tail. */
export function canonicalWords(words: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  const groups: string[][] = [];
  const flush = (): void => {
    groups.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)); // stable: repeats keep their order
    for (const group of groups) out.push(group.join(' '));
    groups.length = 0;
  };
  let seenSubcommand = false;
  while (i < words.length) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      if (VALUE_FLAGS.has(word) && i + 1 < words.length) {
        groups.push([word, words[i + 1]!]);
        i += 2;
      } else {
        groups.push([word]);
        i += 1;
      }
      continue;
    }
    if (!seenSubcommand) {
      flush();
      while (i < words.length && !words[i]!.startsWith('-')) out.push(words[i++]!);
      seenSubcommand = true;
      continue;
    }
    break; // first positional after the options: image/name and command stay in order
  }
  flush();
  out.push('|', ...words.slice(i));
  return out;
}

interface Generated {
  units: Map<string, UnitFile>;
  links: Map<string, string>;
}

function readGenerated(dir: string): Generated {
  const units = new Map<string, UnitFile>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.service')) continue;
    const path = `${dir}/${name}`;
    try {
      units.set(name, UnitFile.parse(readFileSync(path, 'utf8'), name));
    } catch {
      // a dangling alias link
    }
  }
  const links = readLinks(dir);
  for (const [link] of links) units.delete(link); // aliases are links, compared as links
  return { units, links };
}

function dependencies(unit: UnitFile): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const key of DEPENDENCY_KEYS) result[key] = unit.lookupAll('Unit', key).flatMap((v) => splitWords(v)).sort();
  return result;
}

function execWords(unit: UnitFile, key: string): string[][] {
  return unit.lookupAll('Service', key).map((value) => {
    const words = splitWords(value);
    return canonicalWords(words.slice(1));
  });
}

for (const user of [false, true]) {
  describe(`differential against Quadlet 5.4 (${user ? 'user' : 'system'})`, () => {
    let quadlet = '';
    const scratch = mkdtempSync('/var/tmp/berth-quadlet-diff-');
    before(() => {
      quadlet = referenceQuadlet();
      // The installed generator runs the esbuild bundle: test that, freshly built from the sources.
      execFileSync(`${REPO_ROOT}generators/build`, { stdio: 'inherit' });
    });
    after(() => rmSync(scratch, { recursive: true, force: true }));

    for (const corpus of CORPORA) {
      test(`corpus ${corpus}`, () => {
        const source = `${FIXTURES}/${corpus}`;
        const theirs = `${scratch}/${corpus}-quadlet`;
        const ours = `${scratch}/${corpus}-berth`;
        mkdirSync(theirs);
        mkdirSync(ours);
        const flag = user ? ['-user'] : [];
        const reference = spawnSync(quadlet, [...flag, theirs, theirs, theirs], {
          env: { PATH: process.env.PATH, QUADLET_UNIT_DIRS: source, HOME: scratch }, encoding: 'utf8',
        });
        assert.equal(reference.status, 0, reference.stderr);
        const berth = spawnSync(process.execPath, [`${REPO_ROOT}generators/berth-generator`, ...(user ? ['--user'] : []), ours, ours, ours], {
          env: { PATH: process.env.PATH, BERTH_UNIT_DIRS: source, BERTH_ENGINE: ENGINE, HOME: scratch }, encoding: 'utf8',
        });
        assert.equal(berth.status, 0, berth.stderr);
        assert.equal(berth.stderr, '');

        const a = readGenerated(theirs);
        const b = readGenerated(ours);
        assert.deepEqual([...b.units.keys()].sort(), [...a.units.keys()].sort(), 'the same units');
        const comparableLinks = (links: Map<string, string>): string[] =>
          [...links].filter(([link]) => !BERTH_ONLY_LINK.test(link)).map(([link, target]) => `${link} -> ${target}`).sort();
        assert.deepEqual(comparableLinks(b.links), comparableLinks(a.links), 'the same [Install] links');
        assert.ok(b.units.size >= 3, 'the corpus produced units');

        for (const [name, reference] of a.units) {
          const mine = b.units.get(name)!;
          assert.deepEqual(dependencies(mine), dependencies(reference), `${name}: dependencies`);
          for (const key of SERVICE_KEYS) {
            assert.deepEqual(mine.lookupAll('Service', key), reference.lookupAll('Service', key), `${name}: [Service] ${key}`);
          }
          for (const key of EXEC_KEYS) {
            assert.deepEqual(execWords(mine, key), execWords(reference, key), `${name}: ${key} engine words`);
          }
          assert.equal(mine.lookupLast('Unit', 'SourcePath'), reference.lookupLast('Unit', 'SourcePath'), `${name}: SourcePath`);
        }
      });
    }
  });
}

describe('every key podman-systemd.unit(5) documents', () => {
  test('is supported for .container, .volume, .network and .pod', () => {
    const manPage = readFileSync(`${referenceQuadlet().replace(/quadlet$/, '')}podman-systemd.unit.5`, 'utf8');
    const documented = new Map<string, Set<string>>();
    let section: string | undefined;
    for (const line of manPage.split('\n')) {
      const heading = /^\.SH .*\[(\w+)\]\s*$/.exec(line);
      if (heading) section = heading[1];
      else if (line.startsWith('.SH ')) section = undefined;
      const key = /^\.SS \\fB(\w+)=\\fR/.exec(line);
      if (key && section) {
        if (!documented.has(section)) documented.set(section, new Set());
        documented.get(section)!.add(key[1]!);
      }
    }
    const kinds: Record<string, Kind> = { Container: 'container', Volume: 'volume', Network: 'network', Pod: 'pod' };
    for (const [name, kind] of Object.entries(kinds)) {
      const keys = documented.get(name);
      assert.ok(keys !== undefined && keys.size >= 10, `man page section [${name}] found`);
      const missing = [...keys].filter((key) => !SUPPORTED_KEYS[kind].has(key));
      assert.deepEqual(missing, [], `[${name}] keys documented but not supported`);
    }
  });
});

describe('canonicalWords', () => {
  test('sorts flag groups, keeps repeats and the positional tail in order', () => {
    assert.deepEqual(
      canonicalWords(['--module=m', 'run', '--tz', 'local', '--init', '--env', 'B=1', '--dns', 'x', '--env', 'A=2', 'img', '-g', 'x']),
      ['--module=m', 'run', '--dns x', '--env B=1', '--env A=2', '--init', '--tz local', '|', 'img', '-g', 'x'],
    );
  });
});
