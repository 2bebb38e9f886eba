import { readFileSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnitError } from '../errors/index.js';
import { UnitErrorCode } from './codes.js';
import { hostFact, type HostFacts } from './host-facts.js';
import { describeSource, type SourcePosition } from './source.js';
import { parseUnitName, unescapeUnitName, unescapeUnitPath, type UnitName } from './unit-name.js';

/** The user and group of the service manager instance (root for the system manager). */
export interface ManagerAccount {
  userName: string;
  uid: number;
  groupName: string;
  gid: number;
  home: string;
  shell: string;
}

export interface SpecifierContext {
  /** Full unit name, e.g. "web@blue.service". */
  unitName: string;
  /** true for the per-user service manager (systemctl --user). */
  user: boolean;
  /** The manager's environment (XDG_* dirs, HOME, TMPDIR...); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where the unit file lives (%y, %Y); these specifiers fail without it, as in systemd. */
  fragmentPath?: string;
  /** Overrides for facts otherwise read from the running system. */
  host?: Partial<HostFacts>;
  /** Overrides for the manager's account (user managers default to the current user). */
  account?: Partial<ManagerAccount>;
  /** Where the text came from, for error messages. */
  source?: SourcePosition;
}

/** "%" -> "%%", so systemd reads the text back literally. */
export function escapeSpecifiers(text: string): string {
  return text.replaceAll('%', '%%');
}

const SYSTEM_DIRECTORIES = { runtime: '/run', state: '/var/lib', cache: '/var/cache', logs: '/var/log', config: '/etc' };
type DirectoryKind = keyof typeof SYSTEM_DIRECTORIES;

class Resolver {
  private name: UnitName | undefined;

  constructor(readonly ctx: SpecifierContext) {}

  get env(): NodeJS.ProcessEnv {
    return this.ctx.env ?? process.env;
  }

  unitName(): UnitName {
    this.name ??= parseUnitName(this.ctx.unitName);
    return this.name;
  }

  /** Name without the type suffix ("foo@bar"). */
  prefixAndInstance(): string {
    const dot = this.ctx.unitName.lastIndexOf('.');
    return dot < 0 ? this.ctx.unitName : this.ctx.unitName.slice(0, dot);
  }

  lastComponent(): string {
    const prefix = this.unitName().prefix;
    const dash = prefix.lastIndexOf('-');
    return dash < 0 ? prefix : prefix.slice(dash + 1);
  }

  host<K extends keyof HostFacts>(key: K): HostFacts[K] {
    const host = this.ctx.host;
    return host !== undefined && key in host ? (host[key] as HostFacts[K]) : hostFact(key);
  }

  /** systemd before 254 kept a user manager's state and logs under $XDG_CONFIG_HOME. */
  userStateInConfig(): boolean {
    const version = this.host('systemdVersion');
    return version !== undefined && version < 254;
  }

  osRelease(field: string): string {
    return this.host('osRelease')[field] ?? '';
  }

  account<K extends keyof ManagerAccount>(key: K): ManagerAccount[K] {
    const override = this.ctx.account?.[key];
    if (override !== undefined) return override;
    return (this.ctx.user ? currentAccount(this.env) : ROOT_ACCOUNT)[key];
  }

  directory(kind: DirectoryKind): string {
    if (!this.ctx.user) return SYSTEM_DIRECTORIES[kind];
    const home = (): string => this.account('home');
    switch (kind) {
      case 'runtime': {
        const dir = absolute(this.env.XDG_RUNTIME_DIR);
        if (dir === undefined) throw this.fail('%t needs $XDG_RUNTIME_DIR for a user manager', 't');
        return dir;
      }
      case 'state':
        if (this.userStateInConfig()) return this.directory('config');
        return absolute(this.env.XDG_STATE_HOME) ?? path.join(home(), '.local/state');
      case 'cache': return absolute(this.env.XDG_CACHE_HOME) ?? path.join(home(), '.cache');
      case 'logs': return path.join(this.directory('state'), 'log');
      case 'config': return absolute(this.env.XDG_CONFIG_HOME) ?? path.join(home(), '.config');
    }
  }

  /** systemd's tmp_dir()/var_tmp_dir(): the first of $TMPDIR, $TEMP, $TMP that is an existing directory. */
  temporary(fallback: string): string {
    for (const name of ['TMPDIR', 'TEMP', 'TMP']) {
      const dir = absolute(this.env[name]);
      if (dir !== undefined && isDirectory(dir)) return dir;
    }
    return fallback;
  }

  fragment(letter: string): string {
    const fragment = this.ctx.fragmentPath;
    if (fragment === undefined) throw this.fail(`%${letter} needs the path of the unit file`, letter);
    try {
      return realpathSync(fragment);
    } catch {
      return path.resolve(fragment);
    }
  }

  fail(message: string, letter: string): UnitError {
    const source = this.ctx.source;
    return new UnitError(UnitErrorCode.specifier, describeSource(source) + message, {
      context: { ...(source ?? {}), unit: this.ctx.unitName, specifier: `%${letter}` },
    });
  }
}

/** PID 1's view; the shell is systemd's built-in default for root (DEFAULT_USER_SHELL, /bin/bash on Debian). */
const ROOT_ACCOUNT: ManagerAccount = { userName: 'root', uid: 0, groupName: 'root', gid: 0, home: '/root', shell: '/bin/bash' };

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function absolute(value: string | undefined): string | undefined {
  return value !== undefined && value.startsWith('/') ? value : undefined;
}

function currentAccount(env: NodeJS.ProcessEnv): ManagerAccount {
  const info = os.userInfo();
  const gid = process.getgid?.() ?? info.gid;
  return {
    userName: info.username, // systemd ignores $USER here (uid_to_name)
    uid: info.uid,
    groupName: groupName(gid) ?? String(gid),
    gid,
    home: absolute(env.HOME) ?? info.homedir,
    shell: absolute(env.SHELL) ?? (info.shell || '/bin/sh'),
  };
}

function groupName(gid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // no /etc/group: fall back to the number
  }
  return undefined;
}

type Expander = (resolver: Resolver) => string;

/** systemd.unit(5) "Specifiers", as systemd 252 resolves them in unit files. */
const SPECIFIERS: Record<string, Expander> = {
  a: (r) => r.host('architecture'),
  A: (r) => r.osRelease('IMAGE_VERSION'),
  b: (r) => r.host('bootId'),
  B: (r) => r.osRelease('BUILD_ID'),
  C: (r) => r.directory('cache'),
  D: (r) => {
    const version = r.host('systemdVersion');
    if (version !== undefined && version < 256) throw r.fail(`unknown specifier "%D" (systemd ${version} has none)`, 'D');
    return r.ctx.user ? absolute(r.env.XDG_DATA_HOME) ?? path.join(r.account('home'), '.local/share') : '/usr/share';
  },
  d: (r) => `${r.directory('runtime')}/credentials/${r.ctx.unitName}`,
  E: (r) => r.directory('config'),
  f: (r) => {
    const name = r.unitName();
    return unescapeUnitPath(name.instance ?? name.prefix);
  },
  g: (r) => r.account('groupName'),
  G: (r) => String(r.account('gid')),
  h: (r) => r.account('home'),
  H: (r) => r.host('hostname'),
  i: (r) => r.unitName().instance ?? '',
  I: (r) => unescapeUnitName(r.unitName().instance ?? ''),
  j: (r) => r.lastComponent(),
  J: (r) => unescapeUnitName(r.lastComponent()),
  l: (r) => shortHostname(r.host('hostname')),
  L: (r) => r.directory('logs'),
  m: (r) => r.host('machineId'),
  M: (r) => r.osRelease('IMAGE_ID'),
  n: (r) => (r.unitName(), r.ctx.unitName),
  N: (r) => (r.unitName(), r.prefixAndInstance()),
  o: (r) => r.osRelease('ID'),
  p: (r) => r.unitName().prefix,
  P: (r) => unescapeUnitName(r.unitName().prefix),
  q: (r) => r.host('prettyHostname') || shortHostname(r.host('hostname')),
  s: (r) => r.account('shell'),
  S: (r) => r.directory('state'),
  t: (r) => r.directory('runtime'),
  T: (r) => r.temporary('/tmp'),
  u: (r) => r.account('userName'),
  U: (r) => String(r.account('uid')),
  v: (r) => r.host('kernelRelease'),
  V: (r) => r.temporary('/var/tmp'),
  w: (r) => r.osRelease('VERSION_ID'),
  W: (r) => r.osRelease('VARIANT_ID'),
  y: (r) => r.fragment('y'),
  Y: (r) => path.dirname(r.fragment('Y')),
};

function shortHostname(hostname: string): string {
  const dot = hostname.indexOf('.');
  return dot < 0 ? hostname : hostname.slice(0, dot);
}

function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * Expand `%` specifiers as systemd does in unit files: `%%` is a percent sign, a known letter its
 * value, an unknown letter or digit an error; `%` before anything else (or at the end) stays as is.
 */
export function expandSpecifiers(text: string, ctx: SpecifierContext): string {
  let percent = text.indexOf('%');
  if (percent < 0) return text;
  const resolver = new Resolver(ctx);
  let result = '';
  let runStart = 0;
  while (percent >= 0 && percent < text.length - 1) {
    const letter = text[percent + 1]!;
    result += text.slice(runStart, percent);
    if (letter === '%') {
      result += '%';
    } else {
      const expander = SPECIFIERS[letter];
      if (expander !== undefined) result += expander(resolver);
      else if (isAlphanumeric(letter.charCodeAt(0))) throw resolver.fail(`unknown specifier "%${letter}" in ${JSON.stringify(text)}`, letter);
      else result += '%' + letter;
    }
    runStart = percent + 2;
    percent = text.indexOf('%', runStart);
  }
  return result + text.slice(runStart);
}
