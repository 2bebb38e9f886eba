import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createProgressRenderer, formatBytes } from '../../../src/image/progress.js';

function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  (stream as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
  return { stream, text: () => out };
}

const L = `sha256:${'ab'.repeat(32)}`;

test('formatBytes', () => {
  assert.equal(formatBytes(512), '512B');
  assert.equal(formatBytes(1536), '1.5KiB');
  assert.equal(formatBytes(200 * 1024 * 1024), '200MiB');
});

test('plain lines when not a terminal: one "done" per layer, retries shown; quiet prints nothing', () => {
  const { stream, text } = capture(false);
  const r = createProgressRenderer(stream, { tty: false });
  r.onProgress({ phase: 'resolving', image: 'x', message: 'Trying to pull x...' });
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 10, total: 100, message: 'downloading' });
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 10, total: 100, message: 'retrying in 0.2s after aborted' });
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 100, total: 100, message: 'downloading' });
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 100, total: 100, message: 'downloaded' });
  r.onProgress({ phase: 'done', image: 'x', message: 'abc' });
  r.finish();
  assert.equal(text(), `Trying to pull x...\nCopying blob ${'ab'.repeat(6)}: retrying in 0.2s after aborted\nCopying blob ${'ab'.repeat(6)} done\n`);
  const q = capture(false);
  const quiet = createProgressRenderer(q.stream, { quiet: true });
  quiet.onProgress({ phase: 'resolving', image: 'x', message: 'Trying' });
  assert.equal(q.text(), '');
});

test('terminal: per-layer line with bytes, a bar and a rate, redrawn in place', () => {
  const { stream, text } = capture(true);
  const r = createProgressRenderer(stream, { tty: true });
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 5 * 1048576, total: 10 * 1048576, message: 'downloading' });
  r.finish();
  assert.match(text(), new RegExp(`Copying blob ${'ab'.repeat(6)} \\[=========> {10}\\] 5\\.0MiB / 10\\.0MiB {2}[\\d.]+[KMG]?i?B/s`));
  r.onProgress({ phase: 'layer', image: 'x', layer: L, bytes: 10 * 1048576, total: 10 * 1048576, message: 'downloaded' });
  r.onProgress({ phase: 'done', image: 'x', message: 'id' });
  assert.match(text(), /\x1b\[1A\x1b\[2KCopying blob abababababab done 10\.0MiB\n$/);
});
