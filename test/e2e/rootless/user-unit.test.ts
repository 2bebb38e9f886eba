/**
 * A `.container` unit of an unprivileged user under that user's own systemd (`systemctl --user`),
 * in a real systemd booted for the test (test/support/sysbox.ts): the generated unit's
 * `berth run` enters berth's user namespace (the user's /etc/subuid range), the container's init
 * becomes the service's Main PID, runs as the mapped ids, logs to the journal, stops with the
 * unit and leaves nothing behind.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildImageLayout } from '../../support/images.js';
import { installBerthInSysbox, startSysbox, type Sysbox } from '../../support/sysbox.js';

const USER = 'berthtest';
const SERVICE = ['sh', '-c', 'echo "started uid=$(id -u) map=$(head -n1 /proc/self/uid_map | tr -s " ")"; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done'];

let box: Sysbox;
let image: string;
let uid: number;
let home: string;
let subUid: number;
const userEnv = (): Record<string, string> => ({ XDG_RUNTIME_DIR: `/run/user/${uid}`, DBUS_SESSION_BUS_ADDRESS: `unix:path=/run/user/${uid}/bus` });

test.before(async () => {
  const entry = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`));
  if (!entry) throw new Error(`user ${USER} is missing: run test/setup.sh`);
  uid = Number(entry.split(':')[2]);
  home = entry.split(':')[5]!;
  subUid = Number(fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!.split(':')[1]);
  const layout = await buildImageLayout({ busybox: true, user: '1000', entrypoint: SERVICE });
  // The store's overlay upper dirs cannot live on the box's overlay root: a tmpfs, given to the user.
  box = await startSysbox({ name: 'rootless-user', tmpfs: [`${home}/.local/share/berth`] });
  await installBerthInSysbox(box);
  await box.startRegistry();
  image = await box.pushImage(layout, 'test/rootless-svc:latest');
  await box.exec(['chown', `${USER}:`, `${home}/.local`, `${home}/.local/share`, `${home}/.local/share/berth`]);
  await box.exec(['systemctl', 'start', 'dbus.socket', `user@${uid}.service`]);
});
test.after(async () => { await box?.stop(); });

function userSystemctl(...args: string[]) {
  return box.exec(['systemctl', '--user', '--no-pager', ...args], { user: USER, env: userEnv() });
}

/**
 * The unit's lines, by _SYSTEMD_USER_UNIT alone: `journalctl --user-unit` run by root also asks for
 * _UID=0, and the container's lines carry the mapped uid (or the user's).
 */
async function waitForJournal(unit: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 15000;
  for (;;) {
    await box.exec(['journalctl', '--sync'], { check: false });
    const text = (await box.exec(['journalctl', '--no-pager', '-o', 'cat', `_SYSTEMD_USER_UNIT=${unit}`], { check: false })).stdout;
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`the journal of ${unit} never matched ${pattern}:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startUnit(unit: string): Promise<void> {
  const r = await box.exec(['systemctl', '--user', '--no-pager', 'start', unit], { user: USER, env: userEnv(), check: false });
  if (r.exitCode !== 0) {
    const status = await box.exec(['systemctl', '--user', '--no-pager', '--full', 'status', unit], { user: USER, env: userEnv(), check: false });
    const all = await box.exec(['journalctl', '--no-pager', '-n', '40'], { check: false });
    assert.fail(`systemctl --user start ${unit}: ${r.stderr}\n--- status ---\n${status.stdout}\n--- journal ---\n${all.stdout}`);
  }
}

test('systemctl --user start: the container runs as mapped ids under the user manager, stops cleanly', async () => {
  await box.exec(['mkdir', '-p', `${home}/.config/containers/systemd`], { user: USER });
  await box.exec(['tee', `${home}/.config/containers/systemd/rsvc.container`], { user: USER, input: `[Container]\nImage=${image}\nNetwork=none\n` });
  await userSystemctl('daemon-reload');
  await startUnit('rsvc.service');
  const show = (await userSystemctl('show', '-p', 'ActiveState,MainPID', 'rsvc.service')).stdout;
  assert.match(show, /ActiveState=active/);
  const pid = Number(/MainPID=(\d+)/.exec(show)?.[1]);
  assert.ok(pid > 0, show);
  const journal = await waitForJournal('rsvc.service', /started uid=/);
  assert.match(journal, new RegExp(`started uid=1000 map= ?0 ${uid} 1`));
  // On this cgroup-v2 box the user manager delegates its subtree: no "without cgroup limits" warning.
  assert.doesNotMatch(journal, /without cgroup limits/);
  // The Main PID is the container's init, running as the image user 1000 = subordinate start + 999 on the host.
  const status = (await box.exec(['cat', `/proc/${pid}/status`])).stdout;
  assert.equal(Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), subUid + 999);
  assert.match((await box.exec(['cat', `/proc/${pid}/cgroup`])).stdout, new RegExp(`^0::/user.slice/user-${uid}\\.slice/user@${uid}\\.service/app\\.slice/rsvc\\.service/berth-[0-9a-f]{12}$`, "m"));
  // Nothing of berth stays: no node, unshare, crun or lock helper next to the container in the service.
  const cg = /ControlGroup=(.*)/.exec((await userSystemctl('show', '-p', 'ControlGroup', 'rsvc.service')).stdout)?.[1]?.trim();
  assert.ok(cg, 'the unit has a cgroup');
  const procs = await box.sh(`for f in $(find /sys/fs/cgroup${cg} -name cgroup.procs); do cat $f; done | xargs -r -n1 sh -c 'cat /proc/$0/comm 2>/dev/null || true'`);
  assert.ok(/sh/.test(procs.stdout) && !/node|unshare|crun|berth|perl|flock/.test(procs.stdout), procs.stdout);
  await userSystemctl('stop', 'rsvc.service');
  await waitForJournal('rsvc.service', /got-term/);
  const left = await box.sh([
    `ls -A ${home}/.local/share/berth/containers /run/user/${uid}/berth/containers 2>/dev/null | grep -v '^/' | grep -v '^\\.' | grep -v '^$'`,
    `grep ' ${home}/.local/share/berth/containers/' /proc/*/mountinfo 2>/dev/null | head -3`,
    `ls /run/user/${uid}/berth/crun 2>/dev/null`,
    `ps -o pid=,user=,args= -u ${subUid + 999}`,
    'true',
  ].join('; '), { check: false });
  assert.equal(left.stdout.trim(), '', `leftovers:\n${left.stdout}`);
});
