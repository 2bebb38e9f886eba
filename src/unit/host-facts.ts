import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Facts about the running system that specifiers print; read lazily, once per process. */
export interface HostFacts {
  hostname: string;
  /** PRETTY_HOSTNAME= of /etc/machine-info ("" when unset). */
  prettyHostname: string;
  machineId: string;
  bootId: string;
  kernelRelease: string;
  architecture: string;
  /** Fields of os-release (ID, VERSION_ID, BUILD_ID, VARIANT_ID, IMAGE_ID, IMAGE_VERSION...). */
  osRelease: Record<string, string>;
  /** The installed systemd's version (from libsystemd-shared-NNN.so), undefined when not found. */
  systemdVersion: number | undefined;
}

/** Node's process.arch -> systemd's architecture names (ConditionArchitecture=). */
const ARCHITECTURES: Record<string, string> = {
  x64: 'x86-64', ia32: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390x', s390: 's390',
  riscv64: 'riscv64', loong64: 'loongarch64', mips: 'mips', mipsel: 'mips-le', ppc: 'ppc',
};

export function systemdArchitecture(arch = process.arch, endianness = os.endianness()): string {
  if (arch === 'ppc64') return endianness === 'LE' ? 'ppc64-le' : 'ppc64';
  return ARCHITECTURES[arch] ?? arch;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Parse os-release / machine-info style KEY=value files (values may be quoted). */
export function parseEnvFile(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    let value = line.slice(equals + 1);
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    fields[line.slice(0, equals)] = value;
  }
  return fields;
}

const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ia32: 'i386-linux-gnu', arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu',
};

/** systemd ships its private library as libsystemd-shared-<version>.so in one of these places. */
function findSystemdVersion(): number | undefined {
  const dirs = ['/usr/lib/systemd', '/usr/lib64/systemd', '/lib/systemd'];
  const triplet = MULTIARCH[process.arch];
  if (triplet !== undefined) dirs.unshift(`/usr/lib/${triplet}/systemd`);
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^libsystemd-shared-(\d+)/.exec(name);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

const readers: { [K in keyof HostFacts]: () => HostFacts[K] } = {
  hostname: () => os.hostname(),
  prettyHostname: () => parseEnvFile(readTrimmed('/etc/machine-info')).PRETTY_HOSTNAME ?? '',
  machineId: () => readTrimmed('/etc/machine-id'),
  bootId: () => readTrimmed('/proc/sys/kernel/random/boot_id').replaceAll('-', ''),
  kernelRelease: () => os.release(),
  architecture: () => systemdArchitecture(),
  osRelease: () => parseEnvFile(readTrimmed('/etc/os-release') || readTrimmed('/usr/lib/os-release')),
  systemdVersion: () => findSystemdVersion(),
};

const cache = new Map<keyof HostFacts, unknown>();

/** One fact about the running system, read on first use and kept for the life of the process. */
export function hostFact<K extends keyof HostFacts>(key: K): HostFacts[K] {
  if (!cache.has(key)) cache.set(key, readers[key]());
  return cache.get(key) as HostFacts[K];
}
