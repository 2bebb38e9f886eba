/** `.volume` -> oneshot service running `ENGINE volume create --ignore … NAME`. */
import type { ServiceFile } from './service-file.js';
import { addKeyVals, addPodmanArgs, baseCommand, execLine, initService, referencedUnit } from './common.js';
import { QuadletError } from './errors.js';
import type { SourceUnit, TranslateContext } from './model.js';
import { setOneshotDefaults } from './oneshot.js';

export function translateVolume(source: SourceUnit, ctx: TranslateContext): ServiceFile {
  const t = initService(source, ctx);
  const { service, section, info } = t;
  const create = baseCommand(section, ctx).add('volume', 'create', '--ignore');

  const driver = section.last('Driver');
  if (driver !== undefined) create.add('--driver', driver);

  if (driver === 'image') {
    const entry = section.lastEntry('Image');
    if (entry === undefined) {
      throw new QuadletError('quadlet-missing-key', { file: source.name, section: 'Volume', key: 'Image' },
        'missing required key "Image" (Driver=image needs it)');
    }
    let image = entry.value;
    if (/\.(image|build)$/.test(image)) image = referencedUnit(section, entry, image, ctx).resourceName;
    create.add('--opt', `image=${image}`);
  } else {
    const mountOptions: string[] = [];
    const uid = section.uint32('User');
    if (uid !== undefined) mountOptions.push(`uid=${uid}`);
    const gid = section.uint32('Group');
    if (gid !== undefined) mountOptions.push(`gid=${gid}`);

    const copy = section.bool('Copy');
    if (copy !== undefined) create.add('--opt', copy ? 'copy' : 'nocopy');

    const device = section.nonEmpty('Device');
    if (device !== undefined) create.add('--opt', `device=${device}`);

    const typeEntry = section.lastEntry('Type');
    if (typeEntry !== undefined && typeEntry.value !== '') {
      if (device === undefined) throw section.error(typeEntry, 'Type= needs Device=');
      create.add('--opt', `type=${typeEntry.value}`);
      if (typeEntry.value === 'bind') service.add('Unit', 'RequiresMountsFor', device);
    }

    const optionsEntry = section.lastEntry('Options');
    if (optionsEntry !== undefined && optionsEntry.value !== '') {
      if (device === undefined) throw section.error(optionsEntry, 'Options= needs Device=');
      mountOptions.push(optionsEntry.value);
    }
    if (mountOptions.length > 0) create.add('--opt', `o=${mountOptions.join(',')}`);
  }

  addKeyVals(section, [['Label', '--label']], create);
  addPodmanArgs(section, create);
  create.add(info.resourceName);

  service.add('Service', 'ExecStart', execLine(create.words));
  setOneshotDefaults(source, service, true);
  return service;
}
