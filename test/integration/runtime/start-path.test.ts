/**
 * What `berth run` does on its start path to be fast, checked for correctness: a --rm container's
 * overlay is volatile (no sync at unmount) and a plain one's is not; --network=none leaves
 * the namespace to crun (loopback up, no namespace file, nothing to tear down) and another
 * container can still join it; nothing is left behind.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BERTH, startWorld, TERM_AWARE, type World } from './harness.js';

let w: World;
test.before(async () => {
  w = await startWorld('startpath', {
    busybox: { busybox: true },
    service: { busybox: true, entrypoint: TERM_AWARE, stopSignal: 'SIGTERM' },
  });
});
test.after(async () => { await w?.stop(); });

async function ok(args: string[]): Promise<string> {
  const r = await w.berth(args);
  assert.equal(r.exitCode, 0, `berth ${args.join(' ')} -> ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The super options of the container's root mount, as the container sees them. */
function rootOverlayOptions(mountinfo: string): string {
  const root = mountinfo.split('\n').find((l) => l.split(' ')[4] === '/');
  assert.ok(root, mountinfo);
  return root.split(' - ')[1];
}

test('--rm: the overlay is volatile; without --rm it is not', async () => {
  assert.match(rootOverlayOptions(await ok(['run', '--rm', '--network=none', w.images.busybox, 'cat', '/proc/self/mountinfo'])), /^overlay overlay \S*\bvolatile\b/);
  await ok(['run', '--name', 'keep', '--network=none', w.images.busybox, 'true']);
  // started again: the same upper and work dirs are mounted again
  const again = await w.berth(['start', '-a', 'keep']);
  assert.equal(again.exitCode, 0, again.stderr);
  await ok(['rm', 'keep']);
  // a --rm container that `start` runs twice mounts the dirs of its earlier volatile overlay again
  await ok(['create', '--rm', '--name', 'twice', '--network=none', w.images.busybox, 'sh', '-c', 'cat /count 2>/dev/null; echo x >> /count']);
  assert.equal(await ok(['start', '-a', 'twice']), '');
  assert.equal(await ok(['start', '-a', 'twice']), 'x\n', 'the upper dir survives a clean unmount');
  await ok(['rm', '-f', 'twice']);
  const plain = rootOverlayOptions(await ok(['run', '--network=none', '--name', 'plain', w.images.busybox, 'cat', '/proc/self/mountinfo']));
  assert.match(plain, /^overlay overlay /);
  assert.doesNotMatch(plain, /volatile/);
  await ok(['rm', 'plain']);
  assert.deepEqual(await w.leftovers(), []);
});

test('--network=none: a private namespace with loopback up, no namespace file; container:NAME joins it', async () => {
  const links = await ok(['run', '--rm', '--network=none', w.images.busybox, 'ip', '-o', 'link', 'show']);
  assert.deepEqual(links.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
  assert.match(links, /\bUP\b/);
  await ok(['run', '-d', '--name', 'owner', '--network=none', w.images.service]);
  const netnsDir = path.join(w.dir, 'run', 'netns');
  assert.deepEqual(fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [], [], 'no namespace file for --network=none');
  const inode = (await ok(['exec', 'owner', 'readlink', '/proc/self/ns/net'])).trim();
  const joined = (await ok(['run', '--rm', '--network=container:owner', w.images.busybox, 'readlink', '/proc/self/ns/net'])).trim();
  assert.equal(joined, inode, 'the joining container is in the owner\'s network namespace');
  assert.notEqual((await ok(['run', '--rm', '--network=none', w.images.busybox, 'readlink', '/proc/self/ns/net'])).trim(), inode);
  await ok(['rm', '-f', '-t', '0', 'owner']);
  assert.deepEqual(await w.leftovers(), []);
});

test('seccomp: crun compiles a profile once; later starts pass the cached program, keyed by the exact profile', async () => {
  const cacheDir = path.join(w.dir, 'root', 'cache', 'seccomp');
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const status = (s: string) => /^Seccomp:\s*(\d)/m.exec(s)?.[1];
  assert.equal(status(await ok(['run', '--rm', '--network=none', w.images.busybox, 'cat', '/proc/self/status'])), '2');
  const entries = () => fs.readdirSync(cacheDir).filter((f) => f.endsWith('.json')).sort();
  assert.equal(entries().length, 1, 'the default profile was compiled and cached');
  const entry = JSON.parse(fs.readFileSync(path.join(cacheDir, entries()[0]), 'utf8')) as { bpf: string; seccomp: string };
  assert.equal(Buffer.from(entry.bpf, 'base64').length % 8, 0);
  // a started container's bundle carries the cached program for crun
  await ok(['run', '-d', '--name', 'bpf', '--network=none', w.images.service]);
  const id = (await ok(['inspect', '--format', '{{.Id}}', 'bpf'])).trim();
  const bundle = JSON.parse(fs.readFileSync(path.join(w.dir, 'run', 'containers', id, 'bundle', 'config.json'), 'utf8')) as { annotations: Record<string, string>; linux: { seccomp: unknown } };
  assert.equal(bundle.annotations['run.oci.seccomp_bpf_data'], entry.bpf);
  assert.equal(JSON.stringify(bundle.linux.seccomp), entry.seccomp);
  assert.equal(status(await ok(['exec', 'bpf', 'cat', '/proc/self/status'])), '2');
  await ok(['rm', '-f', '-t', '0', 'bpf']);

  // two custom profiles: each start, compiled or cached, enforces its own
  const profile = (denied: string[]) => {
    const file = path.join(w.dir, `deny-${denied[0]}.json`);
    fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: denied, action: 'SCMP_ACT_ERRNO' }] }));
    return `seccomp=${file}`;
  };
  const denyMkdir = profile(['mkdir', 'mkdirat']);
  const denyRmdir = profile(['rmdir']);
  const attempt = async (opt: string) => (await w.berth(['run', '--rm', '--network=none', '--security-opt', opt, w.images.busybox, 'sh', '-c',
    'mkdir /made 2>/dev/null && echo made || echo no-mkdir; mkdir -p /gone 2>/dev/null; rmdir /gone 2>/dev/null && echo removed || echo no-rmdir'])).stdout;
  for (let i = 0; i < 2; i++) {
    assert.equal(await attempt(denyMkdir), 'no-mkdir\nno-rmdir\n', `deny mkdir, start ${i + 1}`);
    assert.equal(await attempt(denyRmdir), 'made\nno-rmdir\n', `deny rmdir, start ${i + 1}`);
  }
  assert.equal(entries().length, 3);

  // a damaged entry is not used: compiled again
  for (const f of entries()) fs.writeFileSync(path.join(cacheDir, f), '{"bpf":"AAAA');
  assert.equal(await attempt(denyMkdir), 'no-mkdir\nno-rmdir\n');
  const rewritten = entries().filter((f) => { try { return Boolean(JSON.parse(fs.readFileSync(path.join(cacheDir, f), 'utf8')).bpf); } catch { return false; } });
  assert.equal(rewritten.length, 1, 'the entry was written again');
  assert.deepEqual(await w.leftovers(), []);
});

test('removal: a removed container\'s dirs go to .trash and are deleted after berth exits, symlinks not followed; a dead deleter\'s trash is swept', async () => {
  const outside = path.join(w.dir, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'keep'), 'host file\n');
  const trash = path.join(w.dir, 'root', 'containers', '.trash');
  // a trash entry of a deleter that no longer runs (pid 1 with a start time that cannot match)
  fs.mkdirSync(path.join(trash, '1-1-0123456789abcdef', 'upper', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(trash, '1-1-0123456789abcdef', 'upper', 'deep', 'f'), 'x');
  const runTrash = path.join(w.dir, 'run', 'containers', '.trash');   // the volatile dirs' trash, on the run root
  fs.mkdirSync(path.join(runTrash, '1-1-0123456789abcdef', 'bundle'), { recursive: true });
  fs.writeFileSync(path.join(runTrash, '1-1-0123456789abcdef', 'bundle', 'config.json'), '{}');
  await ok(['run', '--rm', '--network=none', w.images.busybox, 'sh', '-c',
    `mkdir -p /a/b/c && for i in 1 2 3 4 5; do echo $i > /a/b/c/f$i; done && ln -s ${outside} /a/host && ln -s ${outside}/keep /a/file`]);
  assert.ok(!fs.existsSync(path.join(trash, '1-1-0123456789abcdef')), 'the dead deleter\'s trash was swept');
  assert.ok(!fs.existsSync(path.join(runTrash, '1-1-0123456789abcdef')), 'the dead deleter\'s run-root trash was swept');
  await ok(['create', '--name', 'gone', '--network=none', w.images.busybox, 'true']);
  const id = (await ok(['inspect', '--format', '{{.Id}}', 'gone'])).trim();
  await ok(['rm', 'gone']);
  assert.ok(!fs.existsSync(path.join(w.dir, 'root', 'containers', id)), 'rm: the container dir is gone when rm returns');
  assert.ok(!fs.existsSync(path.join(w.dir, 'run', 'containers', id)), 'rm: the container\'s run dir is gone when rm returns');
  assert.equal((await w.berth(['inspect', 'gone'])).exitCode, 125);
  assert.deepEqual(await w.leftovers(), []);   // waits for .trash to empty
  assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'host file\n', 'a symlink in the upper dir was removed, not followed');
});

test('rm: a process still writing into the container\'s run dir (as the monitor writes its exit file after rm -f) does not make rm fail', async () => {
  await ok(['create', '--name', 'busy', '--network=none', w.images.busybox, 'true']);
  const id = (await ok(['inspect', '--format', '{{.Id}}', 'busy'])).trim();
  const runDir = path.join(w.dir, 'run', 'containers', id);
  assert.ok(fs.existsSync(runDir));
  // a writer outside berth: creates files in the run dir for as long as the dir is there
  const writer = spawn('sh', ['-c', `i=0; while [ -d "${runDir}" ] && [ $i -lt 200000 ]; do : > "${runDir}/late$i" 2>/dev/null; i=$((i+1)); done`], { stdio: 'ignore' });
  const writerDone = new Promise((resolve) => writer.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 100));   // the writer is busy
  const r = await w.berth(['rm', 'busy']);
  await writerDone;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(fs.existsSync(runDir), false);
  assert.deepEqual(await w.leftovers(), []);
});

test('foreground run: SIGTERM and SIGHUP sent to berth reach the container, whose exit status berth returns', async () => {
  const berth = `${process.execPath} ${BERTH} --root=${w.dir}/root --runroot=${w.dir}/run`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', CONTAINERS_REGISTRIES_CONF: path.join(w.dir, 'registries.conf') };
  for (const [signal, status] of [['TERM', 42], ['HUP', 43]] as const) {
    const out = path.join(w.dir, `fg-${signal}.out`);
    const script = `${berth} run --rm --network=none ${w.images.busybox} sh -c 'echo started; trap "echo got-${signal}; exit ${status}" ${signal}; while :; do sleep 0.1; done' > ${out} 2>&1 &
      pid=$!; i=0
      while ! grep -q started ${out} && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
      kill -${signal} $pid; wait $pid; echo "status=$?"`;
    const r = await w.ns.sh(script, { env, timeoutMs: 60000 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`status=${status}\\b`), `${signal}: ${r.stdout}\n${fs.readFileSync(out, 'utf8')}`);
    assert.match(fs.readFileSync(out, 'utf8'), new RegExp(`got-${signal}`));
  }
  assert.deepEqual(await w.leftovers(), []);
});

test('a crun that cannot be started: exit status 125, a message naming it, nothing left behind', async () => {
  const r = await w.berth(['run', '--rm', '--network=none', w.images.busybox, 'true'], { env: { BERTH_CRUN: '/nonexistent/crun' } });
  assert.equal(r.exitCode, 125, r.stderr);
  assert.match(r.stderr, /cannot run \/nonexistent\/crun: ENOENT/);
  assert.deepEqual(await w.leftovers(), []);
});

test('foreground run: a Ctrl-C to the whole process group (berth, its helper, crun) ends the container with its own status', async () => {
  const berth = `${process.execPath} ${BERTH} --root=${w.dir}/root --runroot=${w.dir}/run`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', CONTAINERS_REGISTRIES_CONF: path.join(w.dir, 'registries.conf') };
  const out = path.join(w.dir, 'fg-group.out');
  // berth leads its own process group (setsid; the group's id is written first), as in a terminal;
  // the group gets SIGINT, as from Ctrl-C
  const pidFile = path.join(w.dir, 'fg-group.pid');
  const script = `setsid sh -c 'echo $$ > ${pidFile}; exec "$0" "$@"' ${berth} run --rm --network=none ${w.images.busybox} sh -c 'echo started; trap "echo got-INT; exit 44" INT; while :; do sleep 0.1; done' > ${out} 2>&1 &
    i=0; while ! grep -q started ${out} && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
    kill -INT -$(cat ${pidFile}); wait $!; echo "status=$?"`;
  const r = await w.ns.sh(script, { env, timeoutMs: 60000 });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /status=44\b/, `${r.stdout}\n${fs.readFileSync(out, 'utf8')}`);
  assert.match(fs.readFileSync(out, 'utf8'), /got-INT/);
  assert.deepEqual(await w.leftovers(), []);
});
