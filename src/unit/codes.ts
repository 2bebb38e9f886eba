/** Stable `code`s of the UnitError instances thrown by src/unit. */
export const UnitErrorCode = {
  /** A line of a unit file that is not a section header, a comment or `Key=Value`. */
  syntax: 'UNIT_SYNTAX',
  /** A unit file that cannot be read. */
  read: 'UNIT_READ',
  /** A value that is not a systemd boolean. */
  boolean: 'UNIT_BAD_BOOLEAN',
  /** Unbalanced quotes, a trailing backslash or a bad escape in a word list. */
  quoting: 'UNIT_BAD_QUOTING',
  /** An unknown `%` specifier, or one that cannot be resolved. */
  specifier: 'UNIT_BAD_SPECIFIER',
  /** A unit name systemd would not accept. */
  name: 'UNIT_BAD_NAME',
  /** A key or value that cannot be written into a unit file. */
  value: 'UNIT_BAD_VALUE',
} as const;
