import type { ParseArgsConfig } from 'node:util';
import type { Io } from './output.ts';
import { UsageError } from '../errors/index.ts';
import type { Scenario } from '../runner/index.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** One line for --help, e.g. "REGEX  run only scenarios matching REGEX (repeatable; !REGEX excludes)". */
  description: string;
  /** Placeholder shown in help for string options, e.g. "FILE". */
  valueName?: string;
};

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  values: Values;
  positionals: string[];
  io: Io;
  /** Aborted on SIGINT/SIGTERM; long work must watch it and clean up. */
  signal: AbortSignal;
  /** The scenario catalogue the entry point (bin/podpath.ts) was built with; absent when main() is called without one. */
  scenarios?: readonly Scenario[];
}

export interface Command {
  name: string;
  /** One line for the command table. */
  summary: string;
  /** Usage line after "podpath NAME", e.g. "[FILE...|-] [--json]". */
  usage: string;
  /** Extra paragraphs for NAME --help: what it needs, examples, exit codes. */
  details?: string;
  options: Record<string, OptionSpec>;
  allowPositionals: boolean;
  run(context: CommandContext): Promise<number>;
}

/**
 * The inputs of a command that reads files or stdin: the positionals, or `-` when none are given
 * and stdin is piped. A terminal on stdin means the user forgot the input, so say what to give.
 */
export function inputPaths(context: Pick<CommandContext, 'positionals' | 'io'>, command: string, hint: string): string[] {
  let paths = context.positionals;
  if (paths.length === 0) {
    if ((context.io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError(`${command}: no input`, { hint });
    paths = ['-'];
  }
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError(`${command}: - (stdin) given more than once`);
  return paths;
}
