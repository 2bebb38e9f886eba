/**
 * `berth run/create/start/stop/rm/ps/inspect/exec/logs/kill/wait` against real crun, real images
 * from a real registry, inside a private namespace (this host's cgroups are hybrid).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, BERTH, TERM_AWARE, type World } from './harness.js';

let w: World;
test.before(async () => {
  w = await startWorld('ctr', {
    busybox: { busybox: true, env: ['FROM_IMAGE=yes'], workdir: '/home/tester', cmd: ['sh', '-c', 'echo default-cmd'] },
    entry: { busybox: true, entrypoint: ['/bin/echo', 'entry:'], cmd: ['default'] },
    service: { busybox: true, entrypoint: TERM_AWARE, stopSignal: 'SIGTERM' },
    files: { busybox: true, files: { '/data.txt': { content: 'not executable', mode: 0o644 }, '/usr/bin/tool': { content: '#!/bin/sh\necho tool-ran\n', mode: 0o755 } } },
  });
});
test.after(async () => { await w?.stop(); });

const CAP_DEFAULT = '00000000800405fb';   // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP

async function ok(args: string[], opts?: Parameters<World['berth']>[1]): Promise<string> {
  const r = await w.berth(args, opts);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('foreground run: output, image Cmd, exit status, --rm leaves nothing', async () => {
  assert.equal(await ok(['run', '--rm', '--network=none', w.images.busybox]), 'default-cmd\n');
  const r = await w.berth(['run', '--rm', '--network=none', w.images.busybox, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.exitCode, 3);
  assert.equal(r.stdout, 'out\n');
  assert.match(r.stderr, /err/);
  assert.deepEqual(await w.leftovers(), []);
});

test('entrypoint and command: image Entrypoint+Cmd, command replaces Cmd, --entrypoint replaces both', async () => {
  assert.equal(await ok(['run', '--rm', '--network=none', w.images.entry]), 'entry: default\n');
  assert.equal(await ok(['run', '--rm', '--network=none', w.images.entry, 'mine', '-n']), 'entry: mine -n\n');
  assert.equal(await ok(['run', '--rm', '--network=none', '--entrypoint', '["/bin/echo","x"]', w.images.entry]), 'x\n');
  assert.equal(await ok(['run', '--rm', '--network=none', '--entrypoint=', w.images.entry, 'printf', 'y']), 'y');
});

test('environment, user, groups, workdir, hostname', async () => {
  const envFile = path.join(w.dir, 'vars.env');
  fs.writeFileSync(envFile, '# comment\nFROM_FILE=1\nOVERRIDE=file\n');
  const env = await ok(['run', '--rm', '--network=none', '--env-file', envFile, '-e', 'OVERRIDE=flag', '-e', 'PASSED', w.images.busybox, 'env'], { env: { PASSED: 'from-host' } });
  const vars = Object.fromEntries(env.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(vars.FROM_IMAGE, 'yes');
  assert.equal(vars.FROM_FILE, '1');
  assert.equal(vars.OVERRIDE, 'flag');
  assert.equal(vars.PASSED, 'from-host');
  assert.equal(vars.container, 'podman');
  assert.equal(await ok(['run', '--rm', '--network=none', '--user', 'tester', w.images.busybox, 'id']), 'uid=1000(tester) gid=1000(tester)\n');
  assert.equal(await ok(['run', '--rm', '--network=none', '--user', '1000:65534', '--group-add', 'root', w.images.busybox, 'id']), 'uid=1000(tester) gid=65534(nobody) groups=0(root)\n');
  assert.equal(await ok(['run', '--rm', '--network=none', w.images.busybox, 'pwd']), '/home/tester\n');
  assert.equal(await ok(['run', '--rm', '--network=none', '-w', '/tmp', '--hostname', 'box1', w.images.busybox, 'sh', '-c', 'pwd; hostname; cat /etc/hostname']), '/tmp\nbox1\nbox1\n');
});

test('capabilities, seccomp and no-new-privileges seen from inside', async () => {
  const status = (s: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(s)?.[1];
  const def = await ok(['run', '--rm', '--network=none', w.images.busybox, 'cat', '/proc/self/status']);
  assert.equal(status(def, 'CapEff'), CAP_DEFAULT);
  assert.equal(status(def, 'CapBnd'), CAP_DEFAULT);
  assert.equal(status(def, 'Seccomp'), '2');
  assert.equal(status(def, 'NoNewPrivs'), '0');
  const added = await ok(['run', '--rm', '--network=none', '--cap-add', 'net_admin', '--cap-drop', 'CHOWN', '--security-opt', 'no-new-privileges', w.images.busybox, 'cat', '/proc/self/status']);
  assert.equal(status(added, 'CapEff'), (BigInt(`0x${CAP_DEFAULT}`) - 1n + (1n << 12n)).toString(16).padStart(16, '0'));
  assert.equal(status(added, 'NoNewPrivs'), '1');
  const none = await ok(['run', '--rm', '--network=none', '--cap-drop', 'all', '--security-opt', 'seccomp=unconfined', w.images.busybox, 'cat', '/proc/self/status']);
  assert.equal(status(none, 'CapEff'), '0000000000000000');
  assert.equal(status(none, 'Seccomp'), '0');
  const user = await ok(['run', '--rm', '--network=none', '--user', 'tester', w.images.busybox, 'cat', '/proc/self/status']);
  assert.equal(status(user, 'CapEff'), '0000000000000000');
  // masked: /proc/timer_list is /dev/null inside; read-only: /proc/sys
  const masked = await ok(['run', '--rm', '--network=none', w.images.busybox, 'sh', '-c', 'wc -c < /proc/timer_list; grep -c " /proc/sys ro," /proc/self/mountinfo']);
  assert.equal(masked, '0\n1\n');
});

test('read-only root, tmpfs, bind mounts (ro and rw)', async () => {
  const host = path.join(w.dir, 'share');
  fs.mkdirSync(host, { recursive: true });
  fs.writeFileSync(path.join(host, 'in.txt'), 'from host\n');
  const out = await ok(['run', '--rm', '--network=none', '--read-only', '--tmpfs', '/scratch:size=1m', '-v', `${host}:/data`, '--mount', `type=bind,source=${host},target=/ro,ro`, w.images.busybox, 'sh', '-c',
    'touch /x 2>/dev/null && echo root-writable || echo root-ro; touch /tmp/a && echo tmp-ok; echo s > /scratch/s && echo scratch-ok; cat /data/in.txt; echo c > /data/out.txt; touch /ro/z 2>/dev/null || echo bind-ro; grep " /scratch " /proc/mounts | cut -d" " -f3']);
  assert.equal(out, 'root-ro\ntmp-ok\nscratch-ok\nfrom host\nbind-ro\ntmpfs\n');
  assert.equal(fs.readFileSync(path.join(host, 'out.txt'), 'utf8'), 'c\n');
});

test('named volume: created on first use, filled from the image, kept across containers', async () => {
  assert.equal(await ok(['run', '--rm', '--network=none', '-v', 'state:/usr/bin', w.images.files, 'sh', '-c', 'ls /usr/bin; echo kept > /usr/bin/f']), 'tool\n');
  assert.equal(await ok(['run', '--rm', '--network=none', '--mount', 'type=volume,source=state,target=/v,ro', w.images.busybox, 'sh', '-c', 'ls /v; cat /v/f; touch /v/x 2>/dev/null || echo ro']), 'f\ntool\nkept\nro\n');
  assert.match(await ok(['volume', 'ls']), /state/);
  await ok(['volume', 'rm', 'state']);
  assert.deepEqual(await w.leftovers(), []);
});

test('detached: ps, inspect, exec, logs, stop with StopSignal, start again, rm', async () => {
  const id = (await ok(['run', '-d', '--name', 'svc', '--network=none', '--label', 'app=web', w.images.service])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await ok(['ps']);
  assert.match(ps, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  assert.match(ps, new RegExp(`${id.slice(0, 12)}\\s+.*test/service:latest.*Up .*svc\\n`));
  const json = JSON.parse(await ok(['ps', '--format', 'json']));
  assert.equal(json[0].Id, id);
  assert.equal(json[0].State, 'running');
  assert.deepEqual(json[0].Labels, { app: 'web' });
  const inspect = JSON.parse(await ok(['inspect', 'svc']))[0];
  assert.equal(inspect.State.Running, true);
  assert.equal(inspect.Config.StopSignal, 'SIGTERM');
  assert.equal(await ok(['inspect', '--format', '{{.State.Status}} {{.Name}}', 'svc']), 'running svc\n');
  assert.equal(await ok(['exec', 'svc', 'sh', '-c', 'echo in-container $HOSTNAME']), `in-container ${id.slice(0, 12)}\n`);
  assert.equal((await w.berth(['exec', 'svc', 'sh', '-c', 'exit 7'])).exitCode, 7);
  assert.equal((await w.berth(['exec', 'svc', 'nope'])).exitCode, 127);
  const t0 = Date.now();
  assert.equal(await ok(['stop', 'svc']), 'svc\n');
  assert.ok(Date.now() - t0 < 5000, 'TERM-aware container stops without waiting for the timeout');
  assert.equal(await ok(['logs', 'svc']), 'started\ngot-term\n');
  assert.equal(await ok(['logs', '-n', '1', 'svc']), 'got-term\n');
  assert.match(await ok(['ps', '-a']), /Exited \(0\)/);
  assert.equal(await ok(['wait', 'svc']), '0\n');
  await ok(['start', 'svc']);
  assert.match(await ok(['ps']), /svc/);
  assert.equal((await w.berth(['rm', 'svc'])).exitCode, 2, 'running container is not removed without -f');
  await ok(['rm', '-f', 'svc']);
  assert.equal(await ok(['ps', '-a', '-q']), '');
  assert.deepEqual(await w.leftovers(), []);
});

test('exec runs as the container\'s user unless -u says otherwise (Podman)', async () => {
  await ok(['run', '-d', '--name', 'asuser', '--network=none', '--user', 'tester', w.images.busybox, 'sleep', '1000']);
  assert.equal(await ok(['exec', 'asuser', 'id', '-u']), '1000\n');
  assert.equal(await ok(['exec', '-u', '0', 'asuser', 'id', '-u']), '0\n');
  await ok(['rm', '-f', '-t', '0', 'asuser']);
  assert.deepEqual(await w.leftovers(), []);
});

test('stop timeout: a PID 1 that ignores SIGTERM is killed after --stop-timeout; --init forwards TERM', async () => {
  await ok(['run', '-d', '--name', 'stubborn', '--network=none', '--stop-timeout', '1', w.images.busybox, 'sleep', '1000']);
  let t0 = Date.now();
  const r = await w.berth(['stop', 'stubborn']);
  const took = Date.now() - t0;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(took >= 1000 && took < 6000, `stop took ${took} ms`);
  assert.match(r.stderr, /resorting to SIGKILL/);
  assert.match(await ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /stubborn Exited \(137\)/);
  await ok(['run', '-d', '--name', 'withinit', '--init', '--network=none', w.images.busybox, 'sleep', '1000']);
  t0 = Date.now();
  await ok(['stop', '-t', '5', 'withinit']);
  assert.ok(Date.now() - t0 < 3000, 'catatonit forwards SIGTERM to sleep');
  await ok(['run', '-d', '--name', 'killme', '--network=none', w.images.service]);
  await ok(['kill', '-s', 'TERM', 'killme']);
  assert.equal(await ok(['wait', 'killme']), '0\n');
  await ok(['rm', '-f', 'stubborn', 'withinit', 'killme']);
  assert.deepEqual(await w.leftovers(), []);
});

test('names: conflict without --replace, --replace removes the old one, create + start', async () => {
  const first = (await ok(['create', '--name', 'dup', '--network=none', w.images.busybox, 'true'])).trim();
  const clash = await w.berth(['create', '--name', 'dup', '--network=none', w.images.busybox, 'true']);
  assert.equal(clash.exitCode, 125);
  assert.match(clash.stderr, /^Error: the container name "dup" is already in use by [0-9a-f]{64}/);
  assert.equal(clash.stderr.trim().split('\n').length, 1);
  await ok(['run', '-d', '--name', 'dup', '--replace', '--network=none', w.images.service]);
  const ids = (await ok(['ps', '-a', '-q', '--no-trunc'])).trim().split('\n');
  assert.equal(ids.length, 1);
  assert.notEqual(ids[0], first);
  const cidfile = path.join(w.dir, 'dup.cid');
  await ok(['run', '-d', '--name', 'dup', '--replace', `--cidfile=${cidfile}`, '--network=none', w.images.service]);
  await ok(['rm', '-v', '-f', '-i', `--cidfile=${cidfile}`]);
  assert.ok(!fs.existsSync(cidfile));
  await ok(['rm', '-v', '-f', '-i', `--cidfile=${cidfile}`]);   // again: nothing there, still success (ExecStopPost after ExecStop)
  assert.deepEqual(await w.leftovers(), []);
});

test('bad input: one-line error, Podman exit status, nothing left behind', async () => {
  const cases: [string[], number, RegExp][] = [
    [['run', '--rm', '--network=none', `${w.registry.host}/test/absent:latest`], 125, /absent/],
    [['run', '--rm', '--network=none', w.images.busybox, 'nope'], 127, /executable file `nope` not found in \$PATH/],
    [['run', '--rm', '--network=none', w.images.files, '/data.txt'], 126, /\/data\.txt: permission denied/],
    [['run', '--rm', '--network=none', '--user', 'ghost', w.images.busybox, 'id'], 125, /unable to find user ghost/],
    [['run', '--rm', '--network=none', '-v', '/var/tmp/no/such/dir:/x', w.images.busybox, 'true'], 125, /\/var\/tmp\/no\/such\/dir does not exist/],
    [['run', '--rm', '--network=none', '--memory', 'lots', w.images.busybox, 'true'], 125, /invalid value for --memory "lots"/],
    [['run', '--rm', '--network=none', '--ulimit', 'nofile=abc', w.images.busybox, 'true'], 125, /--ulimit "nofile=abc"/],
    [['run', '--rm', '--network=none', '--cap-add', 'SUPERPOWER', w.images.busybox, 'true'], 125, /unknown capability SUPERPOWER/],
    [['run', '--rm', '--network=none', '--bogus-flag', w.images.busybox, 'true'], 125, /unknown flag: --bogus-flag/],
    [['run', '--network=none', '--name', 'bad', '-d', w.images.busybox, 'nope'], 127, /not found/],
    [['run', '--network=none', '--tz', 'Mars/Olympus', w.images.busybox, 'true'], 125, /--tz Mars\/Olympus: no such time zone/],
  ];
  for (const [args, code, message] of cases) {
    const r = await w.berth(args);
    assert.equal(r.exitCode, code, `${args.join(' ')}: ${r.stderr}`);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0], message);
    assert.deepEqual(await w.leftovers(), [], args.join(' '));
  }
  const rm = await w.berth(['rm', 'never-existed']);
  assert.equal(rm.exitCode, 1);
  assert.equal((await w.berth(['rm', '-i', 'never-existed'])).exitCode, 0);
});

test('after a crash: a dead container and state from a previous boot are recognised and removed', async () => {
  const id = (await ok(['run', '-d', '--name', 'crashy', '--network=none', w.images.service])).trim();
  const pid = JSON.parse(await ok(['inspect', 'crashy']))[0].State.Pid as number;
  assert.ok(pid > 0);
  // SIGKILL the container and its monitor from outside, as a crash would.
  await w.ns.exec(['sh', '-c', `kill -9 ${pid}`]);
  for (let i = 0; i < 50 && !/exited/.test(await ok(['inspect', '--format', '{{.State.Status}}', 'crashy'])); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await ok(['inspect', '--format', '{{.State.Status}}', 'crashy']), 'exited\n');
  await ok(['start', 'crashy']);
  const stateFile = path.join(w.dir, 'run', 'containers', id, 'state.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  fs.writeFileSync(stateFile, JSON.stringify({ ...state, bootId: 'a-previous-boot' }));
  assert.equal(await ok(['inspect', '--format', '{{.State.Status}}', 'crashy']), 'exited\n');
  await ok(['rm', '-f', 'crashy']);
  assert.deepEqual(await w.leftovers(), []);
});

test('exec -t: the process gets its own pty when berth runs on a terminal, no terminal without -t; exit status passes through', async () => {
  await ok(['run', '-d', '--name', 'ttysvc', '--network=none', w.images.service]);
  // berth itself needs a terminal for -t: run it under script(1), as from an interactive shell;
  // `tty` first prints that outer terminal.
  const underTerminal = (args: string) => w.ns.exec(['script', '-q', '-e', '-c', `tty; ${process.execPath} ${BERTH} --root=${w.dir}/root --runroot=${w.dir}/run ${args}`, '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root' } });
  const withTty = await underTerminal("exec -t ttysvc sh -c '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo fds-are-terminals; readlink /proc/self/fd/0'");
  assert.equal(withTty.exitCode, 0, withTty.stdout + withTty.stderr);
  const [outer, ...inner] = withTty.stdout.split(/\r?\n/).filter(Boolean);
  assert.match(outer, /^\/dev\/pts\/\d+$/);
  assert.equal(inner[0], 'fds-are-terminals', withTty.stdout);
  assert.match(inner[1], /^\/dev\/pts\/\d+$/, withTty.stdout);
  assert.equal(inner[1], '/dev/pts/0', 'exec -t gives the process a pty of the container\'s own devpts (more in exec-tty.test.ts)');
  const withoutTty = await underTerminal('exec ttysvc tty');
  assert.equal(withoutTty.exitCode, 1);
  assert.match(withoutTty.stdout, /^not a tty\r?$/m);
  assert.equal((await underTerminal("exec -t ttysvc sh -c 'exit 5'")).exitCode, 5);
  assert.equal((await underTerminal("exec ttysvc sh -c 'exit 6'")).exitCode, 6);
  await ok(['rm', '-f', 'ttysvc']);
  assert.deepEqual(await w.leftovers(), []);
});
