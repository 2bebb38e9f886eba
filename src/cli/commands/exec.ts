/** `berth exec [-it] [-e K=V] [-u UID[:GID]] [-w DIR] NAME COMMAND...` */
import type { Argv, CommandModule } from 'yargs';
import { execInContainer, flagValues, requireRecord } from '../../runtime/index.js';
import { pathsOf } from './container-support.js';
import { parseWithTrailingCommand } from './argv-split.js';
import { UsageError } from '../../errors/index.js';

export const execCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'exec [container] [command..]',
  describe: 'Run a process in a running container',
  builder: (y: Argv) => execFlags(y).parserConfiguration({ 'halt-at-non-option': true, 'populate--': true }),
  handler: async (raw) => {
    const { args: argv, positional, command } = await parseWithTrailingCommand(raw, 'exec', execFlags, 1);
    if (!positional[0]) throw new UsageError('usage', 'exec needs a container and a command', {});
    const paths = pathsOf(argv);
    const record = requireRecord(paths, positional[0]);
    const env = flagValues.parseEnv(((argv.env as string[] | undefined) ?? []), process.env);
    const r = await execInContainer(paths, record, command, {
      tty: Boolean(argv.tty), interactive: Boolean(argv.interactive), env, user: argv.user as string | undefined, workdir: argv.workdir as string | undefined,
    });
    process.exitCode = r.exitCode;
  },
};

function execFlags(y: Argv): Argv {
  return y
    .option('interactive', { alias: 'i', type: 'boolean', default: false })
    .option('tty', { alias: 't', type: 'boolean', default: false })
    .option('env', { alias: 'e', type: 'string', array: true })
    .option('user', { alias: 'u', type: 'string' })
    .option('workdir', { alias: 'w', type: 'string' })
    .option('detach', { alias: 'd', type: 'boolean', default: false });
}
