/**
 * The kube layer's only way to wait: exponential backoff against a deadline. Everything that
 * waits (config convergence, watch re-connects, a held lease) goes through here, so the number
 * of API calls per wait is bounded by the schedule and no code path sleeps a fixed time.
 */
import { InterruptedError } from '../errors/index.ts';

export interface BackoffSchedule {
  /** First delay after the first attempt. */
  initialMs: number;
  /** Each delay is the previous one times this. */
  factor: number;
  /** No delay is longer than this. */
  maxMs: number;
}

/** Config propagates with a 100 ms-10 s debounce: start at its floor, cap at 2 s. */
export const DEFAULT_BACKOFF: BackoffSchedule = { initialMs: 100, factor: 2, maxMs: 2000 };

/** The delay before attempt `n + 1` (n counts from 0). */
export function delayFor(schedule: BackoffSchedule, n: number): number {
  return Math.min(schedule.maxMs, schedule.initialMs * schedule.factor ** n);
}

/** Resolves after `ms`, or rejects with InterruptedError when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted(signal));
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(interrupted(signal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function interrupted(signal: AbortSignal | undefined): InterruptedError {
  return new InterruptedError('interrupted while waiting on the cluster', { cause: signal?.reason });
}

export type Attempt<T> = { done: true; value: T } | { done: false; state: string };

export interface PollOptions {
  timeoutMs: number;
  schedule?: BackoffSchedule;
  signal?: AbortSignal;
  now?: () => number;
  /** How to wait; tests pass a virtual clock so the schedule is checked without real timers. */
  pause?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class PollTimeout extends Error {
  readonly lastState: string;
  readonly attempts: number;
  constructor(lastState: string, attempts: number) {
    super(`timed out after ${attempts} attempts; last state: ${lastState}`);
    this.lastState = lastState;
    this.attempts = attempts;
  }
}

/**
 * Try, then wait by the schedule and try again until `attempt` says done or the deadline
 * passes. Never waits past the deadline: the last attempt happens at most at the deadline.
 */
export async function poll<T>(attempt: () => Promise<Attempt<T>>, options: PollOptions): Promise<T> {
  const schedule = options.schedule ?? DEFAULT_BACKOFF;
  const now = options.now ?? Date.now;
  const wait = options.pause ?? pause;
  const deadline = now() + options.timeoutMs;
  let state = 'no attempt finished';
  for (let n = 0; ; n++) {
    if (options.signal?.aborted) throw interrupted(options.signal);
    const result = await attempt();
    if (result.done) return result.value;
    state = result.state;
    const left = deadline - now();
    if (left <= 0) throw new PollTimeout(state, n + 1);
    await wait(Math.min(delayFor(schedule, n), left), options.signal);
  }
}
