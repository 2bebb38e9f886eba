/**
 * Test helpers for the image store: throwaway dirs under /var/tmp, images written straight into
 * a store (blobs + ensureLayers + recordImage), OCI layouts on disk for `umoci unpack`, and a
 * file-by-file tree comparison (type, content, mode, owner, link target, hard link groups).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ImageStore, type StoredImage } from '../../../../src/image/store/index.js';
import { gzip, sha256, zstd } from './tar-fixtures.js';

export const TEST_BASE = '/var/tmp/berth-store-tests';

export function tempDir(label: string): { dir: string; cleanup: () => void } {
  fs.mkdirSync(TEST_BASE, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TEST_BASE, `${label}-`));
  return { dir, cleanup: () => { unmountUnder(dir); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** Unmounts whatever a failed test left mounted under dir (deepest first), so cleanup never deletes through a mount. */
export function unmountUnder(dir: string): void {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) execFileSync('umount', ['-l', mount]);
}

export async function openTestStore(dir: string): Promise<ImageStore> {
  return ImageStore.open({ root: path.join(dir, 'root'), runroot: path.join(dir, 'run'), rootless: false });
}

export type Compression = 'gzip' | 'zstd' | 'none';

export interface BuiltImage {
  image: StoredImage;
  dirs: string[];
  layers: { digest: string; mediaType: string; size: number }[];
  config: { rootfs: { type: string; diff_ids: string[] }; created: string; architecture: string; os: string; config: Record<string, unknown> };
  configDigest: string;
  manifestDigest: string;
  blobs: Map<string, Buffer>;
}

export function compress(tar: Buffer, compression: Compression): Buffer {
  return compression === 'gzip' ? gzip(tar) : compression === 'zstd' ? zstd(tar) : tar;
}

const LAYER_MEDIA: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

/** The blobs of an OCI image (config, manifest, layers), not yet stored anywhere. */
export function imageBlobs(tars: Buffer[], compression: Compression | Compression[] = 'gzip', label = 'x'): Omit<BuiltImage, 'image' | 'dirs'> {
  const blobs = new Map<string, Buffer>();
  const layers = tars.map((tar, i) => {
    const c = Array.isArray(compression) ? compression[i]! : compression;
    const blob = compress(tar, c);
    const digest = sha256(blob);
    blobs.set(digest, blob);
    return { digest, mediaType: LAYER_MEDIA[c], size: blob.length };
  });
  const config = {
    created: '2024-05-01T10:00:00Z', architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/bin'], Labels: { label } },
    rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
  };
  const configBlob = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBlob);
  blobs.set(configDigest, configBlob);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBlob.length },
    layers,
  }));
  const manifestDigest = sha256(manifest);
  blobs.set(manifestDigest, manifest);
  return { layers, config, configDigest, manifestDigest, blobs };
}

export async function addImage(store: ImageStore, tars: Buffer[], names: string[], compression: Compression | Compression[] = 'gzip'): Promise<BuiltImage> {
  const built = imageBlobs(tars, compression, names.join(','));
  for (const [digest, blob] of built.blobs) await store.writeBlob(digest, blob.length, [blob]);
  const dirs = await store.ensureLayers(built.config, built.layers);
  const image = await store.recordImage({ names, manifestDigest: built.manifestDigest, configDigest: built.configDigest, layers: built.layers });
  return { ...built, image, dirs };
}

/** Writes the image as an OCI layout (for umoci). */
export function writeOciLayout(dir: string, built: Omit<BuiltImage, 'image' | 'dirs'>, tag = 'latest'): string {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, blob] of built.blobs) fs.writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), blob);
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifest = built.blobs.get(built.manifestDigest)!;
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: built.manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return dir;
}

export interface NodeInfo { type: string; mode: number; uid: number; gid: number; content?: string; link?: string; mtime?: number; nlink?: number; rdev?: number }

/** Every path under root (relative) with what a comparison needs. */
export function describeTree(root: string, options: { mtimes?: boolean } = {}): Map<string, NodeInfo> {
  const out = new Map<string, NodeInfo>();
  const walk = (rel: string): void => {
    const abs = rel === '' ? root : path.join(root, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(root, childRel));
      const info: NodeInfo = { type: kind(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isFile()) {
        info.content = crypto.createHash('sha256').update(fs.readFileSync(path.join(root, childRel))).digest('hex');
        info.nlink = st.nlink;
      }
      if (st.isSymbolicLink()) info.link = fs.readlinkSync(path.join(root, childRel));
      if (st.isCharacterDevice() || st.isBlockDevice()) info.rdev = st.rdev;
      if (options.mtimes && !st.isDirectory()) info.mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isSymbolicLink()) delete (info as Partial<NodeInfo>).mode;
      out.set(childRel, info);
      if (st.isDirectory()) walk(childRel);
    }
  };
  walk('');
  return out;
}

function kind(st: fs.Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/** Differences between two trees, as readable lines (empty = same). */
export function diffTrees(a: Map<string, NodeInfo>, b: Map<string, NodeInfo>): string[] {
  const out: string[] = [];
  for (const [p, info] of a) {
    const other = b.get(p);
    if (!other) out.push(`only in first: ${p}`);
    else if (JSON.stringify(info) !== JSON.stringify(other)) out.push(`${p}: ${JSON.stringify(info)} != ${JSON.stringify(other)}`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`only in second: ${p}`);
  return out;
}

/** A canary dir outside the store: tests check that nothing in it changes. */
export function makeCanary(dir: string): { dir: string; snapshot: () => string } {
  const canary = path.join(dir, 'canary');
  fs.mkdirSync(path.join(canary, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(canary, 'etc', 'passwd'), 'root:x:0:0\n');
  fs.writeFileSync(path.join(canary, 'etc', 'shadow'), 'secret\n', { mode: 0o600 });
  return { dir: canary, snapshot: () => JSON.stringify([...describeTree(canary, { mtimes: true })]) };
}
