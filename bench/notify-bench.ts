/**
 * bench/notify: which way of sending MAINPID=+READY=1 from a process that exits right after is
 * reliable? Each helper drives CYCLES start/stop cycles of its own Type=notify unit in one sysbox.
 * Prints a table (and the failures); the conclusion is written down in src/runtime/notify.ts.
 */
import { startSysbox } from '../test/support/sysbox.js';
import { PYTHON_NOTIFY } from '../src/runtime/notify.js';

const cycles = Number(process.argv[2] ?? 100);
const helpers: Record<string, string> = {
  'systemd-notify (waits on BARRIER=1, the default in 252)': 'systemd-notify MAINPID=$pid READY=1',
  'systemd-notify --no-block': 'systemd-notify --no-block MAINPID=$pid READY=1',
  'python3 helper (sendmsg + BARRIER=1)': `python3 -c "$PYNOTIFY" MAINPID=$pid READY=1`,
};

async function main(): Promise<void> {
  const box = await startSysbox({ name: 'bench-notify' });
  const lines: string[] = [];
  try {
    await box.exec(['tee', '/usr/local/bin/pynotify.py'], { input: PYTHON_NOTIFY });
    let i = 0;
    for (const [name, cmd] of Object.entries(helpers)) {
      const unit = `notify${i++}`;
      const script = `#!/bin/sh\nPYNOTIFY=$(cat /usr/local/bin/pynotify.py)\nsleep 1000 &\npid=$!\n${cmd}\n`;
      await box.exec(['tee', `/usr/local/bin/${unit}.sh`], { input: script });
      await box.exec(['chmod', '+x', `/usr/local/bin/${unit}.sh`]);
      await box.exec(['tee', `/run/systemd/system/${unit}.service`], { input: `[Service]\nType=notify\nNotifyAccess=all\nExecStart=/usr/local/bin/${unit}.sh\nTimeoutStartSec=10\n` });
      await box.systemctl('daemon-reload');
      const r = await box.sh(`fail=0; t0=$(date +%s%N); for n in $(seq 1 ${cycles}); do systemctl start ${unit} 2>/dev/null || fail=$((fail+1)); [ "$(systemctl show -p MainPID --value ${unit})" != 0 ] || fail=$((fail+1)); systemctl stop ${unit}; systemctl reset-failed ${unit} 2>/dev/null || true; done; t1=$(date +%s%N); echo "$fail $(( (t1 - t0) / 1000000 / ${cycles} ))"`, { check: false, timeoutMs: 1800000 });
      const [fail, ms] = r.stdout.trim().split(' ');
      lines.push(`| ${name} | ${cycles} | ${fail} | ${ms} |`);
    }
  } finally {
    await box.stop();
  }
  process.stdout.write(['| helper | cycles | failed (start error or no Main PID) | ms per start+stop |', '|:---|---:|---:|---:|', ...lines, ''].join('\n'));
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : e}\n`); process.exitCode = 1; });
