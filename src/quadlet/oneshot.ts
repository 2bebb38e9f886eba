/** Defaults of the oneshot services (.volume, .network): only where the user set nothing. */
import type { ServiceFile } from './service-file.js';
import type { SourceUnit } from './model.js';

export function setOneshotDefaults(source: SourceUnit, service: ServiceFile, remainAfterExit: boolean): void {
  if (source.unit.lookupLastEntry('Service', 'SyslogIdentifier') === undefined) service.set('Service', 'SyslogIdentifier', '%N');
  if (source.unit.lookupLastEntry('Service', 'Type') === undefined) service.set('Service', 'Type', 'oneshot');
  if (remainAfterExit && source.unit.lookupLastEntry('Service', 'RemainAfterExit') === undefined) {
    service.set('Service', 'RemainAfterExit', 'yes');
  }
}
