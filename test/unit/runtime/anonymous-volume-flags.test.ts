/** -v /path and --mount type=volume without a source ask for an anonymous volume (named at create). */
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseMount, parseVolume } from '../../../src/runtime/options.js';

test('-v DEST alone and --mount type=volume without source: anonymous volumes', () => {
  assert.deepEqual(parseVolume('/data'), { kind: 'volume', name: '', anonymous: true, destination: '/data', options: [] });
  assert.deepEqual(parseVolume('/data/../cache/'), { kind: 'volume', name: '', anonymous: true, destination: '/cache', options: [] });
  assert.deepEqual(parseMount('type=volume,target=/m,ro'), { kind: 'volume', name: '', anonymous: true, destination: '/m', options: ['ro'] });
  assert.deepEqual(parseMount('target=/m'), { kind: 'volume', name: '', anonymous: true, destination: '/m', options: [] });
  assert.throws(() => parseVolume('data'), /expected SOURCE:DESTINATION/);
});
