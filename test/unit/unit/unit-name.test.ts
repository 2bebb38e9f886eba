import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { parseUnitName, unescapeUnitName, unescapeUnitPath } from '../../../src/unit/index.js';

describe('parseUnitName', () => {
  const cases: [string, ReturnType<typeof parseUnitName>][] = [
    ['foo.container', { prefix: 'foo', template: false, type: 'container' }],
    ['foo@.container', { prefix: 'foo', template: true, type: 'container' }],
    ['foo@bar.container', { prefix: 'foo', instance: 'bar', template: false, type: 'container' }],
    ['my-web-app.container', { prefix: 'my-web-app', template: false, type: 'container' }],
    ['db-data.volume', { prefix: 'db-data', template: false, type: 'volume' }],
    ['a.b.network', { prefix: 'a.b', template: false, type: 'network' }],
    ['web@x@y.pod', { prefix: 'web', instance: 'x@y', template: false, type: 'pod' }],
    ['getty@tty\\x2d1.service', { prefix: 'getty', instance: 'tty\\x2d1', template: false, type: 'service' }],
  ];
  for (const [name, expected] of cases) {
    it(`parses ${name}`, () => {
      assert.deepEqual(parseUnitName(name), expected);
    });
  }

  for (const bad of ['', 'foo', '.container', 'foo.', '@bar.container', 'has space.container', 'slash/x.container', 'ü.container', 'x'.repeat(250) + '.container']) {
    it(`rejects ${JSON.stringify(bad.length > 40 ? bad.slice(0, 20) + '…' : bad)}`, () => {
      assert.throws(() => parseUnitName(bad), (error: unknown) => error instanceof UnitError && error.code === 'UNIT_BAD_NAME');
    });
  }
});

describe('unit name unescaping', () => {
  it('matches systemd-escape --unescape', () => {
    for (const escaped of ['tty\\x2d1-a', 'dev-disk-by\\x2dlabel-data', 'plain', 'x\\xc3\\xa9']) {
      const fromSystemd = execFileSync('systemd-escape', ['--unescape', '--', escaped], { encoding: 'utf8' }).replace(/\n$/, '');
      assert.equal(unescapeUnitName(escaped), fromSystemd, escaped);
    }
  });

  it('matches systemd-escape --unescape --path', () => {
    for (const escaped of ['-', 'var-lib-data', 'srv-my\\x2dapp']) {
      const fromSystemd = execFileSync('systemd-escape', ['--unescape', '--path', '--', escaped], { encoding: 'utf8' }).replace(/\n$/, '');
      assert.equal(unescapeUnitPath(escaped), fromSystemd, escaped);
    }
    assert.throws(() => unescapeUnitPath('a--b'), UnitError);
    assert.throws(() => unescapeUnitPath('-a'), UnitError);
  });
});
