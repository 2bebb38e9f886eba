/** Podman-style generated names ("adjective_scientist") for containers created without --name. */
import { randomInt } from './random.js';

const ADJECTIVES = ['admiring', 'brave', 'calm', 'clever', 'eager', 'elated', 'festive', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'zealous'];
const NOUNS = ['babbage', 'curie', 'darwin', 'euler', 'fermi', 'gauss', 'hopper', 'kepler', 'lamarr', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'tesla', 'turing', 'wozniak', 'yalow'];

export function generateName(taken: Set<string>): string {
  for (;;) {
    const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
    if (!taken.has(name)) return name;
    const suffixed = `${name}${randomInt(1000)}`;
    if (!taken.has(suffixed)) return suffixed;
  }
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
