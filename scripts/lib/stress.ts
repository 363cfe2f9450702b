/** The pure part of scripts/stress.ts: its flags and what counts as a left-behind temp entry. */
import { parseArgs } from 'node:util';
import { usage } from './args.ts';

export interface StressOptions {
  runs: number;
  hogs: number;
  help: boolean;
}

export const STRESS_USAGE = `Usage: npm run test:stress [-- --runs N] [--hogs N]

Runs npm test N times (default 3) in a row while N busy-loop processes (default: one per core)
keep the CPU busy. Each run gets its own TMPDIR; a run fails when npm test fails or when a
podpath-* file or folder is left in it. Exit 0 all runs passed, 1 a run failed, 2 usage, 130 interrupted.
`;

function count(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw usage('stress', `--${flag} must be a whole number >= 1, got "${value}"`);
  return Number(value);
}

export function parseStressArgs(argv: readonly string[], cores: number): StressOptions {
  let values: { runs?: string; hogs?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { runs: { type: 'string' }, hogs: { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw usage('stress', error instanceof Error ? error.message : String(error));
  }
  return { runs: count('runs', values.runs, 3), hogs: count('hogs', values.hogs, Math.max(1, cores)), help: values.help === true };
}

/** Every test removes what it creates: any podpath-* entry left in a run's temp dir is a leak. */
export function leftovers(entries: readonly string[]): string[] {
  return entries.filter((name) => name.startsWith('podpath-')).sort();
}

/** "podpath-bed-* x34, podpath-tools-* x12": which tests leak, without a wall of random suffixes. */
export function summarizeLeftovers(names: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) {
    const prefix = `${name.replace(/-[^-]*$/, '')}-*`;
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  return [...counts].map(([prefix, n]) => `${prefix} x${n}`).join(', ');
}
