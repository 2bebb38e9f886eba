/**
 * --health-on-failure: what happens to a container once its checks make it unhealthy.
 *   none     nothing (the status says it)
 *   kill     SIGKILL to the container's init. Under systemd the init is the service's Main PID,
 *            so the unit fails (Result=signal) and its Restart= applies: the combination Quadlet
 *            recommends (HealthOnFailure=kill + Restart=on-failure).
 *   stop     under systemd `systemctl stop --no-block UNIT` (the unit ends as a stop would end it,
 *            ExecStopPost cleans up); otherwise berth's own stop.
 *   restart  under systemd `systemctl restart --no-block UNIT`; otherwise stop, then start again
 *            in the background.
 * Under systemd the unit, not berth, owns the container's life: stopping it behind systemd's
 * back would only make systemd restart or fail it with a misleading reason.
 */
import type { StoragePaths } from '../paths/index.js';
import type { ContainerRecord, HealthOnFailure } from './types.js';
import { killContainer, stopContainer } from './lifecycle.js';
import { startContainer } from './launch.js';
import { readState } from './state.js';
import { readHealthTimers, wantsUserManager } from './health-timer.js';
import { runProc } from './proc.js';
import { RuntimeError } from '../errors/index.js';

/** A line for the journal: `<5>` makes journald file it as notice, above the health service's LogLevelMax. */
function say(text: string, env: NodeJS.ProcessEnv): void {
  process.stderr.write(`${env.JOURNAL_STREAM ? '<5>' : ''}${text}\n`);
}

function userManagerOf(paths: StoragePaths, record: ContainerRecord): boolean {
  return readHealthTimers(paths, record.id)[0]?.user ?? wantsUserManager(record.cgroupParent ?? '', process.geteuid?.() ?? 0, paths.rootless);
}

async function systemctl(paths: StoragePaths, record: ContainerRecord, verb: string, unit: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = [...(userManagerOf(paths, record) ? ['--user'] : []), verb, '--no-block', unit];
  const r = await runProc('systemctl', args, { env, timeoutMs: 15000 });
  if (r.exitCode !== 0) throw new RuntimeError('health-action', `systemctl ${args.join(' ')} failed: ${r.stderr.trim()}`, { context: { container: record.name, unit } });
}

export async function applyHealthFailureAction(paths: StoragePaths, record: ContainerRecord, action: HealthOnFailure, env: NodeJS.ProcessEnv): Promise<void> {
  if (action === 'none') return;
  const state = readState(paths, record.id);
  if (state.status !== 'running') return;
  const unit = state.supervisor === 'systemd' ? record.options.systemdUnit : undefined;
  say(`container ${record.name} is unhealthy: --health-on-failure=${action}${unit ? ` (unit ${unit})` : ''}`, env);
  if (action === 'kill') {
    await killContainer(paths, record, 'SIGKILL');
    return;
  }
  if (unit) {
    await systemctl(paths, record, action, unit, env);
    return;
  }
  await stopContainer(paths, record);
  if (action === 'restart') await startContainer(paths, record, 'detached', env);
}
