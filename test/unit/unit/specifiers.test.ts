import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnitError } from '../../../src/errors/index.js';
import { escapeSpecifiers, expandSpecifiers, type SpecifierContext } from '../../../src/unit/index.js';
import { probeOnce, systemdExecPaths } from './systemd-analyze.js';

const HOST = {
  hostname: 'box.example.org',
  prettyHostname: '',
  machineId: '0123456789abcdef0123456789abcdef',
  bootId: 'fedcba9876543210fedcba9876543210',
  kernelRelease: '6.1.0-test',
  architecture: 'x86-64',
  osRelease: { ID: 'debian', VERSION_ID: '12', BUILD_ID: 'b1', VARIANT_ID: 'v', IMAGE_ID: 'img', IMAGE_VERSION: '7' },
  systemdVersion: 256,
};

const ACCOUNT = { userName: 'alice', uid: 1000, groupName: 'staff', gid: 50, home: '/home/alice', shell: '/bin/zsh' };

function system(unitName: string, extra: Partial<SpecifierContext> = {}): SpecifierContext {
  return { unitName, user: false, env: {}, host: HOST, ...extra };
}

function user(unitName: string, env: NodeJS.ProcessEnv, extra: Partial<SpecifierContext> = {}): SpecifierContext {
  return { unitName, user: true, env, host: HOST, account: ACCOUNT, ...extra };
}

describe('escapeSpecifiers', () => {
  it('doubles every percent sign, and expansion gives the text back', () => {
    assert.equal(escapeSpecifiers('100% %h %%'), '100%% %%h %%%%');
    for (const text of ['100% %h %%', '%', 'no percent', '%%%']) {
      assert.equal(expandSpecifiers(escapeSpecifiers(text), system('a.service')), text);
    }
  });
});

describe('expandSpecifiers', () => {
  it('names of a plain unit', () => {
    const ctx = system('web-front-end.service');
    assert.equal(expandSpecifiers('%n|%N|%p|%P|%i|%I|%j|%J|%f', ctx), 'web-front-end.service|web-front-end|web-front-end|web/front/end|||end|end|/web/front/end');
  });

  it('names of an instance, with systemd unescaping for the capital ones', () => {
    const ctx = system('getty-x@tty\\x2d1-a.service');
    assert.equal(expandSpecifiers('%n', ctx), 'getty-x@tty\\x2d1-a.service');
    assert.equal(expandSpecifiers('%N', ctx), 'getty-x@tty\\x2d1-a');
    assert.equal(expandSpecifiers('%p|%P', ctx), 'getty-x|getty/x');
    assert.equal(expandSpecifiers('%i|%I', ctx), 'tty\\x2d1-a|tty-1/a');
    assert.equal(expandSpecifiers('%j|%J', ctx), 'x|x');
    assert.equal(expandSpecifiers('%f', ctx), '/tty-1/a');
    assert.equal(expandSpecifiers('%f', system('mount@-.service')), '/');
  });

  it('system manager directories and account', () => {
    const ctx = system('a.service', { env: { HOME: '/ignored', XDG_RUNTIME_DIR: '/ignored' } });
    assert.equal(expandSpecifiers('%h %t %S %C %L %E %T %V', ctx), '/root /run /var/lib /var/cache /var/log /etc /tmp /var/tmp');
    assert.equal(expandSpecifiers('%u %U %g %G %s', ctx), 'root 0 root 0 /bin/bash');
    assert.equal(expandSpecifiers('%d', ctx), '/run/credentials/a.service');
  });

  it('user manager directories from the XDG variables, with their defaults', () => {
    const env = { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/st', XDG_CACHE_HOME: '/ca', XDG_CONFIG_HOME: '/co' };
    assert.equal(expandSpecifiers('%h %t %S %C %L %E', user('a.service', env)), '/home/alice /run/user/1000 /st /ca /st/log /co');
    const bare = { XDG_RUNTIME_DIR: '/run/user/1000' };
    assert.equal(expandSpecifiers('%S %C %L %E', user('a.service', bare)), '/home/alice/.local/state /home/alice/.cache /home/alice/.local/state/log /home/alice/.config');
    assert.equal(expandSpecifiers('%u %U %g %G %s', user('a.service', env)), 'alice 1000 staff 50 /bin/zsh');
    assert.equal(expandSpecifiers('%d', user('a.service', env)), '/run/user/1000/credentials/a.service');
    assert.equal(expandSpecifiers('%D', user('a.service', env)), '/home/alice/.local/share');
  });

  it('systemd before 254 keeps user state and logs under $XDG_CONFIG_HOME', () => {
    const env = { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/st', XDG_CONFIG_HOME: '/co' };
    const ctx = user('a.service', env, { host: { ...HOST, systemdVersion: 252 } });
    assert.equal(expandSpecifiers('%S %L %E', ctx), '/co /co/log /co');
    assert.throws(() => expandSpecifiers('%D', ctx), UnitError);
  });

  it('user manager without XDG_RUNTIME_DIR cannot expand %t', () => {
    assert.throws(() => expandSpecifiers('%t/x.cid', user('a.service', { HOME: '/h' })), (error: unknown) => {
      assert.ok(error instanceof UnitError);
      assert.equal(error.code, 'UNIT_BAD_SPECIFIER');
      assert.equal(error.context.specifier, '%t');
      return true;
    });
  });

  it('host facts', () => {
    const ctx = system('a.service');
    assert.equal(expandSpecifiers('%H %l %q %m %b %v %a', ctx), 'box.example.org box box 0123456789abcdef0123456789abcdef fedcba9876543210fedcba9876543210 6.1.0-test x86-64');
    assert.equal(expandSpecifiers('%o %w %W %B %M %A', ctx), 'debian 12 v b1 img 7');
    assert.equal(expandSpecifiers('%q', system('a.service', { host: { ...HOST, prettyHostname: 'My Box' } })), 'My Box');
  });

  it('%y and %Y need the fragment path', () => {
    assert.equal(expandSpecifiers('%y|%Y', system('a.service', { fragmentPath: '/nonexistent/dir/a.service' })), '/nonexistent/dir/a.service|/nonexistent/dir');
    assert.throws(() => expandSpecifiers('%y', system('a.service')), UnitError);
  });

  it('%T and %V use the first of TMPDIR, TEMP, TMP that is a directory', () => {
    const env = { TMPDIR: '/nonexistent-tmp', TEMP: 'relative', TMP: '/var/tmp' };
    assert.equal(expandSpecifiers('%T %V', system('a.service', { env })), '/var/tmp /var/tmp');
  });

  it('keeps %% , % before a non-alphanumeric character and a trailing %', () => {
    assert.equal(expandSpecifiers('100%% %- %/ end%', system('a.service')), '100% %- %/ end%');
    assert.equal(expandSpecifiers('no specifiers at all', system('a.service')), 'no specifiers at all');
  });

  it('rejects unknown specifiers naming the source', () => {
    for (const letter of ['Z', 'c', 'r', 'R', 'x', '0']) {
      assert.throws(() => expandSpecifiers(`a%${letter}`, system('a.service', { source: { file: 'web.container', line: 3, key: 'Exec' } })), (error: unknown) => {
        assert.ok(error instanceof UnitError);
        assert.equal(error.code, 'UNIT_BAD_SPECIFIER');
        assert.match(error.message, new RegExp(`^web\\.container:3: Exec: unknown specifier "%${letter}"`));
        return true;
      });
    }
  });

  it('reads facts from the running system when not overridden', () => {
    const text = expandSpecifiers('%H|%v|%a|%m', { unitName: 'a.service', user: false });
    const [hostname, release, arch] = text.split('|');
    assert.ok(hostname!.length > 0 && release!.length > 0 && arch!.length > 0, text);
  });
});

describe('expandSpecifiers agrees with the installed systemd', () => {
  const ALL = 'a A b B C d E f g G h H i I j J l L m M n N o p P q s S t T u U v V w W y Y %';
  const probe = '/x|' + ALL.split(' ').map((letter) => `%${letter}`).join('|');
  const names = ['web.service', 'foo-bar-baz.service', 'tmpl@inst-x.service', 'a-b@c\\x2dd-e.service'];

  const systemEnv = { TMPDIR: '/var/tmp' };
  const fromSystemd = probeOnce(names.map((unitName) => ({ execStart: probe, unitName })), { env: systemEnv });
  names.forEach((unitName, index) => {
    it(`system manager, ${unitName}`, () => {
      const result = fromSystemd()[index]!;
      const ours = expandSpecifiers(probe, { unitName, user: false, env: systemEnv, fragmentPath: result.fragment });
      assert.equal(ours, result.path, result.output);
    });
  });

  it('user manager', () => {
    const unitName = 'app@one.service';
    const env = { HOME: '/home/tester', XDG_CONFIG_HOME: '/cfg', XDG_CACHE_HOME: '/cache', XDG_STATE_HOME: '/state', SHELL: '/bin/zsh' };
    const [result] = systemdExecPaths([{ execStart: probe, unitName }], { env, user: true });
    const ours = expandSpecifiers(probe, {
      unitName, user: true, fragmentPath: result!.fragment,
      env: { ...env, XDG_RUNTIME_DIR: result!.runtimeDir },
    });
    assert.equal(ours, result!.path, result!.output);
  });

  it('both refuse an unknown specifier', () => {
    const [result] = systemdExecPaths([{ execStart: '/x%Z' }]);
    assert.equal(result!.path, undefined);
    assert.match(result!.output, /Failed to resolve unit specifiers/);
    assert.throws(() => expandSpecifiers('/x%Z', system('probe.service')), UnitError);
  });
});
