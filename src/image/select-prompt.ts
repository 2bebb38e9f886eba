/**
 * A terminal list chooser as Podman shows for ambiguous short names:
 *   ? Please select an image:
 *     ▸ registry.fedoraproject.org/nginx:latest
 *       docker.io/library/nginx:latest
 * Arrow keys (or j/k) move, Enter selects, Ctrl-C / Escape cancels.
 */
import readline from 'node:readline';
import { ImageError } from '../errors/index.js';

export interface PromptStreams {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

export function canPrompt(streams: PromptStreams = { input: process.stdin, output: process.stdout }): boolean {
  return !!streams.input.isTTY && !!streams.output.isTTY;
}

export async function selectPrompt(title: string, choices: string[], streams: PromptStreams = { input: process.stdin, output: process.stdout }): Promise<number> {
  const { input, output } = streams;
  let selected = 0;
  let drawn = false;
  const render = (): void => {
    if (drawn) output.write(`\x1b[${choices.length + 1}A`);
    drawn = true;
    output.write(`\x1b[2K\x1b[1m?\x1b[0m ${title}\n`);
    choices.forEach((choice, i) => output.write(`\x1b[2K  ${i === selected ? '▸' : ' '} ${choice}\n`));
  };
  readline.emitKeypressEvents(input);
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  input.resume();
  render();
  try {
    return await new Promise<number>((resolve, reject) => {
      const onKey = (_text: string, key: readline.Key | undefined): void => {
        if (!key) return;
        if ((key.ctrl && key.name === 'c') || key.name === 'escape') {
          input.off('keypress', onKey);
          reject(new ImageError('image.short-name.cancelled', 'short-name selection cancelled', { exitCode: 125 }));
        } else if (key.name === 'up' || key.name === 'k') {
          selected = (selected + choices.length - 1) % choices.length;
          render();
        } else if (key.name === 'down' || key.name === 'j' || key.name === 'tab') {
          selected = (selected + 1) % choices.length;
          render();
        } else if (key.name === 'return' || key.name === 'enter') {
          input.off('keypress', onKey);
          resolve(selected);
        }
      };
      input.on('keypress', onKey);
    });
  } finally {
    input.setRawMode(wasRaw);
    input.pause();
    output.write(`\x1b[${choices.length + 1}A\x1b[0J\x1b[1m✔\x1b[0m ${choices[selected]}\n`);
  }
}
