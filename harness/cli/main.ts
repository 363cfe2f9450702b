import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { InterruptedError, isPodpathError, UsageError } from '../errors/index.ts';
import type { Command, OptionSpec, Values } from './command.ts';
import { processIo, write, type Io } from './output.ts';
import { commandTable } from './commands/index.ts';
import type { Scenario } from '../runner/index.ts';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const version: string = packageJson.version;

export function mainHelp(): string {
  const width = Math.max(...commandTable.map((c) => c.name.length));
  const rows = commandTable.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return [
    'podpath: which path did this connection take through the Istio mesh, and was it the expected one?',
    '',
    'Usage: podpath <command> [options]',
    '',
    'Commands:',
    rows,
    '',
    'Options:',
    '  -h, --help     show help (also: podpath <command> --help)',
    '  -V, --version  print the podpath version',
    '',
    'Exit codes: 0 ok, 1 checks failed, 2 usage or environment error, 130 interrupted.',
    '',
  ].join('\n');
}

function optionLine(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
  return `  ${short}--${name}${value}`;
}

export function commandHelp(command: Command): string {
  const lines = Object.entries(command.options).map(([name, spec]) => [optionLine(name, spec), spec.description] as const);
  lines.push(['  -h, --help', 'show this help']);
  const width = Math.max(...lines.map(([left]) => left.length));
  return [
    `Usage: podpath ${command.name} ${command.usage}`.trimEnd(),
    '',
    command.summary,
    '',
    'Options:',
    ...lines.map(([left, right]) => `${left.padEnd(width)}  ${right}`),
    ...(command.details ? ['', command.details.trimEnd()] : []),
    '',
  ].join('\n');
}

function parseCommandArgs(command: Command, argv: string[]): { values: Values; positionals: string[] } | 'help' {
  const options: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(command.options)) {
    const { description: _d, valueName: _v, ...config } = spec;
    options[name] = config;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: command.allowPositionals, strict: true });
    if (values.help) return 'help';
    return { values: values as Values, positionals };
  } catch (error) {
    // parseArgs messages are precise but long; keep the first sentence and point at --help.
    const message = error instanceof Error ? error.message.split('. ')[0].replace(/\.$/, '') : String(error);
    throw new UsageError(`${command.name}: ${message}`, { hint: `Run 'podpath ${command.name} --help' for usage.`, cause: error });
  }
}

/** The exit code for an error a command threw, after telling the user on stderr. */
async function reportError(error: unknown, io: Io): Promise<number> {
  if (isPodpathError(error)) {
    await write(io.stderr, `podpath: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
    return error.exitCode;
  }
  // Not a podpath error: a bug. Say so and keep the stack for the report.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  await write(io.stderr, `podpath: internal error (please report it with this output)\n${detail}\n`);
  return 2;
}

/** One command (e.g. built with test doubles) run on argv exactly as main runs it: parsing, --help, errors to exit codes. */
export async function runCommand(command: Command, argv: string[], io: Io, signal: AbortSignal = new AbortController().signal): Promise<number> {
  try {
    const parsed = parseCommandArgs(command, argv);
    if (parsed === 'help') {
      await write(io.stdout, commandHelp(command));
      return 0;
    }
    return await command.run({ ...parsed, io, signal });
  } catch (error) {
    return await reportError(error, io);
  }
}

/** Runs the CLI and returns the exit code; never throws for anything a user can cause. */
/** What the entry point hands the commands: the scenario catalogue (`podpath run` plays it). */
export interface Catalogue {
  scenarios: readonly Scenario[];
}

export async function main(argv: string[], io: Io = processIo(), signal: AbortSignal = new AbortController().signal, catalogue?: Catalogue): Promise<number> {
  const [first, ...rest] = argv;
  // A read waiting on idle stdin never sees the signal: end the input so the read fails at once.
  const endInput = (): void => {
    const stdin = io.stdin as NodeJS.ReadableStream & { destroy?: (error?: Error) => void };
    // A command that never read stdin has no error listener on it: without this one the error would crash the process.
    stdin.on('error', () => {});
    stdin.destroy?.(new InterruptedError(`${first ?? 'podpath'}: interrupted while reading stdin`));
  };
  signal.addEventListener('abort', endInput, { once: true });
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const entry = first === 'help' ? commandTable.find((c) => c.name === rest[0]) : undefined;
      await write(io.stdout, entry ? commandHelp(await entry.load()) : mainHelp());
      return 0;
    }
    if (first === '-V' || first === '--version') {
      await write(io.stdout, `podpath ${version}\n`);
      return 0;
    }
    if (first.startsWith('-')) {
      throw new UsageError(`unknown option '${first}'`, { hint: "Run 'podpath --help' for usage." });
    }
    const entry = commandTable.find((c) => c.name === first);
    if (!entry) {
      throw new UsageError(`unknown command '${first}'`, { hint: `Run 'podpath --help' to list the commands.` });
    }
    const command = await entry.load();
    const parsed = parseCommandArgs(command, rest);
    if (parsed === 'help') {
      await write(io.stdout, commandHelp(command));
      return 0;
    }
    return await command.run({ ...parsed, io, signal, scenarios: catalogue?.scenarios });
  } catch (error) {
    return await reportError(error, io);
  } finally {
    signal.removeEventListener('abort', endInput);
  }
}
