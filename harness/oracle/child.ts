/**
 * Starts the two programs the oracle needs (`go build`, then the built oracle) and stops them when
 * asked: an abort kills the child (for `go build` its whole process group, the compilers it runs
 * included) and the caller gets an InterruptedError once it has exited.
 */
import { spawn } from 'node:child_process';
import { InterruptedError } from '../errors/index.ts';

export interface ChildResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The end of stderr (the last 64 KB): where Go and istiod say what went wrong. */
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  stdin?: string;
  signal?: AbortSignal;
  /** Run in its own process group and stop the group: `go build` starts compilers and a linker. */
  group?: boolean;
  /** What the interruption message says was going on. */
  what: string;
  /** After the first stop signal, how long before SIGKILL (default 5 s). */
  killGraceMs?: number;
}

const STDERR_KEPT = 64 * 1024;

export function runChild(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new InterruptedError(`interrupted before ${options.what}`));
      return;
    }
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: options.group === true });
    const out: Buffer[] = [];
    let err = '';
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (sig: NodeJS.Signals): void => {
      try {
        // A negative pid signals the process group (kill(2)); go build forwards nothing to its compilers otherwise.
        if (options.group && child.pid !== undefined) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      // SIGINT first: cmd/go then stops starting work and removes its $WORK directory (cmd/go/internal/base/signal.go).
      kill(options.group ? 'SIGINT' : 'SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), options.killGraceMs ?? 5000);
      killTimer.unref();
    };
    // If this process exits while the child runs (an uncaught error), the child goes with it.
    const onExit = (): void => kill('SIGKILL');
    process.once('exit', onExit);
    options.signal?.addEventListener('abort', stop, { once: true });
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      if (err.length > 2 * STDERR_KEPT) err = err.slice(-STDERR_KEPT);
    });
    const finish = (): void => {
      process.removeListener('exit', onExit);
      options.signal?.removeEventListener('abort', stop);
      if (killTimer) clearTimeout(killTimer);
    };
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (code, signal) => {
      finish();
      if (stopped) reject(new InterruptedError(`interrupted while ${options.what}`));
      else resolve({ code, signal, stdout: Buffer.concat(out), stderr: err.slice(-STDERR_KEPT) });
    });
    if (options.stdin !== undefined) {
      // A child that exits without reading all of its input is judged by its exit code, not by EPIPE.
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.stdin);
    }
  });
}

/** The last `n` non-empty lines of a program's stderr, for an error message. */
export function tailLines(text: string, n: number): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-n);
}
