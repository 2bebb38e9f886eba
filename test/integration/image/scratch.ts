/**
 * Per-test isolation for image integration tests: a scratch dir under /var/tmp with storage
 * paths, and the environment berth reads (registries.conf, auth file, alias cache, drop-in dir)
 * pointed into it so nothing on the host is read or written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoragePaths } from '../../../src/paths/index.js';
import { writeInsecureRegistriesConf } from '../../support/images.js';

export interface Scratch { dir: string; paths: StoragePaths; env: Record<string, string>; cleanup(): void }

export function makeScratch(hosts: string[], options: { searchRegistries?: string[]; shortNameMode?: 'enforcing' | 'permissive' | 'disabled'; extraConf?: string } = {}): Scratch {
  fs.mkdirSync('/var/tmp/berth-it-image', { recursive: true });
  const dir = fs.mkdtempSync('/var/tmp/berth-it-image/t-');
  const conf = writeInsecureRegistriesConf(dir, hosts, options);
  if (options.extraConf) fs.appendFileSync(conf, `\n${options.extraConf}\n`);
  fs.mkdirSync(path.join(dir, 'home'));
  const env = {
    CONTAINERS_REGISTRIES_CONF: conf,
    BERTH_REGISTRIES_CONF_DIR: path.join(dir, 'registries.conf.d'),
    BERTH_SHORT_NAME_ALIASES_CONF: path.join(dir, 'short-name-aliases.conf'),
    REGISTRY_AUTH_FILE: path.join(dir, 'auth.json'),
    HOME: path.join(dir, 'home'),
  };
  return {
    dir,
    paths: { root: path.join(dir, 'root'), runroot: path.join(dir, 'run'), rootless: false },
    env,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Apply a scratch environment to this process (each test file runs in its own process). */
export function useEnv(env: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Every file under a store root (relative paths), to compare before/after a failed pull. */
export function storeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}
