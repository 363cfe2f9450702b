import type { PipelineOptions } from '../pipeline.ts';

/**
 * Pipeline budgets for tests on the loopback mesh. Every wait in the pipeline ends on an event (a
 * config push, the log entries, a converged dump), so on a passing path these only guard a hang: a
 * busy machine makes each step slower, and a tight budget turns that into a failed scenario. Tests
 * of failing scenarios wait out the convergence and log budgets, so those stay a few seconds.
 */
export const LOOPBACK_BUDGETS = {
  logDeadlineMs: 7_000,
  probeMarginMs: 5_000,
  logBackoffMs: 20,
  pushWindowMs: 5_000,
  convergeTimeoutMs: 5_000,
} as const satisfies Partial<PipelineOptions>;
