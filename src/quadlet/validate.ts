/**
 * Checks a source before translation: unknown keys (with a suggestion), Quadlet keys written
 * into [Unit]/[Service]/[Install], sections of another kind, values that must be booleans.
 */
import { parseBoolean } from '../unit/index.js';
import { sectionEntries } from './entries.js';
import { closest, QuadletError, whereEntry } from './errors.js';
import { BOOLEAN_KEYS, OTHER_QUADLET_SECTIONS, QUADLET_SECTION_KEYS, SECTION_OF, SUPPORTED_KEYS, SYSTEMD_KEYS_SHARED_WITH_QUADLET } from './keys.js';
import { KINDS, type SourceUnit } from './model.js';

/** A few common systemd keys, to say "this belongs in [Service]" when one lands in [Container]. */
const SYSTEMD_SECTIONS: ReadonlyArray<readonly [string, ReadonlySet<string>]> = [
  ['Unit', new Set(['Description', 'Documentation', 'Wants', 'Requires', 'Requisite', 'BindsTo', 'PartOf', 'Upholds',
    'Conflicts', 'Before', 'After', 'OnFailure', 'OnSuccess', 'StartLimitIntervalSec', 'StartLimitBurst',
    'ConditionPathExists', 'AssertPathExists', 'RequiresMountsFor'])],
  ['Service', new Set(['Restart', 'RestartSec', 'TimeoutStartSec', 'TimeoutStopSec', 'TimeoutSec', 'ExecStart',
    'ExecStartPre', 'ExecStartPost', 'ExecStop', 'ExecStopPost', 'ExecReload', 'RemainAfterExit', 'KillMode',
    'SyslogIdentifier', 'WorkingDirectory', 'Slice', 'MemoryMax', 'CPUQuota', 'LimitNOFILE', 'NotifyAccess',
    'Delegate', 'PIDFile', 'RuntimeMaxSec', 'WatchdogSec', 'SuccessExitStatus'])],
  ['Install', new Set(['WantedBy', 'RequiredBy', 'UpheldBy', 'Alias', 'Also', 'DefaultInstance'])],
];

const QUADLET_KIND_SECTIONS = new Set([...KINDS.map((kind) => SECTION_OF[kind]), ...OTHER_QUADLET_SECTIONS]);

export function validateSource(source: SourceUnit): void {
  const own = SECTION_OF[source.kind];
  const supported = SUPPORTED_KEYS[source.kind];
  const extension = `.${source.kind}`;

  const sections = source.unit.sectionNames();
  for (let s = 0; s < sections.length; s++) { // index loops: the run is unoptimized, for-of allocates
    const section = sections[s]!;
    if (section !== own && QUADLET_KIND_SECTIONS.has(section)) {
      const entry = sectionEntries(source.unit, section)[0];
      throw new QuadletError('quadlet-wrong-section', { file: source.name, line: entry?.line, section },
        `section [${section}] does not belong in a ${extension} file (its section is [${own}])`);
    }
    if (section === 'Unit' || section === 'Service' || section === 'Install') {
      const entries = sectionEntries(source.unit, section);
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        if (supported.has(entry.key) && !SYSTEMD_KEYS_SHARED_WITH_QUADLET.has(entry.key) && !isSystemdKey(section, entry.key)) {
          throw new QuadletError('quadlet-wrong-section', whereEntry(entry, section, source.name),
            `key "${entry.key}" belongs in [${own}], not [${section}]`);
        }
      }
    }
  }

  const booleans = BOOLEAN_KEYS[source.kind];
  const ownEntries = sectionEntries(source.unit, own);
  for (let i = 0; i < ownEntries.length; i++) {
    const entry = ownEntries[i]!;
    if (!supported.has(entry.key)) {
      throw new QuadletError('quadlet-unknown-key', whereEntry(entry, own, source.name), `unknown key "${entry.key}"${hint(entry.key, source.kind)}`);
    }
    if (booleans.has(entry.key) && entry.value !== '' && parseBoolean(entry.value) === undefined) {
      throw new QuadletError('quadlet-bad-value', whereEntry(entry, own, source.name),
        `${entry.key}=${JSON.stringify(entry.value)}: not a boolean (use true or false)`);
    }
  }
  for (const entry of sectionEntries(source.unit, 'Quadlet')) {
    if (QUADLET_SECTION_KEYS.has(entry.key)) continue;
    const suggestion = closest(entry.key, QUADLET_SECTION_KEYS);
    throw new QuadletError('quadlet-unknown-key', whereEntry(entry, 'Quadlet', source.name),
      `unknown key "${entry.key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`);
  }
  const defaults = source.unit.lookupLastEntry('Quadlet', 'DefaultDependencies');
  if (defaults !== undefined && parseBoolean(defaults.value) === undefined) {
    throw new QuadletError('quadlet-bad-value', whereEntry(defaults, 'Quadlet', source.name),
      `DefaultDependencies=${JSON.stringify(defaults.value)}: not a boolean (use true or false)`);
  }
}

function isSystemdKey(section: string, key: string): boolean {
  return SYSTEMD_SECTIONS.some(([name, keys]) => name === section && keys.has(key));
}

function hint(key: string, kind: SourceUnit['kind']): string {
  const suggestion = closest(key, SUPPORTED_KEYS[kind]);
  if (suggestion !== undefined) return ` (did you mean "${suggestion}"?)`;
  for (const [section, keys] of SYSTEMD_SECTIONS) if (keys.has(key)) return ` (it belongs in [${section}])`;
  for (const other of KINDS) {
    if (other !== kind && SUPPORTED_KEYS[other].has(key)) return ` (it is a key of .${other} files)`;
  }
  return '';
}
