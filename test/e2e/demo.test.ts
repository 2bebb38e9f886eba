/**
 * The README's first command, `npm run demo`, minus its install/build prelude (the test run has
 * built already): units/examples/demo.sh --under-systemd inside a sysbox, in both network modes.
 * It starts a registry, pushes the demo image, installs the generator, starts web.service from
 * units/examples/web.container, fetches the page on localhost:8080, and cleans up after itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startSysbox } from '../support/sysbox.js';

test('the demo serves its page through systemd in both network modes, then cleans up', async () => {
  const box = await startSysbox({ name: 'demo' });
  try {
    const demo = join(box.repoRoot, 'units', 'examples', 'demo.sh');
    for (const network of ['publish', 'host']) {
      const run = await box.exec(['bash', demo, '--under-systemd'], {
        check: false, timeoutMs: 180_000,
        // the image layout is built inside the box (its own /var/tmp), not in the checkout's .cache
        env: { BERTH_DEMO_NETWORK: network, BERTH_DEMO_IMAGE_DIR: '/var/tmp/berth-demo-image' },
      });
      const output = run.stdout + run.stderr;
      assert.equal(run.exitCode, 0, `demo (${network}) failed:\n${output}`);
      assert.match(output, /<h1>Hello from berth<\/h1>/);
      assert.match(output, /== demo OK/);
      assert.match(output, /web\[\d+\]: \S+: response:200/, 'the request shows in the journal (container output reaches journald)');
      assert.match(output, network === 'publish' ? /0\.0\.0\.0:8080->80\/tcp\s+web/ : /\/bin\/serve 8080 .*\sweb\n/);
      // cleaned up: no unit file, no generator, no registry, nothing listening
      assert.notEqual((await box.exec(['test', '-e', '/etc/containers/systemd/web.container'], { check: false })).exitCode, 0);
      assert.notEqual((await box.exec(['test', '-e', '/usr/local/lib/systemd/system-generators/berth-generator'], { check: false })).exitCode, 0);
      assert.notEqual((await box.exec(['systemctl', 'is-active', 'berth-demo-registry.service'], { check: false })).stdout.trim(), 'active');
      assert.notEqual((await box.exec(['curl', '-fsS', 'http://127.0.0.1:8080/'], { check: false })).exitCode, 0);
    }
  } finally {
    await box.stop();
  }
});
