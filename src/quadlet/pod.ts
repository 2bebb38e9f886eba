/**
 * `.pod` -> forking service: ExecStartPre creates the pod (infra pidfile, pod-id file), ExecStart
 * starts it; the pod lists the containers that start with it (Wants=/Before=).
 */
import type { ServiceFile } from './service-file.js';
import {
  addAllStrings, addNetworks, addPodmanArgs, addPublishPorts, addStrings, addUserMappings, addVolumes,
  baseCommand, execLine, initService,
} from './common.js';
import { POD_ALL_STRING_FLAGS, POD_STRING_FLAGS } from './keys.js';
import type { SourceUnit, TranslateContext } from './model.js';

const POD_ID_FILE = '--pod-id-file=%t/%N.pod-id';

export function translatePod(source: SourceUnit, ctx: TranslateContext): ServiceFile {
  const t = initService(source, ctx);
  const { service, section, info } = t;
  const podName = info.resourceName;

  for (const container of info.containersToStart) {
    service.add('Unit', 'Wants', container);
    service.add('Unit', 'Before', container);
  }
  if (source.unit.lookupLastEntry('Service', 'SyslogIdentifier') === undefined) service.set('Service', 'SyslogIdentifier', '%N');

  service.add('Service', 'ExecStart', execLine(baseCommand(section, ctx).add('pod', 'start', POD_ID_FILE).words));
  service.add('Service', 'ExecStop', execLine(baseCommand(section, ctx).add('pod', 'stop', POD_ID_FILE, '--ignore', '--time=10').words));
  service.add('Service', 'ExecStopPost', execLine(baseCommand(section, ctx).add('pod', 'rm', POD_ID_FILE, '--ignore', '--force').words));

  const create = baseCommand(section, ctx).add('pod', 'create', '--infra-conmon-pidfile=%t/%N.pid', POD_ID_FILE,
    '--exit-policy=stop', '--replace');
  addUserMappings(section, create, true);
  addPublishPorts(section, create);
  addNetworks(t, ctx, create);
  addStrings(section, POD_STRING_FLAGS, create);
  addAllStrings(section, POD_ALL_STRING_FLAGS, create);
  addVolumes(t, source, ctx, create);
  create.add('--infra-name', `${podName}-infra`, '--name', podName);
  addPodmanArgs(section, create);
  service.add('Service', 'ExecStartPre', execLine(create.words));

  service.add('Service', 'Environment', 'PODMAN_SYSTEMD_UNIT=%n');
  service.set('Service', 'Type', 'forking');
  service.set('Service', 'Restart', 'on-failure');
  service.set('Service', 'PIDFile', '%t/%N.pid');
  return service;
}
