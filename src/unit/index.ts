/**
 * systemd's unit-file format: a lossless parser/serializer, word splitting and quoting for Exec
 * lines, specifiers, unit names and booleans. Only node built-ins and ../errors: the generator
 * loads this at every boot and daemon-reload.
 */
export { UnitFile } from './unit-file.js';
export type { UnitEntry } from './model.js';
export { parseBoolean } from './boolean.js';
export { splitWords, type SplitWordsOptions } from './split-words.js';
export { quoteExecArg } from './quote.js';
export { escapeSpecifiers, expandSpecifiers, type SpecifierContext, type ManagerAccount } from './specifiers.js';
export { parseUnitName, unescapeUnitName, unescapeUnitPath, type UnitName } from './unit-name.js';
export { UnitErrorCode } from './codes.js';
export type { SourcePosition } from './source.js';
