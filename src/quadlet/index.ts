/** Public surface of the generator (the executable is generators/berth-generator). */
export { runGenerator, parseArguments, type GeneratorIO } from './main.js';
export { generate, HEADER, type GenerateOptions, type GenerateResult, type UnloadableSource } from './generate.js';
export { translateContainer } from './container.js';
export { translateVolume } from './volume.js';
export { translateNetwork } from './network.js';
export { translatePod } from './pod.js';
export { installLinks } from './install.js';
export { dropInDirNames } from './dropins.js';
export { searchRoots, type SearchRoot } from './paths.js';
export { expandRoots, findSources, findDropIns, loadSource } from './discover.js';
export { QuadletError, type QuadletErrorCode } from './errors.js';
export { SUPPORTED_KEYS } from './keys.js';
export type { Kind, SourceUnit, UnitInfo, TranslateContext, GeneratedUnit, InstallLink } from './model.js';
export { ServiceFile } from './service-file.js';
