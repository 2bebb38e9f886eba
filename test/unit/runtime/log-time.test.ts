/** `logs --since/--until` time values as Podman reads them, and the log file's records. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatNs, parseGoDurationNs, parseLogTime } from '../../../src/runtime/log-time.js';
import { LogParser } from '../../../src/runtime/log-file.js';
import { journalctlArgs } from '../../../src/runtime/logs.js';
import type { ContainerRecord } from '../../../src/runtime/types.js';

const NOW = 1700000000000000000n; // 2023-11-14T22:13:20Z
const at = (v: string, flag: '--since' | '--until' = '--since') => formatNs(parseLogTime(v, flag, NOW));

test('dates: RFC3339Nano, RFC3339, without zone (UTC), date with zone, date alone', () => {
  assert.equal(at('2023-11-14T22:13:20.123456789Z'), '2023-11-14T22:13:20.123456789Z');
  assert.equal(at('2023-11-14T22:13:20+01:00'), '2023-11-14T21:13:20.000000000Z');
  assert.equal(at('2023-11-14T22:13:20'), '2023-11-14T22:13:20.000000000Z');
  assert.equal(at('2023-11-14T22:13:20.5'), '2023-11-14T22:13:20.500000000Z');
  assert.equal(at('2023-11-14-02:00'), '2023-11-14T02:00:00.000000000Z');
  assert.equal(at('2023-11-14'), '2023-11-14T00:00:00.000000000Z');
});

test('unix seconds, with a fraction', () => {
  assert.equal(at('1700000000'), '2023-11-14T22:13:20.000000000Z');
  assert.equal(at('1700000000.25'), '2023-11-14T22:13:20.250000000Z');
});

test('Go durations: back from now for --since, forward for --until (as Podman)', () => {
  assert.equal(parseGoDurationNs('1h30m'), 5400000000000n);
  assert.equal(parseGoDurationNs('1.5s'), 1500000000n);
  assert.equal(parseGoDurationNs('300ms'), 300000000n);
  assert.equal(parseGoDurationNs('10'), undefined);
  assert.equal(at('10m'), '2023-11-14T22:03:20.000000000Z');
  assert.equal(at('2h45m'), '2023-11-14T19:28:20.000000000Z');
  assert.equal(at('10m', '--until'), '2023-11-14T22:23:20.000000000Z');
});

test('bad values: one line naming the flag and the value', () => {
  assert.throws(() => parseLogTime('yesterday', '--since', NOW), /--since yesterday: unable to interpret time value/);
  assert.throws(() => parseLogTime('2023-02-30', '--until', NOW), /--until 2023-02-30: unable to interpret/);
  assert.throws(() => parseLogTime('10x', '--since', NOW), /unable to interpret/);
});

test('journal: --since/--until become @seconds.micros', () => {
  const record = { options: { systemdUnit: 'web.service' } } as unknown as ContainerRecord;
  const args = journalctlArgs(record, { since: '10m', until: '1700000000.5' }, NOW)!;
  assert.deepEqual(args.slice(args.indexOf('--since')), ['--since', '@1699999400.000000', '--until', '@1700000000.500000']);
});

test('log records: F lines, P pieces joined to their F per stream, partial records across chunks, foreign lines kept', () => {
  const p = new LogParser();
  const a = p.push('2023-11-14T22:13:20.000000001Z stdout F one\n2023-11-14T22:13:21.000000000Z stdout P tw');
  assert.deepEqual(a.map((l) => [l.text, l.stream, l.complete, l.time]), [['one', 'stdout', true, '2023-11-14T22:13:20.000000001Z']]);
  assert.equal(a[0].timeNs, NOW + 1n);
  const b = p.push('o\n2023-11-14T22:13:22.000000000Z stderr F err line\n2023-11-14T22:13:23.000000000Z stdout F  words \nsh: python3: not found\n2023-11-14T22:13:24.000000000Z stdout P prompt> \n');
  assert.deepEqual(b.map((l) => [l.text, l.stream, l.time]), [['err line', 'stderr', '2023-11-14T22:13:22.000000000Z'], ['two words ', 'stdout', '2023-11-14T22:13:21.000000000Z'], ['sh: python3: not found', 'stdout', undefined]]);
  assert.deepEqual(p.flush().map((l) => [l.text, l.complete]), [['prompt> ', false]]);
  p.push('2023-11-14T22:13:25.000000000Z stdout F cut-off');
  assert.deepEqual(p.flush().map((l) => l.text), ['cut-off'], 'a record still being written counts at the end');
});
