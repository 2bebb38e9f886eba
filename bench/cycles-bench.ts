/** bench/cycles: N `systemctl start`/`stop` cycles of one berth unit in a sysbox, none may fail. */
import { buildImageLayout } from '../test/support/images.js';
import { installBerthInSysbox, startSysbox } from '../test/support/sysbox.js';

const n = Number(process.argv[2] ?? 100);

async function main(): Promise<void> {
  const box = await startSysbox({ name: 'bench-cycles' });
  try {
    await installBerthInSysbox(box);
    await box.startRegistry();
    const image = await box.pushImage(await buildImageLayout({ busybox: true, entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'] }), 'bench/cycle:latest');
    await box.exec(['mkdir', '-p', '/etc/containers/systemd']);
    await box.exec(['tee', '/etc/containers/systemd/cycle.container'], { input: `[Container]\nImage=${image}\nNetwork=none\n` });
    await box.systemctl('daemon-reload');
    const starts: number[] = [];
    let failures = 0;
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      const s = await box.exec(['systemctl', 'start', 'cycle.service'], { check: false });
      starts.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const active = (await box.exec(['systemctl', 'is-active', 'cycle.service'], { check: false })).stdout.trim();
      const st = await box.exec(['systemctl', 'stop', 'cycle.service'], { check: false });
      if (s.exitCode !== 0 || active !== 'active' || st.exitCode !== 0) { failures++; process.stderr.write(`cycle ${i}: start ${s.exitCode} ${active} stop ${st.exitCode} ${s.stderr}\n`); }
    }
    const left = (await box.sh('ls -A /var/lib/berth/containers /run/berth/containers 2>/dev/null | grep -c "^[0-9a-f]\\{64\\}$"; grep -c " /var/lib/berth/containers/" /proc/self/mountinfo', { check: false })).stdout.trim().split('\n');
    const sorted = [...starts].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(0);
    process.stdout.write(`cycles: ${n}, failed: ${failures}, containers left: ${left[0]}, mounts left: ${left[1]}; systemctl start ms p50 ${pct(0.5)} p90 ${pct(0.9)} max ${pct(1)}\n`);
  } finally {
    await box.stop();
  }
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : e}\n`); process.exitCode = 1; });
