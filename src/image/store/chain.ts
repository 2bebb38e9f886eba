/** Chain IDs (OCI image spec): ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
import crypto from 'node:crypto';
import { digestHex } from './digest.js';

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    digestHex(diffId);
    const previous = out[out.length - 1];
    out.push(previous === undefined ? diffId : `sha256:${crypto.createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`);
  }
  return out;
}

/** A short, stable name for a layer's overlay lowerdir link (20 base32 chars, 100 bits). */
export function shortName(chainId: string): string {
  const bytes = crypto.createHash('sha256').update(`berth-short:${chainId}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 20) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === 20) break;
  }
  return out;
}
