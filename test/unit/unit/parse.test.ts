import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { UnitFile } from '../../../src/unit/index.js';
import { FIXTURES } from './fixtures.js';
import { systemdUnknownKeys } from './systemd-analyze.js';

function entriesBySection(unit: UnitFile): Record<string, [string, string, number][]> {
  const result: Record<string, [string, string, number][]> = {};
  for (const section of unit.sectionNames()) {
    result[section] = unit.entries(section).map((entry) => [entry.key, entry.value, entry.line]);
  }
  return result;
}

describe('UnitFile.parse', () => {
  for (const fixture of FIXTURES) {
    it(`reads: ${fixture.name}`, () => {
      const unit = UnitFile.parse(fixture.text, 'fixture.container');
      assert.deepEqual(entriesBySection(unit), fixture.entries);
      for (const section of unit.sectionNames()) {
        for (const entry of unit.entries(section)) assert.equal(entry.file, 'fixture.container');
      }
    });
    it(`round-trips: ${fixture.name}`, () => {
      assert.equal(UnitFile.parse(fixture.text).toString(), fixture.text);
    });
  }

  const errors: [string, string, RegExp, number][] = [
    ['line without "="', '[Container]\nImage=x\n\n# c\n\nfoo\n', /^web\.container:6: expected "Key=Value" but got "foo"$/, 6],
    ['assignment before any section', '# header\nImage=x\n[Container]\n', /^web\.container:2: assignment "Image=x" is outside of any section$/, 2],
    ['unterminated section header', '[Unit]\nA=1\n[Container\nImage=x\n', /^web\.container:3: unterminated section header "\[Container"$/, 3],
    ['text after the header', '[Unit] trailing\n', /^web\.container:1: unterminated section header "\[Unit\] trailing"$/, 1],
    ['missing key', '[Unit]\n = value\n', /^web\.container:2: missing key name before "=" in "= value"$/, 2],
    ['quotes in a section name', '[Ser"vice]\n', /^web\.container:1: bad characters in section header/, 1],
    ['a bad line after a continuation names its first line', '[A]\nK=1\nfoo \\\n bar\n', /^web\.container:3: expected "Key=Value" but got "foo   bar"$/, 3],
    ['CRLF file', '[A]\r\nK=1\r\nbroken\r\n', /^web\.container:3: expected "Key=Value" but got "broken"$/, 3],
  ];
  for (const [name, text, message, line] of errors) {
    it(`rejects ${name} with file and line`, () => {
      assert.throws(
        () => UnitFile.parse(text, 'web.container'),
        (error: unknown) => {
          assert.ok(error instanceof UnitError);
          assert.equal(error.code, 'UNIT_SYNTAX');
          assert.match(error.message, message);
          assert.equal(error.context.file, 'web.container');
          assert.equal(error.context.line, line);
          return true;
        },
      );
    });
  }

  it('sees the same assignments as systemd in a file full of traps', () => {
    const text = [
      '\uFEFF# comment\r',
      '[Service]\r',
      'ExecStart=/bin/true',
      '  XOne = 1 ',
      '\tXTwo=a \\',
      '# inner comment \\',
      '   ; other',
      '  b\\',
      'XNotAKey=joined into XTwo',
      'XThree=x;y # z\rXFour=after a lone CR',
      'XFive=\\\\',
      'XSix=odd \\\\\\',
      'XSeven=continued by an odd run',
      '[Unit]',
      'XEight=\\',
      '',
      'XNine=1',
      '[Install]',
      'XTen=\\',
    ].join('\n');
    const unit = UnitFile.parse(text);
    const ours = unit.sectionNames().flatMap((section) => unit.entries(section).map((entry) => `${section}/${entry.key}`));
    assert.deepEqual(ours.filter((name) => name !== 'Service/ExecStart'), systemdUnknownKeys(text));
    assert.equal(unit.toString(), text);
    assert.equal(unit.lookupLast('Service', 'XTwo'), 'a    b XNotAKey=joined into XTwo');
  });

  it('read() reports a missing file as a UnitError naming it', () => {
    assert.throws(() => UnitFile.read('/var/tmp/berth-unit-no-such-dir/does-not-exist.container'), (error: unknown) => {
      assert.ok(error instanceof UnitError);
      assert.equal(error.code, 'UNIT_READ');
      assert.match(error.message, /does-not-exist\.container: cannot read unit file \(ENOENT\)/);
      return true;
    });
  });

  it('round-trips every unit file systemd ships on this machine', () => {
    const dirs = ['/usr/lib/systemd/system', '/usr/lib/systemd/user', '/lib/systemd/system', '/etc/systemd/system'];
    let count = 0;
    for (const dir of dirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(dir, name);
        let stats;
        try {
          stats = statSync(file);
        } catch {
          continue; // dangling symlink
        }
        if (!stats.isFile()) continue;
        assert.equal(UnitFile.read(file).toString(), readFileSync(file, 'utf8'), file);
        count++;
      }
    }
    assert.ok(count > 50, `expected systemd's own units to be installed, found ${count}`);
  });

  it('stays linear on large and pathological input', () => {
    const continued = '[A]\nK=' + 'word \\\n'.repeat(100_000) + 'end\n';
    const backslashes = '[A]\nK=' + '\\'.repeat(200_000) + '\n';
    const manyKeys = '[A]\r\n' + 'Key=value ; # not a comment\r\n'.repeat(100_000);
    const start = process.hrtime.bigint();
    assert.equal(UnitFile.parse(continued).lookupLast('A', 'K')!.length, 'word  '.length * 100_000 + 3);
    assert.equal(UnitFile.parse(backslashes).lookupLast('A', 'K')!.length, 200_000);
    assert.equal(UnitFile.parse(manyKeys).lookupAll('A', 'Key').length, 100_000);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(elapsed < 1500, `took ${elapsed.toFixed(0)} ms`);
  });

  it('parses 1000 typical 20-line files in well under 50 ms', (t) => {
    const files = Array.from({ length: 1000 }, (_, i) =>
      [
        '# generated for the benchmark',
        '[Unit]',
        `Description=Service number ${i}`,
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Container]',
        `Image=registry.example.com/app/service-${i}:latest`,
        `ContainerName=service-${i}`,
        'PublishPort=8080:80',
        'PublishPort=8443:443',
        'Volume=data:/var/lib/app:Z',
        'Environment=MODE=production LOG_LEVEL=info',
        'Exec=/usr/bin/app --serve \\',
        '  --port 80 --threads 4',
        'Label=app=web',
        '',
        '[Install]',
        'WantedBy=multi-user.target default.target',
        '',
      ].join('\n'),
    );
    for (const text of files.slice(0, 100)) UnitFile.parse(text); // warm up the JIT
    let best = Infinity;
    for (let round = 0; round < 10; round++) {
      const start = process.hrtime.bigint();
      for (const text of files) UnitFile.parse(text, 'bench.container').lookupAll('Container', 'PublishPort');
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    assert.ok(best < 50, `parsing 1000 files took ${best.toFixed(1)} ms`);
    t.diagnostic(`1000 files parsed in ${best.toFixed(1)} ms (best of 10)`);
  });
});
