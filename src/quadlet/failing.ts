/**
 * The stand-in for a source that could not be translated: a service of the same name that fails
 * at start with the generator's message (only /bin/sh needed, not the engine), so
 * `systemctl status` and the journal explain what is wrong.
 */
import { quoteExecArg } from '../unit/index.js';
import { ServiceFile } from './service-file.js';

const SCRIPT = 'printf \'%s\\n\' "$0" >&2; exit 1';

export function failingService(serviceFile: string, sourcePath: string, message: string): ServiceFile {
  const oneLine = message.replace(/[\r\n]+/g, ' ');
  const unit = new ServiceFile(serviceFile);
  unit.add('Unit', 'Description', `berth: ${serviceFile} could not be generated`);
  unit.add('Unit', 'SourcePath', sourcePath);
  unit.add('Unit', 'X-Berth-Error', oneLine);
  unit.add('Service', 'Type', 'oneshot');
  unit.add('Service', 'SyslogIdentifier', '%N');
  unit.add('Service', 'ExecStart', ['/bin/sh', '-c', SCRIPT, oneLine].map(execWord).join(' '));
  return unit;
}

/** One literal Exec word: no specifier or variable expansion. */
function execWord(word: string): string {
  return quoteExecArg(word.replaceAll('%', '%%').replaceAll('$', () => '$$'));
}
