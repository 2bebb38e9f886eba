import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ImageStore } from '../../../../src/image/store/index.js';
import { addImage, openTestStore, tempDir, type BuiltImage } from '../../../unit/image/store/store-fixtures.js';
import { makeTar } from '../../../unit/image/store/tar-fixtures.js';

const BERTH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../bin/berth.js');

describe('berth images / rmi / image inspect|mount|unmount|prune|ls|rm', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ImageStore;
  let web: BuiltImage;
  let tool: BuiltImage;

  function berth(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BERTH, '--root', store.paths.root, '--runroot', store.paths.runroot, ...args], (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  before(async () => {
    t = tempDir('cli');
    store = await openTestStore(t.dir);
    web = await addImage(store, [makeTar([{ name: 'index.html', content: 'x'.repeat(1500) }]), makeTar([{ name: 'etc/conf', content: 'c' }])], ['registry.example:5000/team/web:1.0', 'registry.example:5000/team/web:latest']);
    tool = await addImage(store, [makeTar([{ name: 'tool', content: 'tool' }])], ['docker.io/library/tool:latest']);
  });
  after(async () => {
    await berth('image', 'unmount', '--all');
    t.cleanup();
  });

  it('lists images as a table, IDs with -q, JSON with --format json', async () => {
    const table = await berth('images');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.equal(lines.length, 4);
    assert.ok(lines.some((l) => new RegExp(`^registry.example:5000/team/web\\s+1.0\\s+${web.image.id.slice(0, 12)}\\s+.*ago\\s+1.5 kB$`).test(l)), table.stdout);
    assert.ok(lines.some((l) => l.startsWith('docker.io/library/tool') && l.includes(tool.image.id.slice(0, 12))));
    const quiet = await berth('image', 'ls', '-q');
    assert.deepEqual(quiet.stdout.trim().split('\n').sort(), [web.image.id.slice(0, 12), tool.image.id.slice(0, 12)].sort());
    const json = JSON.parse((await berth('images', '--format', 'json')).stdout) as { Id: string; RepoTags: string[]; Size: number }[];
    assert.equal(json.length, 2);
    assert.deepEqual(json.find((i) => i.Id === web.image.id)?.RepoTags, ['registry.example:5000/team/web:1.0', 'registry.example:5000/team/web:latest']);
    const filtered = await berth('images', '-q', '--filter', 'reference=*/team/web:1.0', '--filter', 'dangling=false');
    assert.equal(filtered.stdout, `${web.image.id.slice(0, 12)}\n`);
    assert.equal((await berth('images', '-q', '--filter', 'dangling=true')).stdout, '');
    const tmpl = await berth('images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.ok(tmpl.stdout.split('\n').includes('docker.io/library/tool:latest'));
  });

  it('inspects an image: Id, Digest, RepoTags, Config, RootFS layers, sizes', async () => {
    const out = await berth('image', 'inspect', 'team/web:1.0');
    assert.equal(out.code, 0, out.stderr);
    const [view] = JSON.parse(out.stdout) as Record<string, any>[];
    assert.equal(view!.Id, web.image.id);
    assert.equal(view!.Digest, web.manifestDigest);
    assert.deepEqual(view!.RepoTags, ['registry.example:5000/team/web:1.0', 'registry.example:5000/team/web:latest']);
    assert.deepEqual(view!.RootFS, { Type: 'layers', Layers: web.config.rootfs.diff_ids });
    assert.deepEqual(view!.Config, web.config.config);
    assert.equal(view!.Size, 1501);
    assert.deepEqual(view!.Layers.map((l: { Digest: string }) => l.Digest), web.layers.map((l) => l.digest));
    const missing = await berth('image', 'inspect', 'nothere');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'Error: nothere: image not known');
  });

  it('mounts and unmounts an image', async () => {
    const out = await berth('image', 'mount', 'tool');
    assert.equal(out.code, 0, out.stderr);
    const dir = out.stdout.trim();
    assert.equal(fs.readFileSync(path.join(dir, 'tool'), 'utf8'), 'tool');
    const listed = await berth('image', 'mount');
    assert.ok(listed.stdout.includes(dir));
    const un = await berth('image', 'unmount', 'tool');
    assert.equal(un.code, 0, un.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'tool')));
  });

  it('rmi untags, deletes, frees blobs; image prune -a removes the rest', async () => {
    let out = await berth('rmi', 'registry.example:5000/team/web:latest');
    assert.equal(out.stdout, 'Untagged: registry.example:5000/team/web:latest\n');
    out = await berth('image', 'rm', 'registry.example:5000/team/web:1.0');
    assert.equal(out.stdout, `Untagged: registry.example:5000/team/web:1.0\nDeleted: ${web.image.id}\n`);
    for (const layer of web.layers) assert.ok(!fs.existsSync(store.blobPath(layer.digest)));
    out = await berth('rmi', 'nothere');
    assert.equal(out.code, 1);
    assert.match(out.stderr, /nothere: image not known/);
    assert.equal((await berth('rmi', '-i', 'nothere')).code, 0);
    out = await berth('image', 'prune', '-a');
    assert.equal(out.stdout.trim(), tool.image.id);
    assert.equal((await berth('images', '-q')).stdout, '');
    assert.deepEqual(fs.readdirSync(store.layout.blobsDir), []);
  });
});
