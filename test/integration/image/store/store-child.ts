/**
 * A second process for the store's cross-process tests (crash, concurrency). Does nothing
 * unless BERTH_STORE_CHILD names a job, so the test runner can load it harmlessly.
 *   unpack <root> <runroot> <job.json>   ensureLayers(config, layers) from job.json, prints the dirs
 *   write  <root> <runroot> <digest> <file> <chunkDelayMs>   writeBlob from file in 64 KiB chunks
 *   lock   <root> <runroot> <name> <holdMs>   takes the lock, prints "locked", holds it, prints "released"
 *   count  <root> <runroot> <name> <times> <counterFile>   <times> × under the lock: claim an O_EXCL
 *          marker (fails if another holder is inside), read-increment-write the counter, drop the marker
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImageStore } from '../../../../src/image/store/index.js';

async function main(job: string, args: string[]): Promise<void> {
  const [root, runroot] = args as [string, string];
  const store = await ImageStore.open({ root, runroot, rootless: false });
  if (job === 'unpack') {
    const { config, layers } = JSON.parse(fs.readFileSync(args[2]!, 'utf8'));
    process.stdout.write(`${JSON.stringify(await store.ensureLayers(config, layers))}\n`);
  } else if (job === 'write') {
    const [, , digest, file, delay] = args as [string, string, string, string, string];
    const data = fs.readFileSync(file);
    await store.writeBlob(digest, data.length, (async function* () {
      for (let i = 0; i < data.length; i += 65536) {
        yield data.subarray(i, i + 65536);
        if (Number(delay) > 0) await sleep(Number(delay));
      }
    })());
    process.stdout.write('written\n');
  } else if (job === 'count') {
    const [, , name, times, counter] = args as [string, string, string, string, string];
    for (let i = 0; i < Number(times); i++) {
      await store.withLock(name, async () => {
        fs.writeFileSync(`${counter}.inside`, String(process.pid), { flag: 'wx' }); // EEXIST: two holders at once
        const value = Number(fs.readFileSync(counter, 'utf8'));
        await sleep(1);
        fs.writeFileSync(counter, String(value + 1));
        fs.rmSync(`${counter}.inside`);
      });
    }
    process.stdout.write('counted\n');
  } else if (job === 'lock') {
    await store.withLock(args[2]!, async () => {
      process.stdout.write('locked\n');
      await sleep(Number(args[3]));
      process.stdout.write('released\n');
    });
  }
}

const job = process.env.BERTH_STORE_CHILD;
if (job) {
  main(job, process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
