/**
 * A strict streaming tar reader (ustar, GNU long names, PAX). Entries come out one at a time
 * through an async iterator; the caller consumes `entry.body` (or not) before asking for the
 * next, so the writer can be plain sequential code. Anything it cannot read exactly is an error,
 * never a guess: bad checksums, truncated archives, sparse and multi-volume entries.
 */
import { ImageError } from '../../errors/index.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** The name exactly as the archive gives it (PAX / GNU long name applied). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional when PAX gives it). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX SCHILY.xattr.* records. */
  xattrs: Map<string, Buffer>;
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

class ChunkReader {
  private chunks: Buffer[] = [];
  private available = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(wanted: number): Promise<void> {
    while (this.available < wanted && !this.ended) {
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const value = next.value;
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
  }

  /** Exactly n bytes, or undefined at a clean end of stream; throws when it ends mid-way. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (this.available === 0) return undefined;
    if (this.available < n) throw truncated();
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      this.consumeFront(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0]!;
        const take = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, take);
        filled += take;
        this.consumeFront(take);
      }
    }
    return out;
  }

  async *take(n: number): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      if (this.available === 0) await this.fill(1);
      if (this.available === 0) throw truncated();
      const chunk = this.chunks[0]!;
      const size = Math.min(chunk.length, remaining);
      const piece = chunk.subarray(0, size);
      this.consumeFront(size);
      remaining -= size;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) void _;
  }

  /** Read to the end of the stream (so whoever hashes upstream sees every byte). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.available = 0;
    while (!this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
    }
  }

  private consumeFront(n: number): void {
    const first = this.chunks[0]!;
    if (n === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.available -= n;
  }
}

function truncated(): ImageError {
  return new ImageError('layer-truncated', 'layer archive ends in the middle of an entry');
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return (nul === -1 ? field : field.subarray(0, nul)).toString('utf8');
}

function numeric(block: Buffer, start: number, length: number, what: string): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as a marker.
    if (field[0] === 0xff) throw new ImageError('layer-bad-header', `negative ${what} in tar header`);
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new ImageError('layer-bad-header', `${what} too large in tar header`);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ImageError('layer-bad-header', `invalid ${what} "${text}" in tar header`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

interface PaxRecords {
  text: Map<string, string>;
  xattrs: Map<string, Buffer>;
}

function parsePax(data: Buffer): PaxRecords {
  const text = new Map<string, string>();
  const xattrs = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space === -1) throw new ImageError('layer-bad-header', 'malformed PAX record');
    const length = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= space - pos || pos + length > data.length) throw new ImageError('layer-bad-header', 'malformed PAX record length');
    const record = data.subarray(space + 1, pos + length - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new ImageError('layer-bad-header', 'malformed PAX record (no "=")');
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    else if (key.startsWith('LIBARCHIVE.xattr.')) {
      // bsdtar: URL-encoded name, base64 value; SCHILY.xattr (GNU tar, Go) wins when both are present.
      const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      if (!xattrs.has(name)) xattrs.set(name, Buffer.from(value.toString('latin1'), 'base64'));
    } else text.set(key, value.toString('utf8'));
    pos += length;
  }
  return { text, xattrs };
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

const MAX_META = 16 * 1024 * 1024;

export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  let globalPax: PaxRecords = { text: new Map(), xattrs: new Map() };
  let pax: PaxRecords | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === undefined) break; // no end-of-archive marker: accepted, as GNU tar does
    if (isZeroBlock(block)) break;
    if (!checksumOk(block)) throw new ImageError('layer-bad-header', 'tar header checksum mismatch (corrupt or not a tar archive)');
    const typeflag = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12, 'size');
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw new ImageError('layer-bad-header', `tar metadata record of ${size} bytes is too large`);
      const data = (await reader.read(padded)) ?? Buffer.alloc(0);
      if (data.length < padded) throw truncated();
      const content = data.subarray(0, size);
      if (typeflag === 'x') pax = parsePax(content);
      else if (typeflag === 'g') globalPax = mergePax(globalPax, parsePax(content));
      else if (typeflag === 'L') longName = cString(content, 0, content.length);
      else longLink = cString(content, 0, content.length);
      continue;
    }
    const type = TYPES[typeflag];
    const magic = block.subarray(257, 263).toString('latin1');
    let name = cString(block, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const records = pax ? mergePax(globalPax, pax) : globalPax;
    name = records.text.get('path') ?? longName ?? name;
    if (type === undefined) {
      throw new ImageError('layer-unsupported-entry', `entry "${name}": unsupported tar entry type "${typeflag === '\0' ? '\\0' : typeflag}"`, { context: { entry: name } });
    }
    const entrySize = records.text.has('size') ? Number(records.text.get('size')) : size;
    if (!Number.isSafeInteger(entrySize) || entrySize < 0) throw new ImageError('layer-bad-header', `entry "${name}": invalid size`, { context: { entry: name } });
    const dataSize = type === 'file' ? entrySize : size;
    const dataPadded = Math.ceil(dataSize / BLOCK) * BLOCK;
    const entry: TarEntry = {
      name,
      type,
      mode: numeric(block, 100, 8, 'mode') & 0o7777,
      uid: records.text.has('uid') ? Number(records.text.get('uid')) : numeric(block, 108, 8, 'uid'),
      gid: records.text.has('gid') ? Number(records.text.get('gid')) : numeric(block, 116, 8, 'gid'),
      size: type === 'file' ? dataSize : 0,
      mtime: records.text.has('mtime') ? Number(records.text.get('mtime')) : numeric(block, 136, 12, 'mtime'),
      linkname: records.text.get('linkpath') ?? longLink ?? cString(block, 157, 100),
      devmajor: numeric(block, 329, 8, 'devmajor'),
      devminor: numeric(block, 337, 8, 'devminor'),
      xattrs: records.xattrs,
      body: type === 'file' ? reader.take(dataSize) : emptyBody(),
    };
    if (!Number.isSafeInteger(entry.uid) || !Number.isSafeInteger(entry.gid) || !Number.isFinite(entry.mtime)) {
      throw new ImageError('layer-bad-header', `entry "${name}": invalid uid, gid or mtime`, { context: { entry: name } });
    }
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    let consumed = false;
    const body = entry.body;
    let taken = 0;
    entry.body = {
      async *[Symbol.asyncIterator]() {
        consumed = true;
        for await (const chunk of body) {
          taken += chunk.length;
          yield chunk;
        }
      },
    };
    yield entry;
    // Whatever the consumer left of the body, plus the padding to the next block.
    if (!consumed) await reader.skip(dataPadded);
    else await reader.skip(dataPadded - taken);
  }
  await reader.drain();
}

async function* emptyBody(): AsyncGenerator<Buffer> {}

function mergePax(base: PaxRecords, over: PaxRecords): PaxRecords {
  return { text: new Map([...base.text, ...over.text]), xattrs: new Map([...base.xattrs, ...over.xattrs]) };
}
