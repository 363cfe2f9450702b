import { execa } from 'execa';
import { EnvironmentError, InterruptedError, PodpathError } from '../errors/index.ts';
import type { Exec, ExecOptions, ExecResult } from './exec.ts';
import { formatCommand } from './plan.ts';

/** Lines of the child's stderr kept in an ExecError: enough to see why, short enough to print. */
const STDERR_TAIL_LINES = 20;

export function tail(text: string, lines = STDERR_TAIL_LINES): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * A child process that ran and failed. `processExitCode` is the child's code (null when it was
 * killed or never started); the inherited `exitCode` stays the CLI's code (2).
 */
export class ExecError extends PodpathError {
  readonly command: string;
  readonly processExitCode: number | null;
  readonly stderrTail: string;
  readonly stdout: string;

  constructor(command: string, processExitCode: number | null, stderrTail: string, options: { hint?: string; cause?: unknown; stdout?: string } = {}) {
    const how = processExitCode === null ? 'did not finish' : `exited with code ${processExitCode}`;
    super(`command failed: ${command} (${how})${stderrTail ? `\n${stderrTail}` : ''}`, { hint: options.hint, cause: options.cause });
    this.command = command;
    this.processExitCode = processExitCode;
    this.stderrTail = stderrTail;
    this.stdout = options.stdout ?? '';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The live Exec: execa with argument arrays (never a shell), stdin from `input`, cancellation
 * through the AbortSignal (SIGTERM, then SIGKILL after a grace period).
 */
export class ExecaExec implements Exec {
  readonly forceKillAfterMs: number;

  constructor(options: { forceKillAfterMs?: number } = {}) {
    this.forceKillAfterMs = options.forceKillAfterMs ?? 5000;
  }

  async run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = formatCommand(file, args);
    if (options.signal?.aborted) throw new InterruptedError(`interrupted before: ${command}`);
    try {
      const result = await execa(file, args, {
        input: options.input,
        cwd: options.cwd,
        env: options.env,
        extendEnv: true,
        cancelSignal: options.signal,
        forceKillAfterDelay: this.forceKillAfterMs,
        timeout: options.timeoutMs,
        stdin: options.input === undefined ? 'ignore' : 'pipe',
        // Long operations (kind create) stream to the user; the tail is still kept for errors.
        stdout: options.inherit ? ['pipe', 'inherit'] : 'pipe',
        stderr: options.inherit ? ['pipe', 'inherit'] : 'pipe',
        stripFinalNewline: false,
        reject: false,
      });
      const stdout = typeof result.stdout === 'string' ? result.stdout : '';
      const stderr = typeof result.stderr === 'string' ? result.stderr : '';
      if (result.isCanceled) throw new InterruptedError(`interrupted: ${command}`);
      if (result.timedOut) {
        throw new ExecError(command, null, tail(stderr), { hint: `It ran longer than ${options.timeoutMs} ms.`, stdout });
      }
      if (result.failed) {
        const code = typeof result.exitCode === 'number' ? result.exitCode : null;
        const notFound = isObject(result.cause) && result.cause.code === 'ENOENT';
        if (notFound) {
          throw new EnvironmentError(`${file}: command not found`, { hint: `Install ${file} or put it on PATH.`, cause: result.cause });
        }
        throw new ExecError(command, code, tail(stderr), { stdout, cause: result.cause });
      }
      return { stdout, stderr, exitCode: result.exitCode ?? 0 };
    } catch (error) {
      if (error instanceof PodpathError) throw error;
      throw new ExecError(command, null, '', { cause: error });
    }
  }
}
