/**
 * A long first pull keeps the unit's start alive: a `.container` unit with TimeoutStartSec=5 whose
 * image comes through a FAKE slow network (test/e2e/support/fake-slow-network-proxy.ts, ~2.2 MB at
 * 160 kB/s, so well over 10 s) must become active, not fail with a start timeout, because berth
 * extends the timeout (EXTEND_TIMEOUT_USEC=) while bytes arrive; and while it pulls,
 * `systemctl show -p StatusText` / `systemctl status` show the pull's progress (STATUS=).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImageLayout } from '../../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../../support/sysbox.js';

const PROXY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'fake-slow-network-proxy.js');
const SLOW_REGISTRY = '127.0.0.1:5001';
const RATE = 160_000;   // bytes per second

/** Incompressible and reproducible (the fixture cache keys on the content): SHA-256 in counter mode. */
function noise(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0, off = 0; off < bytes; i++, off += 32) crypto.createHash('sha256').update(`berth-slow-pull-${i}`).digest().copy(out, off);
  return out;
}

let box: Sysbox;
test.before(async () => {
  const layout = await buildImageLayout({
    busybox: true,
    files: { '/data/noise.bin': { content: noise(2 * 1024 * 1024) } },
    entrypoint: ['sh', '-c', 'echo pulled-and-running; trap "exit 0" TERM; while :; do sleep 0.1; done'],
  });
  box = await startSysbox({ name: 'slow-pull' });
  await installBerthInSysbox(box);
  await box.startRegistry();
  await box.pushImage(layout, 'test/big:latest');
  await box.exec(['systemd-run', '--unit=fake-slow-network', '--property=Type=exec', process.execPath, PROXY, '5001', '127.0.0.1:5000', String(RATE)]);
  await box.exec(['tee', '/etc/containers/registries.conf.d/60-slow.conf'], { input: `[[registry]]\nlocation = "${SLOW_REGISTRY}"\ninsecure = true\n` });
  await box.exec(['mkdir', '-p', '/etc/containers/systemd']);
  await box.sh(`for i in $(seq 1 100); do curl -fsS -o /dev/null http://${SLOW_REGISTRY}/v2/ && exit 0; sleep 0.1; done; exit 1`);
});
test.after(async () => { await box?.stop(); });

test('TimeoutStartSec=5 and a pull of more than 10 s: the unit becomes active, StatusText shows the pull', async () => {
  await box.exec(['tee', '/etc/containers/systemd/slowpull.container'], { input: [
    '[Container]', `Image=${SLOW_REGISTRY}/test/big:latest`, 'Network=none', '[Service]', 'TimeoutStartSec=5', '',
  ].join('\n') });
  await box.systemctl('daemon-reload');
  // Record what systemd shows, from inside, every 200 ms until the start is over.
  const watch = box.sh([
    'for i in $(seq 1 400); do',
    '  s=$(systemctl show -p ActiveState,StatusText slowpull.service | tr "\\n" "|"); echo "$s";',
    '  case "$s" in *"StatusText=Pulling "*ActiveState=activating*|*ActiveState=activating*"StatusText=Pulling "*) [ -z "$st" ] && st=1 && systemctl status --no-pager slowpull.service | sed "s/^/status: /";; esac;',
    '  case "$s" in *ActiveState=active\\|*|*ActiveState=failed*|*ActiveState=inactive*) [ $i -gt 5 ] && break;; esac;',
    '  sleep 0.2;',
    'done',
  ].join('\n'), { timeoutMs: 120_000 });
  const t0 = Date.now();
  const start = await box.exec(['systemctl', 'start', 'slowpull.service'], { check: false, timeoutMs: 90_000 });
  const took = Date.now() - t0;
  const seen = (await watch).stdout;
  const props = (await box.exec(['systemctl', 'show', '-p', 'ActiveState,Result', 'slowpull.service'])).stdout;
  assert.equal(start.exitCode, 0, `systemctl start failed after ${took} ms:\n${start.stderr}\n${props}\n${seen}\n${await box.journal('slowpull.service')}`);
  assert.match(props, /ActiveState=active/);
  assert.match(props, /Result=success/);
  assert.ok(took > 10_000, `the pull took ${took} ms: not slow enough to prove anything`);

  // While activating, StatusText carried the pull's progress, and it moved.
  const statuses = seen.split('\n').filter((l) => l.includes('ActiveState=activating')).map((l) => /StatusText=([^|]*)/.exec(l)?.[1] ?? '').filter(Boolean);
  const progress = [...new Set(statuses.filter((s) => /Pulling .*test\/big.*\d+(\.\d+)? of \d+(\.\d+)? MB/.test(s)))];
  assert.ok(progress.length >= 3, `no pull progress seen in StatusText while activating:\n${seen}`);
  assert.match(seen, /^status: .*Status: "Pulling /m, 'systemctl status shows it');
  assert.match(await box.waitForJournal('slowpull.service', /pulled-and-running/), /pulled-and-running/);
  // Ready: the status line is cleared.
  assert.equal((await box.exec(['systemctl', 'show', '-p', 'StatusText', '--value', 'slowpull.service'])).stdout.trim(), '');
  await box.systemctl('stop', 'slowpull.service');
});
