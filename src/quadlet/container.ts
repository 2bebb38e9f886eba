/** `.container` -> service running `ENGINE run … IMAGE [CMD…]` (Quadlet 5.4's flags and order). */
import { parseBoolean, type UnitEntry } from '../unit/index.js';
import type { ServiceFile } from './service-file.js';
import { Argv } from './argv.js';
import {
  absolutePath, addAllStrings, addBools, addKeyVals, addNetworks, addPodmanArgs, addPublishPorts, addStrings,
  addUserMappings, addVolumes, baseCommand, execLine, initService, referencedUnit, storageSource, type Translation,
} from './common.js';
import { QuadletError, whereEntry } from './errors.js';
import {
  CONTAINER_ALL_STRING_FLAGS, CONTAINER_BOOL_FLAGS, CONTAINER_KEYVAL_FLAGS, CONTAINER_SECURITY_BOOLS,
  CONTAINER_SECURITY_STRINGS, CONTAINER_STRING_FLAGS, HEALTH_FLAGS,
} from './keys.js';
import { parseMount, formatMount } from './mount.js';
import type { SourceUnit, TranslateContext } from './model.js';
import { containerNameOf } from './names.js';

const CIDFILE = '--cidfile=%t/%N.cid';
const PORT_RANGE = /^\d+(-\d+)?(\/udp|\/tcp)?$/;

export function translateContainer(source: SourceUnit, ctx: TranslateContext): ServiceFile {
  const t = initService(source, ctx);
  const { service, section } = t;

  const image = section.nonEmpty('Image');
  const rootfs = section.nonEmpty('Rootfs');
  if (image === undefined && rootfs === undefined) {
    throw new QuadletError('quadlet-missing-key', { file: source.name, section: 'Container', key: 'Image' },
      'missing required key "Image" (or "Rootfs")');
  }
  if (image !== undefined && rootfs !== undefined) {
    throw section.error(section.lastEntry('Rootfs')!, 'Image= and Rootfs= cannot both be set');
  }
  const imageEntry = section.lastEntry('Image');
  if (image !== undefined && /\.(image|build)$/.test(image)) referencedUnit(section, imageEntry!, image, ctx);

  const containerName = containerNameOf(source.name, source.unit);
  service.add('Service', 'Environment', 'PODMAN_SYSTEMD_UNIT=%n');

  const killMode = source.unit.lookupLastEntry('Service', 'KillMode');
  if (killMode === undefined) service.set('Service', 'KillMode', 'mixed');
  else if (killMode.value !== 'mixed' && killMode.value !== 'control-group') {
    throw new QuadletError('quadlet-bad-value', whereEntry(killMode, 'Service', source.name),
      `KillMode=${JSON.stringify(killMode.value)}: only mixed or control-group work with containers`);
  }

  const stop = baseCommand(section, ctx).add('rm', '-v', '-f', '-i', CIDFILE);
  service.add('Service', 'ExecStop', execLine(stop.words));
  service.add('Service', 'ExecStopPost', execLine(stop.words, '-'));

  const run = baseCommand(section, ctx).add('run', '--name', containerName, CIDFILE, '--replace', '--rm');
  const logDriver = section.last('LogDriver');
  if (logDriver !== undefined) run.add('--log-driver', logDriver);
  for (const opt of section.allWords('LogOpt')) run.add('--log-opt', opt);

  service.add('Service', 'Delegate', 'yes');
  const cgroups = section.nonEmpty('CgroupsMode');
  if (cgroups !== undefined) run.add('--cgroups', cgroups);
  else run.add('--cgroups=split');

  addStrings(section, CONTAINER_STRING_FLAGS, run);
  addAllStrings(section, CONTAINER_ALL_STRING_FLAGS, run);
  addBools(section, CONTAINER_BOOL_FLAGS, run);
  addNetworks(t, ctx, run);
  addNotify(t, source, run);

  if (source.unit.lookupLastEntry('Service', 'SyslogIdentifier') === undefined) service.set('Service', 'SyslogIdentifier', '%N');

  for (let i = 0; i < CONTAINER_SECURITY_BOOLS.length; i++) {
    if (section.boolOr(CONTAINER_SECURITY_BOOLS[i]![0], false)) run.add(...CONTAINER_SECURITY_BOOLS[i]![1]);
  }
  for (let i = 0; i < CONTAINER_SECURITY_STRINGS.length; i++) {
    const value = section.nonEmpty(CONTAINER_SECURITY_STRINGS[i]![0]);
    if (value !== undefined) run.add('--security-opt', `${CONTAINER_SECURITY_STRINGS[i]![1]}${value}`);
  }

  for (let device of section.allWords('AddDevice')) {
    if (device.startsWith('-')) {
      device = device.slice(1);
      if (!ctx.pathExists(device.split(':')[0]!)) continue;
    }
    run.add('--device', device);
  }

  const seccomp = section.last('SeccompProfile');
  if (seccomp !== undefined) run.add('--security-opt', `seccomp=${seccomp}`);
  for (const cap of section.allWords('DropCapability')) run.add('--cap-drop', cap.toLowerCase());
  for (const cap of section.allWords('AddCapability')) run.add('--cap-add', cap.toLowerCase());
  for (const sysctl of section.allWords('Sysctl')) run.add('--sysctl', sysctl);

  const readOnly = section.bool('ReadOnly');
  if (readOnly !== undefined) run.addBool('--read-only', readOnly);
  if (section.boolOr('VolatileTmp', false) && readOnly !== true) run.add('--tmpfs', '/tmp:rw,size=512M,mode=1777');

  addUser(t, run);
  addUserMappings(section, run, true);
  addVolumes(t, source, ctx, run);

  const autoUpdate = section.nonEmpty('AutoUpdate');
  if (autoUpdate !== undefined) run.add('--label', `io.containers.autoupdate=${autoUpdate}`);

  for (const entry of section.allEntries('ExposeHostPort')) {
    const port = entry.value.trim();
    if (!PORT_RANGE.test(port)) throw section.error(entry, 'expected PORT[-PORT][/tcp|/udp]');
    run.add('--expose', port);
  }

  addPublishPorts(section, run);
  addKeyVals(section, CONTAINER_KEYVAL_FLAGS, run);
  for (const mask of section.allWords('Mask')) run.add('--security-opt', `mask=${mask}`);
  for (const unmask of section.allWords('Unmask')) run.add('--security-opt', `unmask=${unmask}`);
  for (const file of section.allWords('EnvironmentFile')) run.add('--env-file', absolutePath(source.path, file));
  for (const secret of section.allWords('Secret')) run.add('--secret', secret);

  for (const entry of section.allEntries('Mount')) {
    for (const word of section.words(entry)) run.add('--mount', resolveMount(t, source, entry, word, ctx));
  }

  addStrings(section, HEALTH_FLAGS, run);

  addPod(t, source, ctx, run);
  addPodmanArgs(section, run);

  if (image !== undefined) run.add(image.endsWith('.image') || image.endsWith('.build') ? ctx.units.get(image)!.resourceName : image);
  else run.add('--rootfs', rootfs!);
  const exec = section.lastWords('Exec');
  if (exec !== undefined) run.add(...exec);

  service.add('Service', 'ExecStart', execLine(run.words));
  return service;
}

function addNotify(t: Translation, source: SourceUnit, run: Argv): void {
  const type = source.unit.lookupLastEntry('Service', 'Type');
  if (type !== undefined && type.value !== 'notify' && type.value !== 'oneshot') {
    throw new QuadletError('quadlet-bad-value', whereEntry(type, 'Service', source.name),
      `Type=${JSON.stringify(type.value)}: a container service is Type=notify (default) or Type=oneshot`);
  }
  if (type?.value === 'oneshot') return;
  const notify = t.section.lastEntry('Notify');
  if (notify !== undefined && notify.value.toLowerCase() === 'healthy') run.add('--sdnotify=healthy');
  else if (t.section.boolOr('Notify', false)) run.add('--sdnotify=container');
  else run.add('--sdnotify=conmon');
  t.service.set('Service', 'Type', 'notify');
  t.service.set('Service', 'NotifyAccess', 'all');
  run.add('-d');
}

function addUser(t: Translation, run: Argv): void {
  const user = t.section.nonEmpty('User');
  const group = t.section.nonEmpty('Group');
  if (user === undefined) {
    if (group !== undefined) throw t.section.error(t.section.lastEntry('Group')!, 'Group= needs User=');
    return;
  }
  run.add('--user', group === undefined ? user : `${user}:${group}`);
}

function resolveMount(t: Translation, source: SourceUnit, entry: UnitEntry, value: string, ctx: TranslateContext): string {
  const mount = parseMount(value);
  if (mount === undefined) {
    throw t.section.error(entry, 'expected type=<bind|glob|tmpfs|volume|image|…>,[source=…,]destination=…[,options]');
  }
  if (!['volume', 'bind', 'glob', 'image'].includes(mount.type)) return value;
  const index = mount.tokens.findIndex((token) => /^(source|src)(=|$)/.test(token));
  if (index === -1) throw t.section.error(entry, `a ${mount.type} mount needs source=`);
  const token = mount.tokens[index]!;
  const eq = token.indexOf('=');
  if (eq === -1) throw t.section.error(entry, 'source= has no value');
  const resolved = storageSource(t, source, entry, token.slice(eq + 1), ctx);
  const tokens = [...mount.tokens];
  tokens[index] = `source=${resolved}`;
  return formatMount([`type=${mount.type}`, ...tokens]);
}

function addPod(t: Translation, source: SourceUnit, ctx: TranslateContext, run: Argv): void {
  const entry = t.section.lastEntry('Pod');
  if (entry === undefined || entry.value === '') return;
  if (!entry.value.endsWith('.pod')) throw t.section.error(entry, 'must name a .pod unit (berth only joins Quadlet pods)');
  const pod = referencedUnit(t.section, entry, entry.value, ctx);
  run.add('--pod-id-file', `%t/${pod.serviceName}.pod-id`);
  t.service.add('Unit', 'BindsTo', `${pod.serviceName}.service`);
  t.service.add('Unit', 'After', `${pod.serviceName}.service`);
}

/** The pod a container starts with (Pod=x.pod and StartWithPod= not false), for the pod's Wants=/Before=. */
export function startsWithPod(source: SourceUnit): string | undefined {
  const pod = source.unit.lookupLast('Container', 'Pod');
  if (pod === undefined || !pod.endsWith('.pod')) return undefined;
  const start = source.unit.lookupLast('Container', 'StartWithPod');
  return start === undefined || parseBoolean(start) !== false ? pod : undefined;
}
