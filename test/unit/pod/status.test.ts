import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { combineStatus, minimalInfraImage } from '../../../src/pod/index.js';

test('pod status from its containers\' states (Podman\'s rules)', () => {
  assert.equal(combineStatus([]), 'Created');
  assert.equal(combineStatus(['created', 'created']), 'Created');
  assert.equal(combineStatus(['running', 'running']), 'Running');
  assert.equal(combineStatus(['running', 'exited']), 'Degraded');
  assert.equal(combineStatus(['exited', 'created']), 'Exited');
  assert.equal(combineStatus(['stopped', 'stopped']), 'Stopped');
});

test('the minimal infra root file system: catatonit and empty mount points, built once', () => {
  const dir = fs.mkdtempSync('/var/tmp/berth-pod-unit-');
  try {
    const paths = { root: dir, runroot: `${dir}/run`, rootless: false };
    const image = minimalInfraImage(paths);
    assert.equal(image.layerDirs.length, 1);
    const rootfs = image.layerDirs[0];
    assert.deepEqual(fs.readdirSync(rootfs).sort(), ['catatonit', 'dev', 'etc', 'proc', 'run', 'sys', 'tmp']);
    assert.ok(fs.readFileSync(`${rootfs}/catatonit`).equals(fs.readFileSync('/usr/bin/catatonit')));
    assert.equal(fs.statSync(`${rootfs}/catatonit`).mode & 0o777, 0o755);
    assert.equal(fs.statSync(`${rootfs}/tmp`).mode & 0o7777, 0o1777);
    assert.deepEqual(image.config.config?.Entrypoint, ['/catatonit', '-P']);
    const again = minimalInfraImage(paths);
    assert.deepEqual(again, image);
    assert.deepEqual(fs.readdirSync(`${dir}/pods/infra-rootfs`), [rootfs.split('/').pop()], 'no temp dirs left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
