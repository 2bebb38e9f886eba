/** The lossless model behind UnitFile: groups of lines, each remembering its original text. */

/** One assignment. Read-only: change a file through UnitFile.add/set/remove. */
export interface UnitEntry {
  readonly key: string;
  /** Continuation lines joined (systemd rules), surrounding whitespace trimmed, escapes and specifiers untouched. */
  readonly value: string;
  readonly file: string;
  /** 1-based line where the assignment starts; 0 for entries added by code. */
  readonly line: number;
}

/** A blank line or a comment, kept for round-tripping. */
export interface TextLine {
  kind: 'text';
  text: string;
  eol: string;
  /** The text ends in a backslash at the end of the file: a line written after it needs a blank line first. */
  open?: boolean;
}

export interface EntryLine {
  kind: 'entry';
  entry: UnitEntry;
  /** The original text (all physical lines of a continuation); undefined once made by code. */
  text: string | undefined;
  eol: string;
  open?: boolean;
}

export type BodyLine = TextLine | EntryLine;

export interface SectionHeader {
  text: string;
  eol: string;
  open?: boolean;
}

/** A section header and the lines up to the next header. The preamble (before any header) has no name. */
export interface Group {
  name: string | undefined;
  header: SectionHeader | undefined;
  lines: BodyLine[];
}

export function entryLine(entry: UnitEntry): EntryLine {
  return { kind: 'entry', entry, text: undefined, eol: '' };
}
