import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EarlyStart } from '../../../src/image/early-start.js';

/** A download stand-in: records when its request went out, and whether it was cleaned up. */
function source(chunks: string[], log: string[], fail?: Error): AsyncGenerator<string> {
  return (async function* () {
    log.push('requested');
    try {
      if (fail) throw fail;
      for (const chunk of chunks) yield chunk;
    } finally {
      log.push('closed');
    }
  })();
}

test('the request goes out at once; the reader then gets every chunk in order', async () => {
  const log: string[] = [];
  const early = new EarlyStart(source(['a', 'b', 'c'], log));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['requested'], 'requested before anything read it');
  const got: string[] = [];
  for await (const chunk of early) got.push(chunk);
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.deepEqual(log, ['requested', 'closed']);
  assert.throws(() => early[Symbol.asyncIterator](), /read once/);
});

test('close() ends a download nobody read; a reader that stops early ends it too', async () => {
  const unread: string[] = [];
  new EarlyStart(source(['a', 'b'], unread)).close();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unread, ['requested', 'closed']);

  const partly: string[] = [];
  const early = new EarlyStart(source(['a', 'b', 'c'], partly));
  for await (const chunk of early) if (chunk === 'a') break;
  assert.deepEqual(partly, ['requested', 'closed']);
  early.close(); // after the reader: nothing more to do
});

test('a failure before anyone reads is no unhandled rejection: the reader sees it', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
  process.on('unhandledRejection', onUnhandled);
  try {
    const early = new EarlyStart(source([], [], new Error('connection refused')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(unhandled, []);
    await assert.rejects(async () => { for await (const _ of early) { /* nothing */ } }, /connection refused/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
