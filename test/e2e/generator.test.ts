/**
 * Issue 2's end-to-end smoke: under a real systemd, the installed generator turns Quadlet files in
 * /etc/containers/systemd (system) and ~/.config/containers/systemd (root's user manager) into
 * units that systemd loads, wires [Install] targets, follows edits and removals at daemon-reload,
 * and turns a broken file into a unit that explains itself in `systemctl status`.
 * Nothing here starts a container: this tier checks the generator's contract with systemd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { findRepoRoot, installBerthInSysbox, startSysbox, type Sysbox } from '../support/sysbox.js';

const SYSTEM_DIR = '/etc/containers/systemd';
const USER_DIR = '/root/.config/containers/systemd';
const IMAGE = '127.0.0.1:5000/test/busybox:latest';

const SYSTEM_UNITS: Record<string, string> = {
  'web.container': `[Unit]
Description=berth e2e web

[Container]
Image=${IMAGE}
Exec=httpd -f -p 8080 -h /www
Volume=data.volume:/data
Network=app.network
Environment=GREETING=hello

[Install]
WantedBy=multi-user.target
`,
  'data.volume': '[Volume]\nLabel=tier=e2e\n',
  'app.network': '[Network]\nSubnet=10.89.7.0/24\n',
  'app.pod': '[Pod]\nPodName=app\n',
  'sidecar.container': `[Container]\nImage=${IMAGE}\nPod=app.pod\nExec=sleep 1000\n`,
  'broken.container': `[Container]\nImagee=${IMAGE}\n`,
};

const USER_UNITS: Record<string, string> = {
  'hello.container': `[Container]\nImage=${IMAGE}\nExec=echo hello\n\n[Install]\nWantedBy=default.target\n`,
};

async function writeUnits(box: Sysbox, dir: string, units: Record<string, string>): Promise<void> {
  await box.exec(['mkdir', '-p', dir]);
  for (const [name, text] of Object.entries(units)) await box.exec(['tee', join(dir, name)], { input: text });
}

/** What the generator says when run by hand in the box: the first thing to read when a unit is missing. */
async function generatorOutput(box: Sysbox, user = false): Promise<string> {
  const generator = user ? '/usr/local/lib/systemd/user-generators/berth-user-generator' : '/usr/local/lib/systemd/system-generators/berth-generator';
  const run = await box.exec([generator, '--dryrun'], { check: false, env: user ? { XDG_RUNTIME_DIR: '/run/user/0' } : {} });
  return `--- ${generator} --dryrun: exit ${run.exitCode} ---\n${run.stderr}\n${run.stdout.slice(0, 4000)}`;
}

async function assertLoaded(box: Sysbox, unit: string, user = false): Promise<string> {
  const show = user
    ? await box.userSystemctl('show', '--property=LoadState,SourcePath', unit)
    : await box.systemctl('show', '--property=LoadState,SourcePath', unit);
  if (!/^LoadState=loaded$/m.test(show.stdout)) assert.fail(`${unit} is not loaded:\n${show.stdout}${await generatorOutput(box, user)}`);
  return show.stdout;
}

async function dependenciesOf(box: Sysbox, target: string, user = false): Promise<string[]> {
  const args = ['list-dependencies', '--plain', '--no-legend', target];
  const result = user ? await box.userSystemctl(...args) : await box.systemctl(...args);
  return result.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

test('the installed generator feeds systemd: system and user units, [Install], reload, broken files', async () => {
  const box = await startSysbox({ name: 'generator' });
  try {
    await installBerthInSysbox(box);
    for (const generator of ['/usr/local/lib/systemd/system-generators/berth-generator', '/usr/local/lib/systemd/user-generators/berth-user-generator']) {
      assert.equal((await box.exec(['test', '-x', generator], { check: false })).exitCode, 0, `${generator} is not installed`);
    }

    await writeUnits(box, SYSTEM_DIR, SYSTEM_UNITS);
    await writeUnits(box, USER_DIR, USER_UNITS);
    await box.systemctl('daemon-reload');

    // systemd loaded what the generator wrote, from the generator folder, pointing back at the source
    for (const unit of ['web.service', 'data-volume.service', 'app-network.service', 'app-pod.service', 'sidecar.service', 'broken.service']) {
      await assertLoaded(box, unit);
    }
    await assertLoaded(box, 'hello.service', true);
    const web = (await box.systemctl('cat', 'web.service')).stdout;
    assert.match(web, /^# \/run\/systemd\/generator\/web\.service$/m);
    assert.match(web, /^SourcePath=\/etc\/containers\/systemd\/web\.container$/m);
    assert.match(web, new RegExp(`^ExecStart=${box.repoRoot}/bin/berth\\.js run --name systemd-%N .*${IMAGE.replace(/\./g, '\\.')}`, 'm'));
    assert.equal((await box.systemctl('show', '--property=SourcePath', '--value', 'web.service')).stdout.trim(), `${SYSTEM_DIR}/web.container`);
    assert.equal((await box.systemctl('show', '--property=LoadState', '--value', 'web.service')).stdout.trim(), 'loaded');
    for (const unit of ['data-volume.service', 'app-network.service', 'app-pod.service', 'sidecar.service']) {
      const text = (await box.systemctl('cat', unit)).stdout;
      assert.match(text, new RegExp(`^# /run/systemd/generator/${unit.replace(/\./g, '\\.')}$`, 'm'), unit);
    }
    // references become dependencies systemd knows
    const requires = (await box.systemctl('show', '--property=Requires', '--value', 'web.service')).stdout;
    assert.match(requires, /data-volume\.service/);
    assert.match(requires, /app-network\.service/);
    const sidecarDeps = (await box.systemctl('show', '--property=BindsTo', '--property=After', '--value', 'sidecar.service')).stdout;
    assert.match(sidecarDeps, /app-pod\.service/);

    // [Install] WantedBy= became a .wants link that systemd follows
    assert.ok((await dependenciesOf(box, 'multi-user.target')).includes('web.service'));
    assert.ok(!(await dependenciesOf(box, 'multi-user.target')).includes('sidecar.service'));

    // the user manager runs the user generator over ~/.config/containers/systemd
    const hello = (await box.userSystemctl('cat', 'hello.service')).stdout;
    assert.match(hello, /^SourcePath=\/root\/\.config\/containers\/systemd\/hello\.container$/m);
    assert.match(hello, /^# \/run\/user\/0\/systemd\/generator\/hello\.service$/m);
    assert.ok((await dependenciesOf(box, 'default.target', true)).includes('hello.service'));
    // system files are not user units and the other way round
    assert.notEqual((await box.exec(['systemctl', 'cat', 'hello.service'], { check: false })).exitCode, 0);

    // a broken file: a unit of the same name that refuses to start and says why
    const broken = (await box.systemctl('cat', 'broken.service')).stdout;
    assert.match(broken, /^X-Berth-Error=.*broken\.container.*Imagee/m);
    const start = await box.exec(['systemctl', 'start', 'broken.service'], { check: false });
    assert.notEqual(start.exitCode, 0, 'a broken unit must not start');
    await box.waitForState('broken.service', 'failed');
    const status = await box.exec(['systemctl', '--no-pager', '--full', '--lines=20', 'status', 'broken.service'], { check: false });
    assert.match(status.stdout, /broken\.container:2: \[Container\] unknown key "Imagee"/);
    await box.waitForJournal('broken.service', /broken\.container:2: \[Container\] unknown key "Imagee"/);
    // ...and it did not keep the good ones from being generated (checked above: web, sidecar, ...)

    // edits and removals take effect at the next daemon-reload
    await box.exec(['sed', '-i', 's/GREETING=hello/GREETING=changed/', `${SYSTEM_DIR}/web.container`]);
    await box.exec(['rm', `${SYSTEM_DIR}/sidecar.container`]);
    await box.systemctl('daemon-reload');
    assert.match((await box.systemctl('cat', 'web.service')).stdout, /GREETING=changed/);
    assert.equal((await box.systemctl('show', '--property=LoadState', '--value', 'sidecar.service')).stdout.trim(), 'not-found');
  } finally {
    await box.stop();
  }
});

test('the shipped examples (units/examples) become units systemd loads and verifies', async () => {
  const examples = join(findRepoRoot(), 'units', 'examples');
  const files = readdirSync(examples).filter((name) => /\.(container|volume|network|pod)$/.test(name));
  assert.ok(files.length >= 6, `examples: ${files.join(' ')}`);
  const box = await startSysbox({ name: 'generator-examples' });
  try {
    await installBerthInSysbox(box);
    await box.exec(['mkdir', '-p', SYSTEM_DIR]);
    await box.exec(['cp', ...files.map((name) => join(examples, name)), SYSTEM_DIR]);
    await box.systemctl('daemon-reload');
    const units = files.map(serviceName);
    for (const [i, unit] of units.entries()) {
      const show = await assertLoaded(box, unit);
      assert.match(show, new RegExp(`^SourcePath=${SYSTEM_DIR}/${files[i]!.replace(/\./g, '\\.')}$`, 'm'), unit);
      assert.doesNotMatch((await box.systemctl('cat', unit)).stdout, /X-Berth-Error/, unit);
    }
    await box.exec(['systemd-analyze', 'verify', ...units.map((unit) => `/run/systemd/generator/${unit}`)]);
    const wanted = await dependenciesOf(box, 'multi-user.target');
    assert.ok(wanted.includes('web.service') && wanted.includes('app-pod.service'), wanted.join(' '));
    const podWants = (await box.systemctl('show', '--property=Wants', '--value', 'app-pod.service')).stdout;
    assert.match(podWants, /app-api\.service/);
    assert.match(podWants, /app-sidecar\.service/);
  } finally {
    await box.stop();
  }
});

/** Quadlet's naming: web.container -> web.service, data.volume -> data-volume.service, ... */
function serviceName(file: string): string {
  const dot = file.lastIndexOf('.');
  const base = file.slice(0, dot);
  const kind = file.slice(dot + 1);
  return kind === 'container' ? `${base}.service` : `${base}-${kind}.service`;
}
