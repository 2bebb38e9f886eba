/**
 * A line to berth's stdout or stderr with a plain write(2). The first use of process.stdout or
 * process.stderr loads node:stream (and node:net when the fd is a pipe or socket, as under systemd):
 * a few ms of a container start that only prints a warning or an id. Node writes these fds
 * synchronously too (files, terminals, and pipes on Linux), so the order with other output is kept.
 */
import fs from 'node:fs';

export function writeOut(fd: 1 | 2, text: string): void {
  try {
    fs.writeSync(fd, text);
  } catch {
    // EAGAIN on a non-blocking pipe, or a closed fd: node's stream queues or reports it instead
    (fd === 1 ? process.stdout : process.stderr).write(text);
  }
}
