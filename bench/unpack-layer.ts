/**
 * bench/unpack helper: `node dist/bench/unpack-layer.js make <dir> <files>` writes a layer
 * (tar, .tar.gz) and an OCI layout of it; `node dist/bench/unpack-layer.js berth <blob> <dest>`
 * unpacks with berth's extractor; `… node-tar <blob> <dest>` with node-tar 7's extract.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar';
import { unpackLayerFile } from '../src/image/store/unpack.js';

function header(name: string, type: string, size: number, mode: number): Buffer {
  const b = Buffer.alloc(512);
  const oct = (v: number, l: number): string => v.toString(8).padStart(l - 1, '0') + '\0';
  b.write(name, 0, 100);
  b.write(oct(mode, 8), 100);
  b.write(oct(0, 8), 108);
  b.write(oct(0, 8), 116);
  b.write(oct(size, 12), 124);
  b.write(oct(1700000000, 12), 136);
  b.write('        ', 148);
  b.write(type, 156);
  b.write('ustar\0', 257);
  b.write('00', 263);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(oct(sum, 7) + ' ', 148);
  return b;
}

function makeLayer(files: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (let d = 0; n < files; d++) {
    parts.push(header(`usr/share/d${d}/`, '5', 0, 0o755));
    for (let f = 0; f < 50 && n < files; f++, n++) {
      // Sizes like a distro's /usr: mostly small, some larger.
      const size = n % 50 === 0 ? 200_000 : 200 + ((n * 7919) % 8000);
      const content = crypto.createHash('sha256').update(String(n)).digest().toString('hex').repeat(Math.ceil(size / 64)).slice(0, size);
      parts.push(header(`usr/share/d${d}/file${f}.txt`, '0', size, 0o644), Buffer.from(content));
      const pad = (512 - (size % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

async function main(): Promise<void> {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === 'make') {
    const dir = a!;
    const layer = makeLayer(Number(b ?? 5000));
    const gz = zlib.gzipSync(layer, { level: 6 });
    fs.mkdirSync(path.join(dir, 'oci', 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'layer.tar.gz'), gz);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(gz), size: gz.length }] }));
    for (const blob of [gz, config, manifest]) fs.writeFileSync(path.join(dir, 'oci', 'blobs', 'sha256', sha(blob).slice(7)), blob);
    fs.writeFileSync(path.join(dir, 'oci', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    fs.writeFileSync(path.join(dir, 'oci', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
    fs.writeFileSync(path.join(dir, 'diffid'), sha(layer));
    process.stdout.write(`layer: ${layer.length} bytes, gzip ${gz.length} bytes\n`);
  } else if (cmd === 'berth') {
    fs.mkdirSync(b!, { recursive: true });
    await unpackLayerFile(a!, b!, { keepOwnership: true });
  } else if (cmd === 'node-tar') {
    fs.mkdirSync(b!, { recursive: true });
    await tar.x({ file: a!, cwd: b!, preserveOwner: true });
  }
}

await main();
