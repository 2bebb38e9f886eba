/**
 * One error family for berth. Every failure a user can meet is a BerthError with a stable
 * `code` and structured `context` (file, line, key, image, digest, container...), so callers
 * never parse messages and the CLI can print a one-line summary or the whole object as JSON.
 */
export type ErrorContext = Record<string, string | number | boolean | undefined>;

export class BerthError extends Error {
  readonly code: string;
  readonly context: ErrorContext;
  /** Process exit status the CLI uses for this error (Podman: 125 engine, 126 cannot invoke, 127 not found). */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { context?: ErrorContext; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
    this.exitCode = options.exitCode ?? 125;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, context: this.context, exitCode: this.exitCode };
  }
}

/** A unit file or Quadlet key that cannot be understood. */
export class UnitError extends BerthError {}
/** Image references, registries, the store, layer unpacking. */
export class ImageError extends BerthError {}
/** Containers: config, crun, state. */
export class RuntimeError extends BerthError {}
/** Networks and published ports. */
export class NetworkError extends BerthError {}
/** Named volumes. */
export class VolumeError extends BerthError {}
/** Pods. */
export class PodError extends BerthError {}
/** Bad command-line usage. */
export class UsageError extends BerthError {}

/** Remove credentials from text before it is printed or logged. */
export function redact(text: string): string {
  return text
    .replace(/(authorization:\s*)(basic|bearer)\s+[^\s"']+/gi, '$1$2 <redacted>')
    .replace(/("(?:auth|password|identitytoken|registrytoken|token|access_token)"\s*:\s*")[^"]*(")/gi, '$1<redacted>$2')
    .replace(/(\/\/[^/:@\s]+:)[^@\s]+@/g, '$1<redacted>@');
}
