import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { UnitFile } from '../../../src/unit/index.js';

const SOURCE = [
  '# Web front end',
  '[Unit]',
  'Description=Web',
  '',
  '[Container]',
  'Image=nginx',
  'PublishPort=80:80',
  'PublishPort=443:443',
  'Volume=a:/a',
  'Volume=',
  'Volume=b:/b',
  'Volume=c:/c',
  'Notify=yes',
  'Bad=maybe',
  'Off=OFF',
  '# trailing comment',
  '',
  '[Install]',
  'WantedBy=default.target',
  '',
].join('\n');

describe('UnitFile lookups', () => {
  const unit = UnitFile.parse(SOURCE, 'web.container');

  it('lists sections in order of first appearance', () => {
    assert.deepEqual(unit.sectionNames(), ['Unit', 'Container', 'Install']);
    assert.equal(unit.hasSection('Container'), true);
    assert.equal(unit.hasSection('Service'), false);
  });

  it('lookupLast returns the last value, undefined when unset', () => {
    assert.equal(unit.lookupLast('Container', 'PublishPort'), '443:443');
    assert.equal(unit.lookupLast('Container', 'Missing'), undefined);
    assert.equal(unit.lookupLast('Nope', 'Image'), undefined);
    assert.deepEqual(unit.lookupLastEntry('Container', 'Image'), { key: 'Image', value: 'nginx', file: 'web.container', line: 6 });
  });

  it('lookupAll keeps order and an empty assignment resets the list', () => {
    assert.deepEqual(unit.lookupAll('Container', 'PublishPort'), ['80:80', '443:443']);
    assert.deepEqual(unit.lookupAll('Container', 'Volume'), ['b:/b', 'c:/c']);
    assert.deepEqual(unit.lookupAllEntries('Container', 'Volume').map((entry) => entry.line), [11, 12]);
    assert.deepEqual(unit.lookupAll('Container', 'Missing'), []);
  });

  it('lookupBoolean understands systemd booleans and names the line of junk', () => {
    assert.equal(unit.lookupBoolean('Container', 'Notify'), true);
    assert.equal(unit.lookupBoolean('Container', 'Off'), false);
    assert.equal(unit.lookupBoolean('Container', 'Missing'), undefined);
    assert.equal(UnitFile.parse('[A]\nB=yes\nB=\n').lookupBoolean('A', 'B'), undefined);
    assert.throws(() => unit.lookupBoolean('Container', 'Bad'), (error: unknown) => {
      assert.ok(error instanceof UnitError);
      assert.equal(error.code, 'UNIT_BAD_BOOLEAN');
      assert.equal(error.message, 'web.container:14: invalid boolean "maybe" for Bad= in [Container]');
      assert.deepEqual(error.context, { file: 'web.container', line: 14, key: 'Bad', value: 'maybe' });
      return true;
    });
  });
});

describe('UnitFile edits', () => {
  it('add appends after the last assignment of the section, before trailing comments', () => {
    const unit = UnitFile.parse(SOURCE, 'web.container');
    unit.add('Container', 'PublishPort', '8080:8080');
    assert.deepEqual(unit.lookupAll('Container', 'PublishPort'), ['80:80', '443:443', '8080:8080']);
    assert.match(unit.toString(), /Off=OFF\nPublishPort=8080:8080\n# trailing comment\n\n\[Install\]/);
    assert.deepEqual(unit.lookupLastEntry('Container', 'PublishPort'), { key: 'PublishPort', value: '8080:8080', file: 'web.container', line: 0 });
  });

  it('add creates a missing section at the end, separated by a blank line', () => {
    const unit = UnitFile.parse('[Unit]\nDescription=x', 'a.container');
    unit.add('Service', 'Restart', 'always');
    unit.add('Service', 'TimeoutStartSec', '900');
    assert.equal(unit.toString(), '[Unit]\nDescription=x\n\n[Service]\nRestart=always\nTimeoutStartSec=900\n');
    assert.equal(UnitFile.parse(unit.toString()).lookupLast('Service', 'Restart'), 'always');
  });

  it('builds a file from nothing', () => {
    const unit = new UnitFile('web.service');
    unit.add('Unit', 'Description', 'Generated');
    unit.add('Service', 'ExecStart', '/bin/true');
    assert.equal(unit.toString(), '[Unit]\nDescription=Generated\n\n[Service]\nExecStart=/bin/true\n');
    assert.equal(unit.path, 'web.service');
  });

  it('new lines follow the file\'s line endings', () => {
    const unit = UnitFile.parse('[A]\r\nK=1\r\n');
    unit.add('A', 'L', '2');
    assert.equal(unit.toString(), '[A]\r\nK=1\r\nL=2\r\n');
  });

  it('set replaces every value by one, in place of the last', () => {
    const unit = UnitFile.parse(SOURCE);
    unit.set('Container', 'PublishPort', '9090:90');
    assert.deepEqual(unit.lookupAll('Container', 'PublishPort'), ['9090:90']);
    assert.match(unit.toString(), /Image=nginx\nPublishPort=9090:90\nVolume=a:\/a\n/);
    unit.set('Container', 'Pull', 'newer');
    assert.equal(unit.lookupLast('Container', 'Pull'), 'newer');
  });

  it('set across a repeated section keeps one value', () => {
    const unit = UnitFile.parse('[A]\nK=1\n[B]\nX=1\n[A]\nK=2\n');
    unit.set('A', 'K', '3');
    assert.equal(unit.toString(), '[A]\n[B]\nX=1\n[A]\nK=3\n');
  });

  it('remove and removeSection', () => {
    const unit = UnitFile.parse(SOURCE);
    unit.remove('Container', 'Volume');
    assert.deepEqual(unit.lookupAll('Container', 'Volume'), []);
    assert.ok(!unit.toString().includes('Volume'));
    unit.removeSection('Install');
    assert.deepEqual(unit.sectionNames(), ['Unit', 'Container']);
    assert.ok(!unit.toString().includes('WantedBy'));
  });

  it('an untouched part keeps its exact text (continuations, comments, CRLF) after edits elsewhere', () => {
    const text = '# keep me\r\n[Container]\r\nExec=a \\\r\n# inside\r\n  b\r\nImage=x\r\n';
    const unit = UnitFile.parse(text);
    unit.add('Container', 'Label', 'k=v');
    assert.equal(unit.toString(), text + 'Label=k=v\r\n');
  });

  it('toString can normalise line endings', () => {
    const unit = UnitFile.parse('[A]\r\nK=a \\\r\n b\rL=1\n');
    assert.equal(unit.toString({ lineEnding: '\n' }), '[A]\nK=a \\\n b\nL=1\n');
    assert.equal(unit.toString({ lineEnding: '\r\n' }), '[A]\r\nK=a \\\r\n b\r\nL=1\r\n');
    assert.equal(UnitFile.parse(unit.toString({ lineEnding: '\n' })).lookupLast('A', 'K'), 'a   b');
  });

  it('a file ending inside a continuation gets a blank line before added lines', () => {
    const unit = UnitFile.parse('[A]\nK=a\\');
    unit.add('A', 'L', 'b');
    const reparsed = UnitFile.parse(unit.toString());
    assert.equal(reparsed.lookupLast('A', 'K'), 'a');
    assert.equal(reparsed.lookupLast('A', 'L'), 'b');
  });

  it('refuses keys and values that cannot be written back', () => {
    const unit = new UnitFile('x.container');
    const bad: [string, string, string][] = [
      ['A', '', 'v'],
      ['A', 'K=', 'v'],
      ['A', ' K', 'v'],
      ['A', '#K', 'v'],
      ['A', 'K', 'line\nbreak'],
      ['A', 'K', 'ends in \\'],
      ['A]', 'K', 'v'],
    ];
    for (const [section, key, value] of bad) {
      assert.throws(() => unit.add(section, key, value), (error: unknown) => error instanceof UnitError && error.code === 'UNIT_BAD_VALUE', `${section}/${key}/${value}`);
    }
    unit.add('A', 'K', 'ends in \\\\');
    assert.equal(UnitFile.parse(unit.toString()).lookupLast('A', 'K'), 'ends in \\\\');
  });

  it('clone is independent of the original', () => {
    const unit = UnitFile.parse(SOURCE, 'web.container');
    const copy = unit.clone();
    copy.set('Unit', 'Description', 'Copy');
    copy.add('Service', 'Restart', 'always');
    assert.equal(unit.toString(), SOURCE);
    assert.equal(copy.lookupLast('Unit', 'Description'), 'Copy');
    assert.equal(copy.path, 'web.container');
  });
});

describe('UnitFile.merge (drop-ins)', () => {
  it('appends drop-in entries in order, adds new sections, and keeps where each came from', () => {
    const unit = UnitFile.parse(SOURCE, 'web.container');
    const dropIn = UnitFile.parse('[Container]\n# more ports\nPublishPort=8080:80\nVolume=\n\n[Service]\nRestart=always\n', 'web.container.d/10-ports.conf');
    unit.merge(dropIn);
    assert.deepEqual(unit.lookupAll('Container', 'PublishPort'), ['80:80', '443:443', '8080:80']);
    assert.deepEqual(unit.lookupAll('Container', 'Volume'), []);
    assert.deepEqual(unit.lookupLastEntry('Container', 'PublishPort'), {
      key: 'PublishPort', value: '8080:80', file: 'web.container.d/10-ports.conf', line: 3,
    });
    assert.equal(unit.lookupLast('Service', 'Restart'), 'always');
    assert.deepEqual(unit.sectionNames(), ['Unit', 'Container', 'Install', 'Service']);
    const reparsed = UnitFile.parse(unit.toString());
    assert.deepEqual(reparsed.lookupAll('Container', 'PublishPort'), ['80:80', '443:443', '8080:80']);
    assert.equal(reparsed.lookupLast('Service', 'Restart'), 'always');
  });

  it('later drop-ins win over earlier ones', () => {
    const unit = UnitFile.parse('[Container]\nImage=a\n');
    unit.merge(UnitFile.parse('[Container]\nImage=b\n'));
    unit.merge(UnitFile.parse('[Container]\nImage=c\n'));
    assert.equal(unit.lookupLast('Container', 'Image'), 'c');
    assert.equal(unit.toString(), '[Container]\nImage=a\nImage=b\nImage=c\n');
  });

  it('read() parses a real file and names it in entries', () => {
    const dir = mkdtempSync('/var/tmp/berth-unit-read-');
    try {
      const file = path.join(dir, 'web.container');
      writeFileSync(file, '\uFEFF[Container]\r\nImage=x\r\n');
      const unit = UnitFile.read(file);
      assert.equal(unit.path, file);
      assert.deepEqual(unit.lookupLastEntry('Container', 'Image'), { key: 'Image', value: 'x', file, line: 2 });
      assert.equal(unit.toString(), '\uFEFF[Container]\r\nImage=x\r\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
