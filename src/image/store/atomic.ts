/**
 * Atomic small-file writes: temp file in the same filesystem, fsync, rename, fsync the dir.
 * A reader sees the old content or the new, never half of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ownedTempName } from './owner.js';

export async function writeFileAtomic(file: string, data: string | Uint8Array, tmpDir: string, mode = 0o644): Promise<void> {
  const tmp = path.join(tmpDir, ownedTempName(path.basename(file)));
  const handle = await fs.promises.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
  await syncDir(path.dirname(file));
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
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}
