import { commandTable } from './commands/index.js';

/** Global flags that take a value (option-table.ts GLOBAL_OPTIONS). */
export const GLOBAL_VALUE_FLAGS = new Set(['--root', '--runroot', '--log-level']);

/**
 * The table entry of the command word in argv, when only global flags precede it; undefined
 * (load every command) for help, unknown words or any other leading flag, so yargs sees
 * exactly what it would with every command registered.
 */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) return commandTable.some((c) => c.name === token) ? token : undefined;
    const eq = token.indexOf('=');
    const flag = eq < 0 ? token : token.slice(0, eq);
    if (!GLOBAL_VALUE_FLAGS.has(flag)) return undefined;
    if (eq < 0) i++;
  }
  return undefined;
}
