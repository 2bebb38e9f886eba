/**
 * The generated service as an ordered list of sections and assignments: a light writer (the
 * generator builds thousands of these at boot), rendered as systemd unit-file text.
 */
export class ServiceFile {
  // Plain assignments, not class fields: defining fields is slow in V8's interpreter (hot: per file).
  declare readonly fileName: string;
  private declare readonly sections: { name: string; entries: [string, string][] }[];
  /** The section written last: most adds go to the same one in a row. */
  private declare recent: { name: string; entries: [string, string][] } | undefined;

  constructor(fileName: string) {
    this.fileName = fileName;
    this.sections = [];
    this.recent = undefined;
  }

  private section(name: string): [string, string][] {
    if (this.recent !== undefined && this.recent.name === name) return this.recent.entries;
    let section: { name: string; entries: [string, string][] } | undefined;
    for (const candidate of this.sections) {
      if (candidate.name === name) {
        section = candidate;
        break;
      }
    }
    if (section === undefined) {
      section = { name, entries: [] };
      this.sections.push(section);
    }
    this.recent = section;
    return section.entries;
  }

  /** Create the section (empty) if missing, in order. */
  ensureSection(section: string): void {
    this.section(section);
  }

  add(section: string, key: string, value: string): void {
    this.section(section).push([key, value]);
  }

  /** Replace every value of the key by one, at the place of the last one (or append). */
  set(section: string, key: string, value: string): void {
    const entries = this.section(section);
    let last = -1;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]![0] !== key) continue;
      if (last === -1) last = i;
      else {
        entries.splice(i, 1);
        last--;
      }
    }
    if (last === -1) entries.push([key, value]);
    else entries[last] = [key, value];
  }

  lookupLast(section: string, key: string): string | undefined {
    const entries = this.sections.find((candidate) => candidate.name === section)?.entries ?? [];
    for (let i = entries.length - 1; i >= 0; i--) if (entries[i]![0] === key) return entries[i]![1];
    return undefined;
  }

  /** All values in order; an empty value resets the list (systemd's list semantics). */
  lookupAll(section: string, key: string): string[] {
    let values: string[] = [];
    const entries = this.sections.find((candidate) => candidate.name === section)?.entries ?? [];
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]![0] !== key) continue;
      const value = entries[i]![1];
      if (value === '') values = [];
      else values.push(value);
    }
    return values;
  }

  sectionNames(): string[] {
    return this.sections.map((section) => section.name);
  }

  toString(): string {
    // join() makes one flat string; a `+=` rope would be kept (until written) as ~100 pieces.
    const parts: string[] = [];
    for (let s = 0; s < this.sections.length; s++) {
      const { name, entries } = this.sections[s]!;
      if (s > 0) parts.push('\n');
      parts.push('[' + name + ']\n');
      for (let i = 0; i < entries.length; i++) parts.push(entries[i]![0] + '=' + entries[i]![1] + '\n');
    }
    return parts.join('');
  }
}
