/**
 * Seccomp: containers-common's profile format (/usr/share/containers/seccomp.json, with
 * `includes`/`excludes` per rule by capability, architecture and kernel version) turned into the
 * plain OCI `linux.seccomp` object crun takes. The conversion is pure; loading is at the edge.
 */
import fs from 'node:fs';
import { RuntimeError } from '../errors/index.js';

export const DEFAULT_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';

interface Condition { caps?: string[]; arches?: string[]; minKernel?: string }
interface ContainersRule { names?: string[]; name?: string; action: string; errnoRet?: number; args?: unknown[] | null; includes?: Condition; excludes?: Condition }
interface ContainersProfile {
  defaultAction: string; defaultErrnoRet?: number;
  architectures?: string[]; archMap?: { architecture: string; subArchitectures?: string[] }[] | null;
  syscalls?: ContainersRule[] | null; flags?: string[];
}
export interface OciSeccomp {
  defaultAction: string; defaultErrnoRet?: number; architectures: string[]; flags?: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[];
}

const NODE_TO_SECCOMP_ARCH: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', ia32: 'SCMP_ARCH_X86', arm: 'SCMP_ARCH_ARM',
  ppc64: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64', mips64el: 'SCMP_ARCH_MIPSEL64',
};

/** containers-common writes `includes.arches` in Go's names (amd64), archMap in libseccomp's. */
const SECCOMP_TO_GO_ARCH: Record<string, string[]> = {
  SCMP_ARCH_X86_64: ['amd64'], SCMP_ARCH_X86: ['x86', '386'], SCMP_ARCH_X32: ['x32'], SCMP_ARCH_AARCH64: ['arm64'], SCMP_ARCH_ARM: ['arm'],
  SCMP_ARCH_PPC64LE: ['ppc64le'], SCMP_ARCH_S390X: ['s390x'], SCMP_ARCH_S390: ['s390'], SCMP_ARCH_RISCV64: ['riscv64'], SCMP_ARCH_MIPSEL64: ['mips64le'],
};
const archMatches = (arches: string[], arch: string): boolean => arches.includes(arch) || (SECCOMP_TO_GO_ARCH[arch] ?? []).some((a) => arches.includes(a));

export function seccompArch(nodeArch: string = process.arch): string {
  return NODE_TO_SECCOMP_ARCH[nodeArch] ?? `SCMP_ARCH_${nodeArch.toUpperCase()}`;
}

/** "6.1.0-13-amd64" ≥ "4.8"? Compares the leading numeric parts. */
export function kernelAtLeast(release: string, min: string): boolean {
  const a = release.split(/[.-]/).map((x) => parseInt(x, 10));
  const b = min.split('.').map((x) => parseInt(x, 10));
  for (let i = 0; i < b.length; i++) {
    const x = Number.isNaN(a[i]) || a[i] === undefined ? 0 : a[i];
    if (x !== b[i]) return x > b[i];
  }
  return true;
}

export function convertSeccompProfile(profile: ContainersProfile, ctx: { caps: string[]; arch: string; kernel: string }): OciSeccomp {
  let architectures: string[] = profile.architectures ?? [];
  const entry = profile.archMap?.find((m) => m.architecture === ctx.arch);
  if (profile.archMap) architectures = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
  const holds = (c: Condition | undefined, any: boolean): boolean => {
    if (!c) return !any;
    const tests: boolean[] = [];
    if (c.caps?.length) tests.push(c.caps.every((cap) => ctx.caps.includes(cap)));
    if (c.arches?.length) tests.push(archMatches(c.arches, ctx.arch));
    if (c.minKernel) tests.push(kernelAtLeast(ctx.kernel, c.minKernel));
    if (tests.length === 0) return !any;
    return any ? tests.some(Boolean) : tests.every(Boolean);
  };
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    if (rule.includes && Object.keys(rule.includes).length && !holds(rule.includes, false)) continue;
    if (rule.excludes && Object.keys(rule.excludes).length && holdsAny(rule.excludes, ctx)) continue;
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (names.length === 0) continue;
    const out: OciSeccomp['syscalls'][number] = { names, action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length) out.args = rule.args;
    syscalls.push(out);
  }
  const result: OciSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) result.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) result.flags = profile.flags;
  return result;
}

/** An `excludes` block drops the rule when ANY of its conditions holds. */
function holdsAny(c: Condition, ctx: { caps: string[]; arch: string; kernel: string }): boolean {
  if (c.caps?.some((cap) => ctx.caps.includes(cap))) return true;
  if (c.arches?.length && archMatches(c.arches, ctx.arch)) return true;
  if (c.minKernel && kernelAtLeast(ctx.kernel, c.minKernel)) return true;
  return false;
}

const profileCache = new Map<string, ContainersProfile>();
export function loadSeccompProfile(path: string): ContainersProfile {
  const cached = profileCache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RuntimeError('seccomp-profile', `cannot read seccomp profile ${path}: ${(cause as Error).message}`, { context: { file: path }, cause });
  }
  try {
    const parsed = JSON.parse(text) as ContainersProfile;
    profileCache.set(path, parsed);
    return parsed;
  } catch (cause) {
    throw new RuntimeError('seccomp-profile', `seccomp profile ${path} is not valid JSON`, { context: { file: path }, cause });
  }
}
