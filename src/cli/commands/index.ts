/**
 * Every `berth` command, one module per file. Add a command by importing its module here.
 */
import type { CommandModule } from 'yargs';
import { runCommand } from './run.js';
import { createCommand } from './create.js';
import { startCommand } from './start.js';
import { stopCommand } from './stop.js';
import { restartCommand } from './restart.js';
import { rmCommand } from './rm.js';
import { psCommand } from './ps.js';
import { inspectCommand } from './inspect.js';
import { logsCommand } from './logs.js';
import { execCommand } from './exec.js';
import { killCommand } from './kill.js';
import { waitCommand } from './wait.js';
import { cleanupCommand } from './cleanup.js';
import { imageCommand } from './image.js';
import { imagesCommand } from './images.js';
import { rmiCommand } from './rmi.js';
import { pullCommand } from './pull.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { networkCommand } from './network.js';
import { volumeCommand } from './volume.js';
import { portCommand } from './port.js';
import { podCommand } from './pod.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  runCommand,
  createCommand,
  startCommand,
  stopCommand,
  restartCommand,
  rmCommand,
  psCommand,
  inspectCommand,
  logsCommand,
  execCommand,
  killCommand,
  waitCommand,
  cleanupCommand,
  imagesCommand,
  rmiCommand,
  pullCommand,
  loginCommand,
  logoutCommand,
  imageCommand,
  networkCommand,
  volumeCommand,
  portCommand,
  podCommand,
];
