/**
 * Typed errors. Every error podpath raises on purpose carries a one-line `shortMessage`
 * (what went wrong), an optional `hint` (what to do next) and the exit code the CLI uses.
 * Anything that is not a PodpathError is a bug and is printed with its stack.
 */

export type ExitCode = 0 | 1 | 2 | 130;

export interface PodpathErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class PodpathError extends Error {
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode = 2;

  constructor(shortMessage: string, options: PodpathErrorOptions = {}) {
    super(options.hint ? `${shortMessage}\n${options.hint}` : shortMessage, { cause: options.cause });
    this.name = new.target.name;
    this.shortMessage = shortMessage;
    this.hint = options.hint;
  }
}

/** Bad flags, bad arguments, unreadable input given by the user. Exit 2. */
export class UsageError extends PodpathError {}

/** The machine lacks something podpath needs (Docker, disk, a binary). Exit 2. */
export class EnvironmentError extends PodpathError {}

/** Checks ran and some failed. Exit 1. */
export class ChecksFailedError extends PodpathError {
  override readonly exitCode = 1 as const;
}

/** The user pressed Ctrl-C (or the process got SIGTERM). Exit 130. */
export class InterruptedError extends PodpathError {
  override readonly exitCode = 130 as const;
}

export function isPodpathError(error: unknown): error is PodpathError {
  return error instanceof PodpathError;
}
