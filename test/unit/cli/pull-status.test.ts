import test from 'node:test';
import assert from 'node:assert/strict';
import { PullStatus, systemdPullProgress, EXTEND_USEC } from '../../../src/cli/commands/pull-status.js';

test('pull status: layers add up into one line; other phases say what happens', () => {
  const s = new PullStatus('reg/x:1');
  assert.equal(s.line({ phase: 'resolving', message: 'Trying to pull reg/x:1...', image: 'reg/x:1' }), 'Pulling reg/x:1: Trying to pull reg/x:1...');
  assert.equal(s.line({ phase: 'layer', message: 'downloading', layer: 'a', bytes: 500_000, total: 2_000_000 }), 'Pulling reg/x:1: 0.5 of 2.0 MB (0 of 1 layers)');
  assert.equal(s.line({ phase: 'layer', message: 'downloaded', layer: 'b', bytes: 300_000, total: 300_000 }), 'Pulling reg/x:1: 0.8 of 2.3 MB (1 of 2 layers)');
  assert.equal(s.line({ phase: 'layer', message: 'retrying in 1.0s after ECONNRESET', layer: 'a', bytes: 600_000, total: 2_000_000 }), 'Pulling reg/x:1: 0.9 of 2.3 MB (1 of 2 layers, retrying in 1.0s after ECONNRESET)');
  assert.equal(s.line({ phase: 'unpacking', message: 'Unpacking 0123456789ab' }), 'Pulling reg/x:1: unpacking layer 0123456789ab');
  assert.equal(s.line({ phase: 'done', message: 'id' }), 'Pulled reg/x:1');
});

test('pull progress to systemd: at most one message a second per phase, each extending the timeout; send errors do not stop the pull', async () => {
  let clock = 0;
  const sent: string[][] = [];
  const p = systemdPullProgress('reg/x:1', async (a) => { sent.push(a); if (sent.length === 2) throw new Error('notify socket gone'); }, () => clock);
  p.onProgress({ phase: 'resolving', message: 'Trying' });
  for (let i = 1; i <= 30; i++) { clock = i * 100; p.onProgress({ phase: 'layer', message: 'downloading', layer: 'a', bytes: i * 100_000, total: 3_000_000 }); }
  p.onProgress({ phase: 'done', message: 'id' });
  await p.flush();
  assert.deepEqual(sent.map((a) => a[0]), [
    'STATUS=Pulling reg/x:1: Trying',
    'STATUS=Pulling reg/x:1: 0.1 of 3.0 MB (0 of 1 layers)',
    'STATUS=Pulling reg/x:1: 1.1 of 3.0 MB (0 of 1 layers)',
    'STATUS=Pulling reg/x:1: 2.1 of 3.0 MB (0 of 1 layers)',
    'STATUS=Pulled reg/x:1',
  ]);
  assert.ok(sent.every((a) => a[1] === `EXTEND_TIMEOUT_USEC=${EXTEND_USEC}`));
});
