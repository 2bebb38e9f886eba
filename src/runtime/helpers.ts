/**
 * The two small Python helpers berth ships beside its sources (console-relay.py for `exec -t`,
 * log-writer.py for background containers' log files; each says why it is Python). They run
 * with Debian's python3 (package python3), not whatever `python3` a user's PATH finds first.
 */
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.BERTH_PYTHON || '/usr/bin/python3';

/** dist/src/runtime/ and dist/bundle/cli/ are both three levels below the checkout. */
export function helperScript(name: 'console-relay.py' | 'log-writer.py'): string {
  return fileURLToPath(new URL(`../../../src/runtime/${name}`, import.meta.url));
}
