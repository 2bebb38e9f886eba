/**
 * Every `berth` command, one module per file. Add a command with a row here: its name, its
 * one-line description and a loader. main.ts imports only the module of the command being run
 * (all of them only for `berth --help` and unknown words), so `berth run` never loads the
 * image, network or pod commands.
 */
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<any, any>;

export interface CommandEntry {
  /** The first word, as typed after `berth`. */
  name: string;
  load: () => Promise<AnyCommand>;
}

export const commandTable: CommandEntry[] = [
  { name: 'run', load: async () => (await import('./run.js')).runCommand },
  { name: 'create', load: async () => (await import('./create.js')).createCommand },
  { name: 'start', load: async () => (await import('./start.js')).startCommand },
  { name: 'stop', load: async () => (await import('./stop.js')).stopCommand },
  { name: 'restart', load: async () => (await import('./restart.js')).restartCommand },
  { name: 'rm', load: async () => (await import('./rm.js')).rmCommand },
  { name: 'ps', load: async () => (await import('./ps.js')).psCommand },
  { name: 'inspect', load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'logs', load: async () => (await import('./logs.js')).logsCommand },
  { name: 'exec', load: async () => (await import('./exec.js')).execCommand },
  { name: 'kill', load: async () => (await import('./kill.js')).killCommand },
  { name: 'wait', load: async () => (await import('./wait.js')).waitCommand },
  { name: 'cleanup', load: async () => (await import('./cleanup.js')).cleanupCommand },
  { name: 'images', load: async () => (await import('./images.js')).imagesCommand },
  { name: 'rmi', load: async () => (await import('./rmi.js')).rmiCommand },
  { name: 'pull', load: async () => (await import('./pull.js')).pullCommand },
  { name: 'login', load: async () => (await import('./login.js')).loginCommand },
  { name: 'logout', load: async () => (await import('./logout.js')).logoutCommand },
  { name: 'image', load: async () => (await import('./image.js')).imageCommand },
  { name: 'network', load: async () => (await import('./network.js')).networkCommand },
  { name: 'volume', load: async () => (await import('./volume.js')).volumeCommand },
  { name: 'port', load: async () => (await import('./port.js')).portCommand },
  { name: 'pod', load: async () => (await import('./pod.js')).podCommand },
  { name: 'healthcheck', load: async () => (await import('./healthcheck.js')).healthcheckCommand },
];

/** Every command module, loaded (for `berth --help` and words that name no command). */
export async function loadAllCommands(): Promise<AnyCommand[]> {
  return Promise.all(commandTable.map((entry) => entry.load()));
}
