/**
 * Where Quadlet files are searched (Quadlet 5's order: earlier folders win for duplicate names).
 * BERTH_UNIT_DIRS (colon-separated) replaces the whole list, for tests.
 */

export interface SearchRoot {
  dir: string;
  /** Subfolders to leave out of the recursive walk (absolute paths), and whether numeric subfolders (other users' UIDs) are skipped. */
  exclude: string[];
  skipNumericSubdirs: boolean;
}

export const SYSTEM_DIRS = ['/run/containers/systemd', '/etc/containers/systemd', '/usr/share/containers/systemd'];
export const USERS_DIR = '/etc/containers/systemd/users';

export function searchRoots(options: { user: boolean; env: NodeJS.ProcessEnv; uid: number; home: string }): SearchRoot[] {
  const { env } = options;
  if (env.BERTH_UNIT_DIRS !== undefined && env.BERTH_UNIT_DIRS !== '') {
    return env.BERTH_UNIT_DIRS.split(':').filter(Boolean).map((dir) => ({ dir, exclude: [], skipNumericSubdirs: false }));
  }
  if (!options.user) {
    return SYSTEM_DIRS.map((dir) => ({ dir, exclude: [USERS_DIR], skipNumericSubdirs: false }));
  }
  const roots: SearchRoot[] = [];
  if (env.XDG_RUNTIME_DIR) roots.push({ dir: `${env.XDG_RUNTIME_DIR}/containers/systemd`, exclude: [], skipNumericSubdirs: false });
  const config = env.XDG_CONFIG_HOME || `${options.home}/.config`;
  roots.push({ dir: `${config}/containers/systemd`, exclude: [], skipNumericSubdirs: false });
  roots.push({ dir: `${USERS_DIR}/${options.uid}`, exclude: [], skipNumericSubdirs: false });
  roots.push({ dir: USERS_DIR, exclude: [], skipNumericSubdirs: true });
  return roots;
}
