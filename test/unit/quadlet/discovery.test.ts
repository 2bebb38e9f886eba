/** Search paths, discovery precedence, drop-in folders, [Install] links, arguments. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { UnitFile } from '../../../src/unit/index.js';
import { dropInDirNames, expandRoots, findDropIns, findSources, installLinks, parseArguments, searchRoots } from '../../../src/quadlet/index.js';
import { FIXTURES } from './golden-support.js';

describe('search paths', () => {
  test('system: /run, /etc, /usr/share, without the users/ subtree', () => {
    const roots = searchRoots({ user: false, env: {}, uid: 0, home: '/root' });
    assert.deepEqual(roots.map((r) => r.dir), ['/run/containers/systemd', '/etc/containers/systemd', '/usr/share/containers/systemd']);
    assert.ok(roots.every((r) => r.exclude.includes('/etc/containers/systemd/users')));
  });

  test('user: runtime dir, config dir, users/UID, users/', () => {
    const roots = searchRoots({ user: true, env: { XDG_RUNTIME_DIR: '/run/user/1000', XDG_CONFIG_HOME: '/home/u/.cfg' }, uid: 1000, home: '/home/u' });
    assert.deepEqual(roots.map((r) => r.dir), ['/run/user/1000/containers/systemd', '/home/u/.cfg/containers/systemd',
      '/etc/containers/systemd/users/1000', '/etc/containers/systemd/users']);
    assert.equal(roots[3]!.skipNumericSubdirs, true);
    const fallback = searchRoots({ user: true, env: {}, uid: 1000, home: '/home/u' });
    assert.equal(fallback[0]!.dir, '/home/u/.config/containers/systemd');
  });

  test('BERTH_UNIT_DIRS replaces the search path', () => {
    const roots = searchRoots({ user: true, env: { BERTH_UNIT_DIRS: '/a:/b' }, uid: 0, home: '/root' });
    assert.deepEqual(roots.map((r) => r.dir), ['/a', '/b']);
  });
});

describe('discovery', () => {
  const scratch = mkdtempSync('/var/tmp/berth-quadlet-discovery-');
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('earlier folders win for duplicate names, subfolders included', () => {
    const dirs = expandRoots(['first', 'second'].map((dir) => ({ dir: `${FIXTURES}/precedence/${dir}`, exclude: [], skipNumericSubdirs: false })));
    assert.deepEqual(dirs.map((d) => d.slice(`${FIXTURES}/precedence/`.length)), ['first', 'first/sub', 'second']);
    const found = findSources(dirs);
    assert.deepEqual([...found.keys()].sort(), ['dup.container', 'only-second.container', 'top.container']);
    assert.equal(found.get('dup.container'), `${FIXTURES}/precedence/first/sub/dup.container`);
  });

  test('excluded subtrees, other users\' UID folders, drop-in folders and dangling links are skipped', () => {
    const root = `${scratch}/etc`;
    for (const dir of ['users/1000', 'users/team', 'web.container.d', 'sub']) mkdirSync(`${root}/${dir}`, { recursive: true });
    writeFileSync(`${root}/users/1000/mine.container`, '[Container]\nImage=x\n');
    writeFileSync(`${root}/users/team/shared.container`, '[Container]\nImage=x\n');
    writeFileSync(`${root}/sub/deep.volume`, '[Volume]\n');
    writeFileSync(`${root}/notes.txt`, 'not a unit');
    symlinkSync('/nonexistent/x.container', `${root}/dangling.container`);
    const system = findSources(expandRoots([{ dir: root, exclude: [`${root}/users`], skipNumericSubdirs: false }]));
    assert.deepEqual([...system.keys()].sort(), ['deep.volume']);
    const users = findSources(expandRoots([{ dir: `${root}/users`, exclude: [], skipNumericSubdirs: true }]));
    assert.deepEqual([...users.keys()].sort(), ['shared.container']);
  });

  test('drop-in folder names, most specific first', () => {
    assert.deepEqual(dropInDirNames('foo-bar-baz.container'),
      ['foo-bar-baz.container.d', 'foo-bar-.container.d', 'foo-.container.d', 'container.d']);
    assert.deepEqual(dropInDirNames('sleep@10.container'), ['sleep@10.container.d', 'sleep@.container.d', 'container.d']);
    assert.deepEqual(dropInDirNames('db.volume'), ['db.volume.d', 'volume.d']);
  });

  test('a drop-in of the same name further down the hierarchy overrides', () => {
    const dir = `${FIXTURES}/dropins`;
    const files = findDropIns('web-app-front.container', [dir]).map((path) => path.slice(dir.length + 1));
    assert.deepEqual(files, ['container.d/05-top.conf', 'web-.container.d/06-short.conf', 'web-app-.container.d/07-prefix.conf',
      'web-app-front.container.d/10-most.conf', 'web-app-front.container.d/20-extra.conf']);
  });
});

describe('[Install] links', () => {
  const unit = (text: string): UnitFile => UnitFile.parse(text);

  test('WantedBy, RequiredBy, UpheldBy and Alias', () => {
    const links = installLinks(unit('[Install]\nWantedBy=default.target multi-user.target\nRequiredBy=x.target\nUpheldBy=y.target\nAlias=w.service\n'), 'web.service');
    assert.deepEqual(links, [
      { link: 'default.target.wants/web.service', target: '../web.service' },
      { link: 'multi-user.target.wants/web.service', target: '../web.service' },
      { link: 'x.target.requires/web.service', target: '../web.service' },
      { link: 'y.target.upholds/web.service', target: '../web.service' },
      { link: 'w.service', target: 'web.service' },
    ]);
  });

  test('templates are enabled only through DefaultInstance', () => {
    assert.deepEqual(installLinks(unit('[Install]\nWantedBy=default.target\n'), 'sleep@.service'), []);
    assert.deepEqual(installLinks(unit('[Install]\nWantedBy=default.target\nDefaultInstance=5\n'), 'sleep@.service'),
      [{ link: 'default.target.wants/sleep@5.service', target: '../sleep@.service' }]);
    assert.deepEqual(installLinks(unit('[Install]\nWantedBy=default.target\n'), 'sleep@5.service'),
      [{ link: 'default.target.wants/sleep@5.service', target: '../sleep@5.service' }]);
  });
});

describe('arguments', () => {
  test('flags, output folders and the user-generator name', () => {
    assert.deepEqual(parseArguments(['/out', '/early', '/late'], '/usr/lib/systemd/system-generators/berth-generator'),
      { user: false, dryRun: false, outputDir: '/out' });
    assert.deepEqual(parseArguments(['-dryrun'], '/x/berth-user-generator'), { user: true, dryRun: true, outputDir: undefined });
    assert.deepEqual(parseArguments(['--user', '--dryrun'], 'berth-generator'), { user: true, dryRun: true, outputDir: undefined });
    assert.match(parseArguments([], 'berth-generator') as string, /missing output folder/);
    assert.match(parseArguments(['--bogus', '/o'], 'berth-generator') as string, /unknown option --bogus/);
    assert.match(parseArguments(['/a', '/b'], 'berth-generator') as string, /expected NORMAL_DIR/);
  });
});
