/**
 * The strict layer extractor. Writes one layer into its own empty directory in the overlayfs
 * format (whiteouts as 0/0 char devices, opaque dirs with trusted.overlay.opaque=y), and refuses
 * any entry that could write outside that directory:
 *  - names are split into components; absolute names and any ".." component are refused;
 *  - every parent component is checked with lstat once (cached) and must be a real directory,
 *    never a symlink (symlinks are created as-is and never followed when writing);
 *  - files are created with O_EXCL|O_NOFOLLOW after removing whatever was at the path;
 *  - hard links must name an existing non-directory entry of this same layer, reached through
 *    real directories only (link(2) does not follow a symlink target);
 *  - block and char devices are refused, except char 0/0 (which is a whiteout);
 *  - whiteout names must be a plain file name (no "..", ".", "" or "/").
 * A refused layer throws ImageError naming the entry; the caller removes the directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImageError } from '../../errors/index.js';
import { decompressStream, type Compression } from './compression.js';
import { deadBytes } from '../young-garbage.js';
import { readTar, type TarEntry } from './tar-reader.js';
import { chownError } from './idmap.js';

export interface UnpackOptions {
  /** Expected diff ID ("sha256:…"); a mismatch refuses the layer. */
  diffId?: string;
  /** Keep ownership with lchown (rootful). Rootless: false, files stay owned by the user. */
  keepOwnership?: boolean;
  /** Name used in error messages (the layer digest). */
  layer?: string;
  /** Opaque marker xattr: trusted.overlay.opaque (rootful) or user.overlay.opaque (rootless, mount with userxattr). */
  opaqueXattr?: string;
  /**
   * Make `dest` (and its parents) first, in the extractor's thread: a streamed layer's temp dir is
   * then made by the worker, not on the main thread's pool before the first byte may flow.
   */
  makeDest?: boolean;
}

export interface UnpackResult {
  diffId: string;
  compression: Compression;
  /** Bytes of regular file content. */
  size: number;
  entries: number;
  /** xattrs the filesystem would not take (name and why), best effort as the issue allows. */
  warnings: string[];
}

const O_CREATE_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';
const OVERRIDE_STAT = 'user.containers.override_stat';

type NodeKind = 'dir' | 'file' | 'symlink' | 'other' | 'whiteout';

interface Meta { name: string; uid: number; gid: number; mode: number; mtime: number }

export async function unpackLayerFile(blobFile: string, dest: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  return unpackLayerStream(fs.createReadStream(blobFile, { highWaterMark: 256 * 1024 }), dest, { ...options, layer: options.layer ?? blobFile });
}

/**
 * The same from the compressed bytes as they arrive (a download in progress): the format comes
 * from the first bytes. `source` is read only as fast as the layer is written (backpressure), and
 * must yield the whole blob; errors of `source` come out unchanged.
 */
export async function unpackLayerStream(source: AsyncIterable<Uint8Array>, dest: string, options: UnpackOptions = {}, onConsumed?: (chunk: Buffer) => void): Promise<UnpackResult> {
  let compression: Compression = 'none';
  const tar = decompressStream(source, (c) => (compression = c), onConsumed);
  const hash = crypto.createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      hash.update(chunk);
      deadBytes(chunk.length);
      yield chunk;
    }
  }
  if (options.makeDest) fs.mkdirSync(dest, { recursive: true });
  const writer = new LayerWriter(dest, options);
  for await (const entry of readTar(hashed())) await writer.write(entry);
  const diffId = `sha256:${hash.digest('hex')}`;
  if (options.diffId !== undefined && diffId !== options.diffId) {
    throw new ImageError('diff-id-mismatch', `layer ${options.layer}: uncompressed digest ${diffId} does not match the config's diff ID ${options.diffId}`, {
      context: { digest: options.layer, expected: options.diffId, actual: diffId },
    });
  }
  await writer.finish();
  return { diffId, compression, size: writer.size, entries: writer.entries, warnings: writer.warnings };
}

export class LayerWriter {
  size = 0;
  entries = 0;
  readonly warnings: string[] = [];
  /** What this layer has written, by relative path ("" is the root). The dir starts empty. */
  private readonly nodes = new Map<string, NodeKind>([['', 'dir']]);
  /** Directories whose real-dir-ness was checked with lstat. */
  private readonly checkedDirs = new Set<string>(['']);
  /** Whiteouts to create at the end, with the mtime of their tar entry. */
  private readonly whiteouts = new Map<string, number>();
  private readonly opaque = new Set<string>();
  private readonly dirTimes = new Map<string, number>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private readonly keepOwnership: boolean;

  constructor(private readonly root: string, private readonly options: UnpackOptions = {}) {
    this.keepOwnership = options.keepOwnership ?? process.getuid?.() === 0;
  }

  async write(entry: TarEntry): Promise<void> {
    this.entries++;
    try {
      await this.writeEntry(entry);
    } catch (error) {
      if (error instanceof ImageError) throw error;
      const layer = this.options.layer ? `layer ${this.options.layer}: ` : '';
      throw new ImageError('layer-write-failed', `${layer}cannot write entry "${entry.name}": ${(error as Error).message}`, {
        context: { entry: entry.name, digest: this.options.layer },
        cause: error,
      });
    }
  }

  private async writeEntry(entry: TarEntry): Promise<void> {
    const parts = this.components(entry.name, entry.name);
    const base = parts[parts.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(entry, parts);
    if (entry.type === 'char' && entry.devmajor === 0 && entry.devminor === 0 && parts.length > 0) {
      this.prepareParents(entry.name, parts);
      const rel = parts.join('/');
      this.replace(rel, 'whiteout');
      this.whiteouts.set(rel, entry.mtime);
      return;
    }
    if (parts.length === 0) {
      if (entry.type !== 'dir') throw this.refuse(entry.name, 'the layer root can only be a directory');
      this.applyMeta('', entry, 'dir');
      this.dirTimes.set('', entry.mtime);
      return;
    }
    const rel = parts.join('/');
    const abs = path.join(this.root, rel);
    switch (entry.type) {
      case 'dir':
        this.prepareParents(entry.name, parts);
        if (this.nodes.get(rel) !== 'dir') {
          const wasWhiteout = this.nodes.get(rel) === 'whiteout';
          this.replace(rel, 'dir');
          if (wasWhiteout) this.opaque.add(rel);
          fs.mkdirSync(abs, 0o700);
          this.checkedDirs.add(rel);
        }
        this.applyMeta(abs, entry, 'dir');
        this.dirTimes.set(rel, entry.mtime);
        break;
      case 'file':
        this.prepareParents(entry.name, parts);
        this.replace(rel, 'file');
        await this.writeFile(abs, entry);
        this.size += entry.size;
        break;
      case 'symlink':
        this.prepareParents(entry.name, parts);
        this.replace(rel, 'symlink');
        fs.symlinkSync(entry.linkname, abs);
        this.applyMeta(abs, entry, 'symlink');
        break;
      case 'hardlink': {
        const target = this.components(entry.linkname, entry.name);
        const targetRel = target.join('/');
        const kind = this.nodes.get(targetRel);
        if (target.length === 0 || kind === undefined || kind === 'whiteout') {
          throw this.refuse(entry.name, `hard link target "${entry.linkname}" is not an earlier entry of this layer`);
        }
        if (kind === 'dir') throw this.refuse(entry.name, `hard link target "${entry.linkname}" is a directory`);
        this.checkParents(entry.name, target);
        if (targetRel === rel) break; // a link to itself: already there
        this.prepareParents(entry.name, parts);
        this.replace(rel, kind);
        fs.linkSync(path.join(this.root, targetRel), abs);
        break;
      }
      case 'fifo':
        this.prepareParents(entry.name, parts);
        this.replace(rel, 'other');
        execFileSync('mkfifo', ['-m', '600', '--', abs], { stdio: ['ignore', 'ignore', 'pipe'] });
        this.applyMeta(abs, entry, 'other');
        break;
      case 'char':
      case 'block':
        throw this.refuse(entry.name, `${entry.type} device ${entry.devmajor}:${entry.devminor} not allowed in an image layer`);
    }
    if (entry.type === 'symlink' || entry.type === 'hardlink') return;
    const attrs = new Map(entry.xattrs);
    // Rootless: the files belong to the user; keep the image's owner where a later id-mapping step can find it.
    if (!this.keepOwnership && (entry.uid !== 0 || entry.gid !== 0)) attrs.set(OVERRIDE_STAT, Buffer.from(`${entry.uid}:${entry.gid}:0${entry.mode.toString(8)}`));
    if (attrs.size > 0) this.xattrs.set(rel, attrs);
  }

  /** After the last entry: whiteouts, opaque markers, xattrs, then directory times (deepest first). */
  async finish(): Promise<void> {
    const whiteouts = [...this.whiteouts.keys()].filter((rel) => this.stillUnder(rel));
    for (let i = 0; i < whiteouts.length; i += 500) await run('sh', ['-c', 'for p do mknod -- "$p" c 0 0 || exit 1; done', 'sh', ...whiteouts.slice(i, i + 500)], this.root, 'create whiteouts');
    for (const rel of whiteouts) {
      const mtime = this.whiteouts.get(rel)!;
      fs.lutimesSync(path.join(this.root, rel), mtime, mtime);
    }
    const opaque = [...this.opaque].filter((rel) => this.nodes.get(rel) === 'dir' && this.stillUnder(rel));
    if (opaque.length > 0) {
      await run('setfattr', ['-h', '--restore=-'], this.root, 'mark opaque directories', opaque.map((rel) => dumpRecord(rel, new Map([[this.options.opaqueXattr ?? 'trusted.overlay.opaque', Buffer.from('y')]]))).join(''));
    }
    const records: string[] = [];
    for (const [rel, attrs] of this.xattrs) if (this.stillUnder(rel) && this.nodes.has(rel)) records.push(dumpRecord(rel, attrs));
    if (records.length > 0) {
      try {
        await run('setfattr', ['-h', '--restore=-'], this.root, 'set extended attributes', records.join(''));
      } catch (error) {
        this.warnings.push((error as Error).message);
      }
    }
    const dirs = [...this.dirTimes].filter(([rel]) => this.nodes.get(rel) === 'dir').sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, mtime] of dirs) {
      const abs = rel === '' ? this.root : path.join(this.root, rel);
      if (rel !== '') this.checkParents(rel, rel.split('/'));
      fs.lutimesSync(abs, mtime, mtime);
    }
  }

  private whiteout(entry: TarEntry, parts: string[]): void {
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    this.prepareParents(entry.name, parts);
    const parentRel = parentParts.join('/');
    if (base === OPAQUE) {
      this.opaque.add(parentRel);
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // other AUFS metadata: not content
    const victim = base.slice(WHITEOUT_PREFIX.length);
    if (victim === '' || victim === '.' || victim === '..') throw this.refuse(entry.name, `whiteout names "${victim}", not a file name`);
    const rel = parentRel === '' ? victim : `${parentRel}/${victim}`;
    if (this.nodes.has(rel)) return; // the layer's own entry of that name wins (OCI: whiteouts hide lower layers only)
    this.nodes.set(rel, 'whiteout');
    this.whiteouts.set(rel, entry.mtime);
  }

  private components(name: string, entryName: string): string[] {
    if (name.startsWith('/')) throw this.refuse(entryName, `absolute path "${name}"`);
    if (name.includes('\0')) throw this.refuse(entryName, 'NUL in path');
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw this.refuse(entryName, `path "${name}" climbs out with ".."`);
    return parts;
  }

  /** Creates missing parent dirs (0755) and checks that existing ones are real directories. */
  private prepareParents(entryName: string, parts: string[]): void {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel === '' ? parts[i]! : `${rel}/${parts[i]}`;
      if (this.checkedDirs.has(rel)) continue;
      const kind = this.nodes.get(rel);
      const abs = path.join(this.root, rel);
      if (kind === undefined || kind === 'whiteout') {
        // Deleted from lower layers, then re-created here: it must not show the lower content.
        if (kind === 'whiteout') this.opaque.add(rel);
        this.whiteouts.delete(rel);
        fs.mkdirSync(abs, 0o755);
        fs.chmodSync(abs, 0o755);
        this.nodes.set(rel, 'dir');
      } else {
        const stat = fs.lstatSync(abs);
        if (stat.isSymbolicLink()) throw this.refuse(entryName, `parent "${rel}" is a symlink`);
        if (!stat.isDirectory()) throw this.refuse(entryName, `parent "${rel}" is not a directory`);
      }
      this.checkedDirs.add(rel);
    }
  }

  /** Like prepareParents but creates nothing: every parent must exist as a real directory. */
  private checkParents(entryName: string, parts: string[]): void {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel === '' ? parts[i]! : `${rel}/${parts[i]}`;
      const stat = fs.lstatSync(path.join(this.root, rel));
      if (stat.isSymbolicLink()) throw this.refuse(entryName, `parent "${rel}" is a symlink`);
      if (!stat.isDirectory()) throw this.refuse(entryName, `parent "${rel}" is not a directory`);
    }
  }

  /** Whether every parent of rel is (still) a directory this layer made or checked. */
  private stillUnder(rel: string): boolean {
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix === '' ? parts[i]! : `${prefix}/${parts[i]}`;
      if (this.nodes.get(prefix) !== 'dir') return false;
    }
    if (rel !== '') this.checkParents(rel, parts);
    return true;
  }

  /** Removes whatever this layer put at rel before (and all it held), then records the new kind. */
  private replace(rel: string, kind: NodeKind): void {
    const previous = this.nodes.get(rel);
    if (previous !== undefined) {
      if (previous !== 'whiteout') fs.rmSync(path.join(this.root, rel), { recursive: true, force: true });
      const prefix = `${rel}/`;
      for (const map of [this.nodes, this.dirTimes, this.xattrs, this.whiteouts] as Map<string, unknown>[]) {
        for (const key of map.keys()) if (key === rel || key.startsWith(prefix)) map.delete(key);
      }
      for (const set of [this.checkedDirs, this.opaque]) {
        for (const key of set) if (key === rel || key.startsWith(prefix)) set.delete(key);
      }
    }
    this.nodes.set(rel, kind);
  }

  private async writeFile(abs: string, entry: TarEntry): Promise<void> {
    const fd = fs.openSync(abs, O_CREATE_FILE, 0o600);
    try {
      let written = 0;
      for await (const chunk of entry.body) {
        let offset = 0;
        while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
        written += chunk.length;
      }
      if (written !== entry.size) throw new Error(`wrote ${written} of ${entry.size} bytes`);
      if (this.keepOwnership) this.setOwner(() => fs.fchownSync(fd, entry.uid, entry.gid), entry);
      fs.fchmodSync(fd, entry.mode);
      fs.futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  private applyMeta(abs: string, entry: Meta, kind: 'dir' | 'symlink' | 'other'): void {
    const target = abs === '' ? this.root : abs;
    if (this.keepOwnership) this.setOwner(() => fs.lchownSync(target, entry.uid, entry.gid), entry);
    if (kind !== 'symlink') fs.chmodSync(target, entry.mode);
    if (kind !== 'dir') fs.lutimesSync(target, entry.mtime, entry.mtime);
  }

  /** Rootless (in berth's user namespace) an owner outside the mapping fails: say which entry and range. */
  private setOwner(chown: () => void, entry: Meta): void {
    try {
      chown();
    } catch (error) {
      throw chownError(error, entry.name, entry.uid, entry.gid, this.options.layer);
    }
  }

  private refuse(entryName: string, why: string): ImageError {
    const layer = this.options.layer ? `layer ${this.options.layer}: ` : '';
    return new ImageError('layer-unsafe-entry', `${layer}refusing entry "${entryName}": ${why}`, { context: { entry: entryName, digest: this.options.layer } });
  }
}

/** One record of getfattr's --dump format, which `setfattr --restore` reads. */
function dumpRecord(rel: string, attrs: Map<string, Buffer>): string {
  let out = `# file: ${escapeDumpPath(rel === '' ? '.' : rel)}\n`;
  for (const [name, value] of attrs) out += `${escapeDumpPath(name)}=0x${value.toString('hex')}\n`;
  return `${out}\n`;
}

function escapeDumpPath(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte <= 0x20 || byte >= 0x7f || byte === 0x5c || byte === 0x3d) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

function run(command: string, args: string[], cwd: string, what: string, input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => reject(new ImageError('layer-write-failed', `cannot ${what}: ${error.message}`, { cause: error })));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new ImageError('layer-write-failed', `cannot ${what}: ${stderr.trim() || `${command} exited with ${code}`}`));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
