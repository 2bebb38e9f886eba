/**
 * Small file helpers shared by networks, IPAM and volumes: atomic JSON writes (temp + fsync +
 * rename, so a crash never leaves half a file) and a cross-process lock file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await fs.open(temp, 'w', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Parsed JSON, or undefined when the file does not exist. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}

/**
 * Runs fn while holding `lockFile` (O_EXCL create holding our PID). A lock whose owner is gone
 * (crash) is taken over, so a killed berth never blocks the next one.
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  await fs.mkdir(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const token = `${process.pid} ${randomBytes(6).toString('hex')}\n`;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      await fs.writeFile(lockFile, token, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await removeIfStale(lockFile);
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockFile}`);
    await sleep(delay);
  }
  try {
    return await fn();
  } finally {
    const current = await fs.readFile(lockFile, 'utf8').catch(() => '');
    if (current === token) await fs.rm(lockFile, { force: true });
  }
}

async function removeIfStale(lockFile: string): Promise<void> {
  const content = await fs.readFile(lockFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const pid = Number(content.split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) {
    // Being written right now, or garbage: only garbage older than a second is stale.
    const stat = await fs.stat(lockFile).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > 1000) await fs.rm(lockFile, { force: true });
    return;
  }
  if (pid === process.pid || processAlive(pid)) return;
  // Remove only if it still holds the dead owner's token.
  const again = await fs.readFile(lockFile, 'utf8').catch(() => undefined);
  if (again === content) await fs.rm(lockFile, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
