/**
 * What the suite tells whoever watches it: the runner emits these, a front end (the CLI's terminal
 * renderer, a script, a test) decides how they look. The runner itself never writes to a terminal.
 */
import type { ProbeReport, ScenarioReport } from '../report/index.ts';

export type SuiteEvent =
  /** An attempt of a scenario begins on a bed (target is the bed's label, e.g. "1.30.5"). */
  | { type: 'scenario-started'; scenario: string; target: string; attempt: number; attempts: number }
  /** One probe of a finished attempt, as judged. */
  | { type: 'probe-observed'; scenario: string; target: string; attempt: number; probe: ProbeReport }
  /** A scenario's final report on a target; `planned` when it comes from a dry run (nothing was observed). */
  | { type: 'verdict'; target: string; report: ScenarioReport; planned: boolean }
  /** Something the user should read: `warning` (the run goes on, but not as asked), `info`, or a `hint` on what to do next. */
  | { type: 'message'; level: 'warning' | 'info' | 'hint'; text: string }
  /** Where the run is: `done` of `total` scenarios finished, `text` says what happens now. */
  | { type: 'progress'; done: number; total: number; text: string };

export interface SuiteSink {
  emit(event: SuiteEvent): void | Promise<void>;
  /** Waits until the user says to go on (--pause-on-failure); absent when nobody can answer, e.g. stdin is not a terminal. */
  pause?(signal?: AbortSignal): Promise<void>;
}

/** A sink that keeps every event, for tests and for callers that render afterwards. */
export function recordingSink(): SuiteSink & { events: SuiteEvent[] } {
  const events: SuiteEvent[] = [];
  return { events, emit: (event) => void events.push(event) };
}
