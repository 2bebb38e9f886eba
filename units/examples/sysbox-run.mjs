#!/usr/bin/env node
// Runs one command inside a throwaway systemd and tears it down afterwards, with the test
// harness's own code (dist/test/support/sysbox.js, built by `npm run build`); nothing outside
// the repository. `npm run demo` uses it on machines whose PID 1 is not systemd.
//
//   node units/examples/sysbox-run.mjs [--name NAME] [--bind DIR]... [--env K=V]... -- COMMAND...
//
// Exits with the command's status; the sysbox is gone when it returns, whatever happened.
// (Plain JS outside test/: node's test runner treats every .js under dist/test/ as a test file.)
import { existsSync } from 'node:fs';

const harness = new URL('../../dist/test/support/sysbox.js', import.meta.url);

function parseArgs(argv) {
  const args = { name: 'run', binds: [], env: {}, command: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`sysbox-run: ${arg} needs a value`);
      return next;
    };
    if (arg === '--') { args.command = argv.slice(i + 1); break; }
    else if (arg === '--name') args.name = value();
    else if (arg === '--bind') args.binds.push(value());
    else if (arg === '--env') {
      const pair = value();
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`sysbox-run: --env wants K=V, got ${pair}`);
      args.env[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else throw new Error(`sysbox-run: unknown option ${arg} (usage: [--name N] [--bind DIR]... [--env K=V]... -- COMMAND...)`);
  }
  if (args.command.length === 0) throw new Error('sysbox-run: no command given after --');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(harness)) throw new Error(`sysbox-run: ${harness.pathname} is missing: run \`npm run build\` first`);
  const { startSysbox } = await import(harness.href);
  const box = await startSysbox({ name: args.name, binds: args.binds });
  console.error(`sysbox-run: systemd booted in ${box.bootMs} ms (sysbox ${box.name}, host pid ${box.pid})`);
  try {
    const result = await box.exec(args.command, { env: args.env, check: false, inheritOutput: true, timeoutMs: 600_000 });
    return result.exitCode;
  } finally {
    await box.stop();
    console.error(`sysbox-run: sysbox ${box.name} stopped and removed`);
  }
}

main().then((code) => { process.exitCode = code; }, (error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
