/**
 * Anonymous volumes, as Podman makes them: the image's config Volumes, `-v /path` and
 * `--mount type=volume` without a source each get a volume in the store (64-hex name, marked
 * anonymous, filled from the image like a named one), listed by `volume ls`, kept by `rm`,
 * removed by `rm -v` and by `--rm`. Real crun, a fixture image that declares VOLUME.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, type World } from '../runtime/harness.js';

let w: World;
test.before(async () => {
  w = await startWorld('anonvol', {
    withvol: { busybox: true, volumes: ['/data', '/cache'], files: { '/data/seed.txt': 'from-image\n', '/data/sub/deep.txt': { content: 'deep\n', mode: 0o600, uid: 1000, gid: 1000 } } },
    plain: { busybox: true },
  });
});
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const volumeNames = async () => (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
interface MountView { Type: string; Name?: string; Destination: string }
const mountsOf = async (name: string) => (JSON.parse(await ok(['inspect', name])) as { Mounts: MountView[] }[])[0].Mounts;

test('image Volumes: one anonymous volume per path, filled from the image, kept by rm, removed by rm -v', async () => {
  assert.equal(await ok(['run', '--name', 'a', '--network=none', w.images.withvol, 'sh', '-c', 'cat /data/seed.txt; echo written > /data/new; echo c > /cache/c; grep -c " /data \\| /cache " /proc/self/mountinfo']), 'from-image\n2\n');
  const mounts = (await mountsOf('a')).filter((m) => m.Type === 'volume');
  assert.deepEqual(mounts.map((m) => m.Destination).sort(), ['/cache', '/data']);
  for (const m of mounts) assert.match(m.Name!, /^[0-9a-f]{64}$/);
  assert.deepEqual(await volumeNames(), mounts.map((m) => m.Name!).sort(), 'volume ls lists them');
  const data = mounts.find((m) => m.Destination === '/data')!.Name!;
  const info = JSON.parse(await ok(['volume', 'inspect', data]))[0] as { Anonymous: boolean; Mountpoint: string };
  assert.equal(info.Anonymous, true);
  // Copy-up kept content, owner and mode; the container's write is in the volume.
  assert.equal(fs.readFileSync(path.join(info.Mountpoint, 'seed.txt'), 'utf8'), 'from-image\n');
  assert.equal(fs.readFileSync(path.join(info.Mountpoint, 'new'), 'utf8'), 'written\n');
  const deep = fs.statSync(path.join(info.Mountpoint, 'sub', 'deep.txt'));
  assert.deepEqual([deep.uid, deep.mode & 0o777], [1000, 0o600]);
  // The same volumes on the next start.
  await ok(['start', 'a']);
  assert.equal(await ok(['wait', 'a']), '0\n');
  assert.deepEqual((await mountsOf('a')).filter((m) => m.Type === 'volume').map((m) => m.Name).sort(), mounts.map((m) => m.Name).sort());
  assert.equal(fs.readFileSync(path.join(info.Mountpoint, 'new'), 'utf8'), 'written\n');

  await ok(['create', '--name', 'b', '--network=none', w.images.withvol, 'true']);
  assert.equal((await volumeNames()).length, 4, 'create makes them at once');
  await ok(['rm', 'a']);
  assert.equal((await volumeNames()).length, 4, 'rm without -v keeps them (Podman)');
  await ok(['rm', '-v', 'b']);
  assert.deepEqual(await volumeNames(), mounts.map((m) => m.Name!).sort(), 'rm -v removes only b\'s');
  for (const name of await volumeNames()) await ok(['volume', 'rm', name]);
  assert.deepEqual(await w.leftovers(), []);
});

test('-v /path and --mount type=volume without source are anonymous; a named volume or bind over an image Volume replaces it; --rm removes them', async () => {
  await ok(['volume', 'create', 'mine']);
  const bind = path.join(w.dir, 'bind-src');
  fs.mkdirSync(bind);
  const out = await ok(['run', '--name', 'c', '--network=none', '-v', '/extra', '--mount', 'type=volume,target=/m', '-v', 'mine:/data', '-v', `${bind}:/cache`,
    w.images.withvol, 'sh', '-c', 'ls -A /extra /m; cat /data/seed.txt; touch /extra/x']);
  assert.equal(out, '/extra:\n\n/m:\nfrom-image\n');
  const mounts = await mountsOf('c');
  const anonymous = mounts.filter((m) => m.Type === 'volume' && m.Name !== 'mine');
  assert.deepEqual(anonymous.map((m) => m.Destination).sort(), ['/extra', '/m']);
  assert.deepEqual(mounts.filter((m) => m.Destination === '/data' || m.Destination === '/cache').map((m) => [m.Destination, m.Type, m.Name]).sort(),
    [['/cache', 'bind', undefined], ['/data', 'volume', 'mine']]);
  assert.deepEqual(await volumeNames(), [...anonymous.map((m) => m.Name!), 'mine'].sort());
  await ok(['rm', '-v', 'c']);
  assert.deepEqual(await volumeNames(), ['mine'], 'rm -v keeps named volumes');

  assert.equal(await ok(['run', '--rm', '--network=none', '-v', '/scratch', w.images.withvol, 'sh', '-c', 'echo hi > /scratch/f; cat /scratch/f /data/seed.txt']), 'hi\nfrom-image\n');
  assert.deepEqual(await volumeNames(), ['mine'], 'run --rm removes its anonymous volumes');
  await ok(['run', '-d', '--rm', '--name', 'bg', '--network=none', w.images.withvol, 'true']);
  for (let i = 0; i < 100 && (await w.berth(['inspect', 'bg'])).exitCode === 0; i++) await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 50 && (await volumeNames()).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await volumeNames(), ['mine'], 'a background --rm container removes them when it exits');
  await ok(['volume', 'rm', 'mine']);
  assert.deepEqual(await w.leftovers(), []);
});

test('a failed run leaves no anonymous volume behind', async () => {
  const r = await w.berth(['run', '--rm', '--network=none', '-v', '/x', w.images.withvol, 'no-such-command']);
  assert.equal(r.exitCode, 127);
  const s = await w.berth(['run', '--network=none', '-v', '/x', w.images.withvol, 'no-such-command']);
  assert.equal(s.exitCode, 127);
  assert.deepEqual(await volumeNames(), []);
  await w.berth(['rm', '-a', '-v']);
  assert.deepEqual(await w.leftovers(), []);
});
