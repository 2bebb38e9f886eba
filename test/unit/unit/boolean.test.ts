import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBoolean } from '../../../src/unit/index.js';

describe('parseBoolean', () => {
  it('accepts systemd\'s spellings in any case', () => {
    for (const word of ['1', 'yes', 'y', 'true', 't', 'on', 'YES', 'True', 'oN', 'Y']) assert.equal(parseBoolean(word), true, word);
    for (const word of ['0', 'no', 'n', 'false', 'f', 'off', 'NO', 'False', 'OFF', 'N']) assert.equal(parseBoolean(word), false, word);
  });

  it('returns undefined for anything else', () => {
    for (const word of ['', ' yes', 'yes ', '2', 'enable', 'disabled', 'truee', 'nope', '-1']) assert.equal(parseBoolean(word), undefined, word);
  });
});
