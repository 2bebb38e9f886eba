import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { escapeSpecifiers, quoteExecArg, splitWords } from '../../../src/unit/index.js';
import { probeOnce } from './systemd-analyze.js';

const TRICKY = [
  'plain',
  '--flag=value',
  '',
  ' ',
  'two words',
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  '"double"',
  "'single'",
  'mixed "both\' kinds',
  'back\\slash',
  'trailing\\',
  '\\\\',
  'bell\x07 esc\x1b del\x7f',
  'c1\u0085control',
  'grüße 🚢 ☃',
  '%h and %%',
  '$HOME ${X}',
  ';',
  'a;b',
  '\\x41 is not an escape here',
  'mid"quote',
  '=',
  '-',
  '\u00a0nbsp\u00a0',
];

describe('quoteExecArg', () => {
  it('leaves plain words bare', () => {
    for (const word of ['plain', '--flag=value', '/usr/bin/x', 'a;b', '%h', '$HOME', 'grüße', 'key=v@l:1,2']) {
      assert.equal(quoteExecArg(word), word);
    }
  });

  it('double-quotes with C escapes when needed', () => {
    assert.equal(quoteExecArg(''), '""');
    assert.equal(quoteExecArg('two words'), '"two words"');
    assert.equal(quoteExecArg('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteExecArg("it's"), '"it\'s"');
    assert.equal(quoteExecArg('a\\b'), '"a\\\\b"');
    assert.equal(quoteExecArg('l1\nl2\tx\x1b'), '"l1\\nl2\\tx\\x1b"');
    assert.equal(quoteExecArg(';'), '";"');
  });

  it('round-trips a table of tricky words through splitWords', () => {
    const line = TRICKY.map(quoteExecArg).join(' ');
    assert.deepEqual(splitWords(line), TRICKY);
    for (const word of TRICKY) assert.deepEqual(splitWords(quoteExecArg(word)), [word], JSON.stringify(word));
  });

  it('round-trips generated words (every ASCII character and some non-ASCII, in random mixes)', () => {
    const alphabet = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).concat(['é', '🚢', '\u0085', '\u2028']);
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const words: string[] = [];
    for (let i = 0; i < 500; i++) {
      let word = '';
      const length = random(12);
      for (let j = 0; j < length; j++) word += alphabet[random(alphabet.length)];
      words.push(word);
    }
    assert.deepEqual(splitWords(words.map(quoteExecArg).join(' ')), words);
  });

  it('refuses NUL, which a unit file cannot carry', () => {
    assert.throws(() => quoteExecArg('a\0b'), (error: unknown) => error instanceof UnitError && error.code === 'UNIT_BAD_VALUE');
  });

  // The real check: systemd reads the quoted word back as the original (with % escaped for it).
  // Words with CR/LF are left out only because systemd's logger splits messages there.
  const forSystemd = TRICKY.filter((word) => !/[\r\n]/.test(word) && word !== ';').map((word) => '/x' + word);
  const fromSystemd = probeOnce(forSystemd.map((word) => ({ execStart: escapeSpecifiers(quoteExecArg(word)) })));
  forSystemd.forEach((word, index) => {
    it(`systemd reads back ${JSON.stringify(word)}`, () => {
      const result = fromSystemd()[index]!;
      assert.equal(result.path, word, result.output);
    });
  });
});
