/**
 * What setup did for one container, kept under <runroot>/networks/containers/ID.json and written
 * BEFORE the namespace or any rule exists, so teardown can undo it after a crash.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StoragePaths } from '../paths/index.js';
import { readJson, writeJsonAtomic } from './files.js';
import type { NetavarkInput } from './netavark.js';
import type { PortMapping } from './publish.js';

export interface ContainerNetworkState {
  containerId: string;
  containerName: string;
  kind: 'bridge' | 'host' | 'none' | 'ns';
  /** The namespace the container joins. */
  netnsPath?: string;
  /** Created by berth (removed at teardown) as opposed to a user's ns:PATH. */
  ownsNetns: boolean;
  /** Exactly what netavark was given, so teardown can give it back. */
  netavark?: NetavarkInput;
  networks: string[];
  ports: PortMapping[];
  phase: 'setting-up' | 'ready';
  /** The result handed to the runtime, once ready. */
  result?: unknown;
}

function stateDir(paths: StoragePaths): string {
  return path.join(paths.runroot, 'networks', 'containers');
}

function stateFile(paths: StoragePaths, containerId: string): string {
  return path.join(stateDir(paths), `${containerId}.json`);
}

/** Whether a network was (or is being) set up for the container: a cheap check before a teardown. */
export function networkStateExists(paths: StoragePaths, containerId: string): boolean {
  return existsSync(stateFile(paths, containerId));
}

export function readNetworkState(paths: StoragePaths, containerId: string): Promise<ContainerNetworkState | undefined> {
  return readJson<ContainerNetworkState>(stateFile(paths, containerId));
}

export function writeNetworkState(paths: StoragePaths, state: ContainerNetworkState): Promise<void> {
  return writeJsonAtomic(stateFile(paths, state.containerId), state);
}

export async function removeNetworkState(paths: StoragePaths, containerId: string): Promise<void> {
  await fs.rm(stateFile(paths, containerId), { force: true });
}

export async function listNetworkStates(paths: StoragePaths): Promise<ContainerNetworkState[]> {
  let files: string[];
  try {
    files = (await fs.readdir(stateDir(paths))).filter((f) => f.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const states: ContainerNetworkState[] = [];
  for (const file of files) {
    const state = await readJson<ContainerNetworkState>(path.join(stateDir(paths), file)).catch(() => undefined);
    if (state) states.push(state);
  }
  return states;
}
