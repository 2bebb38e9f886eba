import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { splitWords } from '../../../src/unit/index.js';
import { probeOnce } from './systemd-analyze.js';

describe('splitWords', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['   \t ', []],
    ['a b  c', ['a', 'b', 'c']],
    ['  lead and trail  ', ['lead', 'and', 'trail']],
    ['tab\tnewline\ncr\rend', ['tab', 'newline', 'cr', 'end']],
    ['"a b" \'c d\'', ['a b', 'c d']],
    ['"" \'\' x', ['', '', 'x']],
    ['a"b c"d', ['ab cd']],
    ["it's\" \"fine'", ['its" "fine']],
    ['it"\'s "fine', ["it's fine"]],
    ['"nested \'single\' quotes"', ["nested 'single' quotes"]],
    ["'nested \"double\" quotes'", ['nested "double" quotes']],
    ['"esc \\" quote"', ['esc " quote']],
    ["'single \\n escapes'", ['single \n escapes']],
    ['\\a\\b\\f\\n\\r\\t\\v', ['\x07\x08\x0c\n\r\t\x0b']],
    ['back\\\\slash', ['back\\slash']],
    ['sp\\sace', ['sp ace']],
    ['\\"quoted\\"', ['"quoted"']],
    ["\\'", ["'"]],
    ['\\x41\\x7e', ['A~']],
    ['\\101\\176', ['A~']],
    ['\\xc3\\xa9 \\303\\251', ['é', 'é']],
    ['\\u00e9 \\U0001F6A2', ['é', '🚢']],
    ['grüße 🚢', ['grüße', '🚢']],
    ['%h $HOME ${X}', ['%h', '$HOME', '${X}']],
    ['a;b ; c', ['a;b', ';', 'c']],
    ['--env=A="x y"', ['--env=A=x y']],
  ];
  for (const [input, words] of cases) {
    it(`splits ${JSON.stringify(input)}`, () => {
      assert.deepEqual(splitWords(input), words);
    });
  }

  const strictErrors: [string, RegExp][] = [
    ['"unterminated', /unbalanced quoting/],
    ["a 'b", /unbalanced quoting/],
    ['trailing\\', /trailing backslash/],
    ['"quoted trailing\\', /trailing backslash/],
    ['\\q', /invalid escape sequence "\\q"/],
    ['escaped\\ space', /invalid escape sequence "\\ "/],
    ['\\x0', /invalid escape sequence/],
    ['\\x00', /invalid escape sequence/],
    ['\\000', /invalid escape sequence/],
    ['\\400', /invalid escape sequence/],
    ['\\u12', /invalid escape sequence/],
    ['\\ud800', /invalid escape sequence/],
    ['\\U00110000', /invalid escape sequence/],
    ['\\uffff', /invalid escape sequence/],
  ];
  for (const [input, message] of strictErrors) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => splitWords(input), (error: unknown) => {
        assert.ok(error instanceof UnitError);
        assert.equal(error.code, 'UNIT_BAD_QUOTING');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('names file, line and key when given a source', () => {
    assert.throws(() => splitWords('a "b', { source: { file: 'web.container', line: 7, key: 'Exec' } }), (error: unknown) => {
      assert.ok(error instanceof UnitError);
      assert.equal(error.message, 'web.container:7: Exec: unbalanced quoting in "a "b"');
      assert.equal(error.context.file, 'web.container');
      assert.equal(error.context.line, 7);
      return true;
    });
  });

  it('relax (EXTRACT_RELAX) ends the word at an unbalanced quote or trailing backslash', () => {
    assert.deepEqual(splitWords('a "b c', { relax: true }), ['a', 'b c']);
    assert.deepEqual(splitWords("x 'y\\", { relax: true }), ['x', 'y']);
    assert.deepEqual(splitWords('end\\', { relax: true }), ['end']);
    assert.throws(() => splitWords('\\q', { relax: true }), UnitError);
  });

  it('retainEscape keeps backslashes as ordinary characters (config_parse_strv)', () => {
    assert.deepEqual(splitWords('a\\x41 "b\\" c', { retainEscape: true }), ['a\\x41', 'b\\', 'c']);
    assert.deepEqual(splitWords('dev-disk-by\\x2dlabel.device x.target', { retainEscape: true }), ['dev-disk-by\\x2dlabel.device', 'x.target']);
  });

  it('unescapeRelax keeps unknown escapes verbatim as systemd Exec= parsing does', () => {
    assert.deepEqual(splitWords("grep '\\d+' a\\ b", { unescapeRelax: true }), ['grep', '\\d+', 'a\\ b']);
    assert.deepEqual(splitWords('end\\', { unescapeRelax: true }), ['end\\']);
  });

  // The installed systemd is the reference: it prints the first word of ExecStart= after parsing.
  const systemdCases = [
    '/a"b c"d',
    "'/a\\tb'c\"d\\\"\"",
    '"/a\\x41\\u00e9\\101\\sZ\\tY"',
    '/p\\xc3\\xa9\\303\\251',
    "/sq'\\\\'dq\"\\'\"",
    '"/quoted with spaces" arg',
    '/end\\\\',
    '/x""y\'\'z',
    '/\\U0001F6A2\\u2603',
  ];
  const fromSystemd = probeOnce(systemdCases.map((value) => ({ execStart: value.replaceAll('%', '%%') })));
  systemdCases.forEach((value, index) => {
    it(`agrees with systemd-analyze on ExecStart=${value}`, () => {
      const result = fromSystemd()[index]!;
      assert.equal(splitWords(value)[0], result.path, result.output);
    });
  });
});
