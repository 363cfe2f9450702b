/**
 * Shared helpers for benchmarks. A benchmark never asserts a wall-clock time: it measures
 * podpath and a reference in the same run and prints the ratio against the target.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The file `npx podpath` runs (package.json "bin"): benchmarks time podpath as users start it. */
export function podpathEntry(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { podpath: string } };
  return join(root, pkg.bin.podpath);
}

export interface RatioReport {
  /** e.g. "probe overhead (control API vs bare connect+WHO)" */
  name: string;
  /** What was measured for podpath, human units, e.g. "2000 probes in 1.23 s (1626/s)". */
  measured: string;
  /** What the reference did in the same run. */
  reference: string;
  ratio: number;
  /** The target: ratio must be <= max or >= min. */
  target: { max?: number; min?: number };
}

export function meetsTarget(report: RatioReport): boolean {
  const { max, min } = report.target;
  return (max === undefined || report.ratio <= max) && (min === undefined || report.ratio >= min);
}

export function formatRatio(report: RatioReport): string {
  const { max, min } = report.target;
  const target = [min !== undefined ? `>= ${min}x` : '', max !== undefined ? `<= ${max}x` : ''].filter(Boolean).join(' and ');
  return [
    `${report.name}`,
    `  podpath:   ${report.measured}`,
    `  reference: ${report.reference}`,
    `  ratio:     ${report.ratio.toFixed(2)}x (target ${target}) ${meetsTarget(report) ? 'MET' : 'MISSED'}`,
  ].join('\n');
}

/** Print the report and a machine-readable line that bench/run.ts collects. */
export function printRatio(report: RatioReport): void {
  console.log(formatRatio(report));
  console.log(`BENCH_JSON ${JSON.stringify({ ...report, met: meetsTarget(report) })}`);
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}
