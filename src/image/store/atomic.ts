/**
 * Atomic small-file writes: temp file in the same filesystem, fsync, rename, fsync the dir.
 * A reader sees the old content or the new, never half of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ownedTempName } from './owner.js';

/**
 * `durable: false` skips both fsyncs, for files that mean nothing after a crash anyway (a
 * process's pins: a process that is gone pins nothing); the rename still makes the write atomic.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, tmpDir: string, mode = 0o644, options: { durable?: boolean } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const tmp = path.join(tmpDir, ownedTempName(path.basename(file)));
  const handle = await fs.promises.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
  if (durable) await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    // sync: small metadata files, and the first async fs call starts libuv's thread pool (~3 ms
    // of every `berth run`, which otherwise never needs it)
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}
