/**
 * Content digests as the OCI spec writes them ("sha256:<64 hex>"). Only sha256 is stored;
 * anything else is refused before it can name a file.
 */
import { ImageError } from '../../errors/index.js';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

export function digestHex(digest: string): string {
  const match = SHA256.exec(digest);
  if (!match) throw new ImageError('bad-digest', `invalid or unsupported digest "${digest}" (want sha256:<64 hex>)`, { context: { digest } });
  return match[1]!;
}

export function isDigest(value: string): boolean {
  return SHA256.test(value);
}
