/** `.network` -> oneshot service running `ENGINE network create --ignore … NAME`. */
import type { ServiceFile } from './service-file.js';
import { addAllStrings, addBools, addKeyVals, addPodmanArgs, addStrings, baseCommand, execLine, initService } from './common.js';
import { NETWORK_BOOL_FLAGS, NETWORK_KEYVAL_FLAGS, NETWORK_STRING_FLAGS } from './keys.js';
import type { SourceUnit, TranslateContext } from './model.js';
import { setOneshotDefaults } from './oneshot.js';

export function translateNetwork(source: SourceUnit, ctx: TranslateContext): ServiceFile {
  const t = initService(source, ctx);
  const { service, section, info } = t;
  const create = baseCommand(section, ctx).add('network', 'create', '--ignore');

  addBools(section, NETWORK_BOOL_FLAGS, create);
  addStrings(section, NETWORK_STRING_FLAGS, create);
  addAllStrings(section, [['DNS', '--dns']], create);

  const subnets = section.all('Subnet');
  const gateways = section.allEntries('Gateway');
  const ranges = section.allEntries('IPRange');
  if (subnets.length > 0) {
    if (gateways.length > subnets.length) throw section.error(gateways[subnets.length]!, 'more Gateway= than Subnet= values');
    if (ranges.length > subnets.length) throw section.error(ranges[subnets.length]!, 'more IPRange= than Subnet= values');
    subnets.forEach((subnet, i) => {
      create.add('--subnet', subnet);
      if (gateways[i] !== undefined) create.add('--gateway', gateways[i]!.value);
      if (ranges[i] !== undefined) create.add('--ip-range', ranges[i]!.value);
    });
  } else if (gateways.length > 0 || ranges.length > 0) {
    throw section.error((gateways[0] ?? ranges[0])!, 'needs a Subnet=');
  }

  addKeyVals(section, NETWORK_KEYVAL_FLAGS, create);
  addPodmanArgs(section, create);
  create.add(info.resourceName);

  service.add('Service', 'ExecStart', execLine(create.words));
  setOneshotDefaults(source, service, true);
  return service;
}
