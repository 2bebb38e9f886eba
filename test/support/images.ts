/**
 * Fixture images for tests, written directly as OCI image layouts (deterministic tar + gzip
 * produced here: faster than umoci and byte-for-byte reproducible), cached by a hash of the spec
 * under /var/tmp/berth-fixtures, and pushed to a test registry with skopeo.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const execFileAsync = promisify(execFile);

export type FileSpec = string | { content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { symlink: string; uid?: number; gid?: number } | { hardlink: string } | { dir: true; mode?: number; uid?: number; gid?: number };

export interface ImageSpec {
  /** Files of the (single, or topmost) layer: path -> content or {content, mode, uid, gid}. */
  files?: Record<string, FileSpec>;
  /** include /bin/busybox (busybox-static) + applet symlinks + /etc/passwd, /etc/group (root, nobody, tester uid 1000) */
  busybox?: boolean;
  /** Extra layers placed ABOVE the base layer (busybox + files), bottom -> top. Names such as `.wh.x` are written as-is. */
  layers?: Record<string, FileSpec>[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  stopSignal?: string;
  volumes?: string[];
  labels?: Record<string, string>;
  exposedPorts?: string[];
  /** Defaults to this machine's (amd64/arm64) and linux. */
  architecture?: string;
  os?: string;
  variant?: string;
  /** Layers written uncompressed instead of gzip. */
  uncompressed?: boolean;
}

export interface ImageLayout { layout: string; tag: string }

const FIXTURE_DIR = '/var/tmp/berth-fixtures';
const BUILDER_VERSION = '3';
const BUSYBOX = '/bin/busybox';
const MTIME = 1700000000;
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const BUSYBOX_APPLETS = ['sh', 'ash', 'echo', 'cat', 'ls', 'id', 'sleep', 'env', 'pwd', 'httpd', 'wget', 'true', 'false',
  'printf', 'grep', 'ps', 'hostname', 'mount', 'umount', 'kill', 'mkdir', 'rm', 'rmdir', 'touch', 'test', '[', 'head', 'tail',
  'nc', 'ip', 'stat', 'chmod', 'chown', 'whoami', 'date', 'seq', 'wc', 'uname', 'ln', 'cp', 'mv', 'tee', 'sed', 'awk', 'timeout',
  'readlink', 'df', 'find', 'xargs', 'basename', 'dirname', 'nslookup', 'ping', 'sort', 'uniq', 'tr', 'cut', 'du', 'which',
  'sha256sum', 'md5sum', 'realpath', 'mkfifo', 'dd', 'usleep', 'setsid', 'nproc', 'stty', 'tty', 'yes', 'more', 'vi', 'ifconfig', 'route', 'netstat'];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\ntester:x:1000:\nnobody:x:65534:\n';

// ---------------------------------------------------------------- tar

interface TarEntry { name: string; type: 'file' | 'dir' | 'symlink' | 'hardlink'; mode: number; uid: number; gid: number; data?: Buffer; linkname?: string }

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(entry: TarEntry): Buffer[] {
  const out: Buffer[] = [];
  let name = entry.name + (entry.type === 'dir' && !entry.name.endsWith('/') ? '/' : '');
  const linkname = entry.linkname ?? '';
  let prefix = '';
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100) {
    // PAX extended header for long names
    const records: string[] = [];
    const rec = (k: string, v: string): void => {
      const body = ` ${k}=${v}\n`;
      const bodyLength = Buffer.byteLength(body);
      let len = bodyLength + 1;
      while (String(len).length + bodyLength !== len) len = String(len).length + bodyLength;
      records.push(`${len}${body}`);
    };
    if (Buffer.byteLength(name) > 100) rec('path', name);
    if (Buffer.byteLength(linkname) > 100) rec('linkpath', linkname);
    const pax = Buffer.from(records.join(''));
    out.push(rawHeader({ name: 'PaxHeader', typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: pax.length, linkname: '', prefix: '' }));
    out.push(pad(pax));
    name = name.slice(0, 99);
    prefix = '';
  }
  const typeflag = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[entry.type];
  out.push(rawHeader({ name, typeflag, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: entry.type === 'file' ? entry.data!.length : 0,
    linkname: linkname.slice(0, 100), prefix }));
  if (entry.type === 'file') out.push(pad(entry.data!));
  return out;
}

function rawHeader(h: { name: string; typeflag: string; mode: number; uid: number; gid: number; size: number; linkname: string; prefix: string }): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100);
  b.write(octal(h.mode & 0o7777, 8), 100);
  b.write(octal(h.uid, 8), 108);
  b.write(octal(h.gid, 8), 116);
  b.write(octal(h.size, 12), 124);
  b.write(octal(MTIME, 12), 136);
  b.write('        ', 148);
  b.write(h.typeflag, 156);
  b.write(h.linkname, 157, 100);
  b.write('ustar\0', 257);
  b.write('00', 263);
  b.write(h.uid === 0 ? 'root' : '', 265, 32);
  b.write(h.gid === 0 ? 'root' : '', 297, 32);
  b.write(h.prefix, 345, 155);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(octal(sum, 7) + ' ', 148);
  return b;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function buildTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(...tarHeader(e));
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- layers

function normalizeName(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

function layerEntries(files: Record<string, FileSpec>): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  const addDir = (dir: string, mode = 0o755, uid = 0, gid = 0, explicit = false): void => {
    if (!dir || dir === '.') return;
    addDir(path.posix.dirname(dir));
    if (!entries.has(dir) || explicit) entries.set(dir, { name: dir, type: 'dir', mode, uid, gid });
  };
  for (const [rawName, spec] of Object.entries(files)) {
    const name = normalizeName(rawName);
    addDir(path.posix.dirname(name));
    if (typeof spec === 'string') {
      entries.set(name, { name, type: 'file', mode: 0o644, uid: 0, gid: 0, data: Buffer.from(spec) });
    } else if ('symlink' in spec) {
      entries.set(name, { name, type: 'symlink', mode: 0o777, uid: spec.uid ?? 0, gid: spec.gid ?? 0, linkname: spec.symlink });
    } else if ('hardlink' in spec) {
      entries.set(name, { name, type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkname: normalizeName(spec.hardlink) });
    } else if ('dir' in spec) {
      addDir(name, spec.mode ?? 0o755, spec.uid ?? 0, spec.gid ?? 0, true);
    } else {
      const data = typeof spec.content === 'string' ? Buffer.from(spec.content) : spec.content;
      entries.set(name, { name, type: 'file', mode: spec.mode ?? 0o644, uid: spec.uid ?? 0, gid: spec.gid ?? 0, data });
    }
  }
  // Directories first (parents before children), then everything else in insertion order;
  // hard links after their targets.
  const list = [...entries.values()];
  const dirs = list.filter((e) => e.type === 'dir').sort((a, b) => a.name.localeCompare(b.name));
  const others = list.filter((e) => e.type !== 'dir' && e.type !== 'hardlink');
  const links = list.filter((e) => e.type === 'hardlink');
  return [...dirs, ...others, ...links];
}

function busyboxFiles(): Record<string, FileSpec> {
  const files: Record<string, FileSpec> = {
    'bin/busybox': { content: fs.readFileSync(BUSYBOX), mode: 0o755 },
    'etc/passwd': PASSWD,
    'etc/group': GROUP,
    'etc/hostname': 'localhost\n',
    tmp: { dir: true, mode: 0o1777 },
    root: { dir: true, mode: 0o700 },
    'home/tester': { dir: true, mode: 0o755, uid: 1000, gid: 1000 },
    proc: { dir: true },
    sys: { dir: true },
    dev: { dir: true },
    run: { dir: true },
    'var/tmp': { dir: true, mode: 0o1777 },
    'usr/bin': { dir: true },
    sbin: { dir: true },
  };
  for (const applet of BUSYBOX_APPLETS) files[`bin/${applet}`] = { symlink: 'busybox' };
  return files;
}

interface Blob { digest: string; size: number; data: Buffer }

function blob(data: Buffer): Blob {
  return { digest: `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`, size: data.length, data };
}

function hostArchitecture(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

function toSet(values: string[] | undefined): Record<string, object> | undefined {
  if (!values || values.length === 0) return undefined;
  return Object.fromEntries(values.map((v) => [v, {}]));
}

interface BuiltImage { manifest: Blob; config: Blob; layers: Blob[]; layerMediaType: string; platform: { architecture: string; os: string; variant?: string } }

function buildImage(spec: ImageSpec): BuiltImage {
  const baseFiles: Record<string, FileSpec> = { ...(spec.busybox ? busyboxFiles() : {}), ...(spec.files ?? {}) };
  const layerSpecs = [baseFiles, ...(spec.layers ?? [])];
  const layerMediaType = spec.uncompressed ? 'application/vnd.oci.image.layer.v1.tar' : 'application/vnd.oci.image.layer.v1.tar+gzip';
  const diffIds: string[] = [];
  const layers: Blob[] = [];
  for (const files of layerSpecs) {
    const tar = buildTar(layerEntries(files));
    diffIds.push(blob(tar).digest);
    layers.push(blob(spec.uncompressed ? tar : zlib.gzipSync(tar, { level: 1 })));
  }
  let env = spec.env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
  const platform = { architecture: spec.architecture ?? hostArchitecture(), os: spec.os ?? 'linux', ...(spec.variant ? { variant: spec.variant } : {}) };
  const imageConfig: Record<string, unknown> = {
    Env: env,
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd ?? (spec.busybox && !spec.entrypoint ? ['/bin/sh'] : undefined),
    WorkingDir: spec.workdir,
    User: spec.user,
    StopSignal: spec.stopSignal,
    Volumes: toSet(spec.volumes),
    ExposedPorts: toSet(spec.exposedPorts),
    Labels: spec.labels,
  };
  const config = blob(Buffer.from(JSON.stringify({
    created: new Date(MTIME * 1000).toISOString(),
    ...platform,
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: new Date(MTIME * 1000).toISOString(), created_by: 'berth test fixture' })),
  })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: layerMediaType, digest: l.digest, size: l.size })),
  })));
  return { manifest, config, layers, layerMediaType, platform };
}

// ---------------------------------------------------------------- layouts

function writeBlob(layout: string, b: Blob): void {
  const file = path.join(layout, 'blobs', 'sha256', b.digest.slice(7));
  if (!fs.existsSync(file)) fs.writeFileSync(file, b.data);
}

function writeLayout(dir: string, tag: string, images: BuiltImage[], asIndex: boolean): void {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const image of images) for (const b of [image.config, ...image.layers, image.manifest]) writeBlob(dir, b);
  const ref = { 'org.opencontainers.image.ref.name': tag };
  let top: { mediaType: string; digest: string; size: number };
  if (asIndex) {
    const index = blob(Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map((i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: i.manifest.digest, size: i.manifest.size, platform: i.platform })),
    })));
    writeBlob(dir, index);
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.size };
  } else {
    top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: images[0].manifest.digest, size: images[0].manifest.size };
  }
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: ref }] }));
}

function specHash(value: unknown): string {
  const json = JSON.stringify(value, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)));
    }
    return v;
  });
  const busyboxStat = fs.statSync(BUSYBOX);
  return crypto.createHash('sha256').update(`${BUILDER_VERSION}\0${busyboxStat.size}\0${busyboxStat.mtimeMs}\0${json}`).digest('hex').slice(0, 24);
}

function buildCached(key: unknown, tag: string, dir: string | undefined, make: (target: string) => void): ImageLayout {
  if (dir) {
    make(dir);
    return { layout: dir, tag };
  }
  const target = path.join(FIXTURE_DIR, `${specHash(key)}-${tag.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  if (fs.existsSync(path.join(target, 'index.json'))) return { layout: target, tag };
  fs.mkdirSync(FIXTURE_DIR, { recursive: true });
  const temp = fs.mkdtempSync(path.join(FIXTURE_DIR, '.build-'));
  try {
    make(temp);
    try {
      fs.renameSync(temp, target);
    } catch (error) {
      // Another process built the same fixture first: use theirs.
      if (!fs.existsSync(path.join(target, 'index.json'))) throw error;
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return { layout: target, tag };
}

/** An OCI image layout holding one image, tagged `tag` (default "latest"). */
export async function buildImageLayout(spec: ImageSpec, options: { dir?: string; tag?: string } = {}): Promise<ImageLayout> {
  const tag = options.tag ?? 'latest';
  return buildCached({ spec }, tag, options.dir, (target) => writeLayout(target, tag, [buildImage(spec)], false));
}

/** An OCI image layout whose tag names an image index with one manifest per spec (set architecture/variant on each). */
export async function buildMultiPlatformLayout(specs: ImageSpec[], options: { dir?: string; tag?: string } = {}): Promise<ImageLayout> {
  const tag = options.tag ?? 'latest';
  return buildCached({ specs, index: true }, tag, options.dir, (target) => writeLayout(target, tag, specs.map(buildImage), true));
}

/** Digests of what a layout's tag points at (the manifest or index), and its blobs. */
export function layoutTopDescriptor(layout: ImageLayout): { mediaType: string; digest: string; size: number } {
  const index = JSON.parse(fs.readFileSync(path.join(layout.layout, 'index.json'), 'utf8'));
  const match = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === layout.tag);
  if (!match) throw new Error(`tag ${layout.tag} not in ${layout.layout}`);
  return { mediaType: match.mediaType, digest: match.digest, size: match.size };
}

export interface PushOptions {
  /** skopeo --format: "oci" (default, as built) or "v2s2" (Docker schema 2). */
  format?: 'oci' | 'v2s2';
  /** Recompress layers: skopeo --dest-compress --dest-compress-format. */
  compress?: 'gzip' | 'zstd';
  /** Credentials for a registry with auth. */
  creds?: { user: string; password: string };
}

/** Push with skopeo (all platforms of an index); returns "HOST/name:tag". */
export async function pushImage(layout: ImageLayout, registryHost: string, name: string, options: PushOptions = {}): Promise<string> {
  const hasTag = /:[^/]+$/.test(name);
  const destination = `${registryHost}/${hasTag ? name : `${name}:${layout.tag}`}`;
  const args = ['copy', '--quiet', '--all', '--dest-tls-verify=false'];
  if (options.format) args.push('--format', options.format);
  if (options.compress) args.push('--dest-compress', '--dest-compress-format', options.compress);
  if (options.creds) args.push('--dest-creds', `${options.creds.user}:${options.creds.password}`);
  args.push(`oci:${layout.layout}:${layout.tag}`, `docker://${destination}`);
  try {
    await execFileAsync('skopeo', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`skopeo copy to ${destination} failed: ${(e.stderr ?? e.message).replace(/--dest-creds\s+\S+/g, '--dest-creds <redacted>')}`);
  }
  return destination;
}

/** A registries.conf (v2) marking `hosts` insecure (plain HTTP); returns its path. Tests set CONTAINERS_REGISTRIES_CONF to it. */
export function writeInsecureRegistriesConf(dir: string, hosts: string[], options: { searchRegistries?: string[]; shortNameMode?: 'enforcing' | 'permissive' | 'disabled' } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const lines = [`unqualified-search-registries = [${(options.searchRegistries ?? []).map((h) => JSON.stringify(h)).join(', ')}]`];
  if (options.shortNameMode) lines.push(`short-name-mode = ${JSON.stringify(options.shortNameMode)}`);
  for (const host of hosts) lines.push('', '[[registry]]', `location = ${JSON.stringify(host)}`, 'insecure = true');
  const file = path.join(dir, 'registries.conf');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
