/** A tiny ordered argv builder for engine command lines (flags keep the order they are added in). */
export class Argv {
  declare readonly words: string[]; // assigned, not a class field: faster in V8's interpreter

  constructor(words: string[] = []) {
    this.words = words.slice();
  }

  add(...words: string[]): this {
    for (let i = 0; i < words.length; i++) this.words.push(words[i]!);
    return this;
  }

  /** Quadlet's boolean shape: `--flag` when true, `--flag=false` when false. */
  addBool(flag: string, value: boolean): this {
    this.words.push(value ? flag : `${flag}=false`);
    return this;
  }

  /** `flag k=v` for each pair, sorted by key (Quadlet's order, deterministic). */
  addKeyVals(flag: string, pairs: Map<string, string>): this {
    if (pairs.size === 0) return this;
    for (const key of [...pairs.keys()].sort()) this.words.push(flag, `${key}=${pairs.get(key)}`);
    return this;
  }
}
