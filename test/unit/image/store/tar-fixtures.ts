/**
 * Hand-made tar archives for layer tests: every header field under the test's control, so
 * malicious entries (../, absolute names, devices, links out) are exactly what the test says.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

export interface FixtureEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records (e.g. "SCHILY.xattr.user.test"). */
  pax?: Record<string, string | Buffer>;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function header(name: string, typeflag: string, size: number, e: FixtureEntry): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100, 'latin1');
  block.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  block.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(e.mtime ?? 1_700_000_000, 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(typeflag, 156, 'latin1');
  block.write(e.linkname ?? '', 157, 100, 'utf8');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write(octal(e.devmajor ?? 0, 8), 329, 'latin1');
  block.write(octal(e.devminor ?? 0, 8), 337, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'latin1');
  return block;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function paxData(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(length)), body]));
  }
  return Buffer.concat(parts);
}

export function makeTar(entries: FixtureEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    const pax: Record<string, string | Buffer> = { ...(e.pax ?? {}) };
    if (Buffer.byteLength(e.name) > 99) pax.path = e.name;
    if (e.linkname && Buffer.byteLength(e.linkname) > 99) pax.linkpath = e.linkname;
    if (Object.keys(pax).length > 0) {
      const data = paxData(pax);
      out.push(header('PaxHeader', 'x', data.length, { name: 'PaxHeader' }), pad(data));
    }
    out.push(header(e.name.slice(0, 99), TYPEFLAG[type], content.length, e), pad(content));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export function gzip(data: Buffer): Buffer {
  return zlib.gzipSync(data);
}

export function zstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 1 << 30 });
}

export function sha256(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}
