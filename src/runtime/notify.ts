/**
 * sd_notify from a Node process. Node has no AF_UNIX datagram sockets, so a small native
 * program sends the datagram for us. Measured here (bench/notify, systemd 252, 100 start/stop
 * cycles of a Type=notify unit each): `systemd-notify` (C, ~2 ms) and a python3 one-liner
 * (~25 ms) both delivered every message when they wait for systemd to have processed it.
 * The wait matters: systemd reads the sender's cgroup from its PID when it processes the
 * datagram; a sender that has already exited cannot be attributed to the unit and the message
 * is dropped ("Cannot find unit for notify message"). systemd-notify 252 waits on a
 * BARRIER=1 (sd_notify_barrier) by default, so it returns only after systemd handled the
 * message; --no-block would reintroduce the race. We therefore use systemd-notify, and fall back
 * to the python3 helper (same barrier protocol) only where systemd-notify is missing.
 */
import { runProc } from './proc.js';
import { RuntimeError } from '../errors/index.js';

export function underSystemdNotify(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.NOTIFY_SOCKET);
}

export const PYTHON_NOTIFY = `
import os, socket, sys, select
addr = os.environ['NOTIFY_SOCKET']
if addr.startswith('@'): addr = '\\0' + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
s.sendall('\\n'.join(sys.argv[1:]).encode())
r, w = os.pipe()
s.sendmsg([b'BARRIER=1'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(__import__('array').array('i', [w]))))])
os.close(w)
p = select.poll(); p.register(r, select.POLLHUP)
p.poll(5000)
`;

/** Send `VAR=value` assignments to systemd and return once systemd has processed them. */
export async function sdNotify(assignments: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.NOTIFY_SOCKET) return;
  const r = await runProc('systemd-notify', assignments, { env, timeoutMs: 10000 });
  if (r.exitCode === 0) return;
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    const p = await runProc('python3', ['-c', PYTHON_NOTIFY, ...assignments], { env, timeoutMs: 10000 });
    if (p.exitCode === 0) return;
    throw new RuntimeError('sd-notify', `cannot notify systemd: ${String(p.stderr).trim()}`, {});
  }
  throw new RuntimeError('sd-notify', `systemd-notify ${assignments.join(' ')} failed: ${String(r.stderr).trim()}`, {});
}

/** Fire-and-forget progress (STATUS=, EXTEND_TIMEOUT_USEC=): no barrier needed, berth stays alive. */
export async function sdNotifyProgress(assignments: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.NOTIFY_SOCKET) return;
  await runProc('systemd-notify', ['--no-block', ...assignments], { env, timeoutMs: 5000 });
}
