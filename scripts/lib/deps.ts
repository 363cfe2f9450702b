/**
 * What the flow scripts use from the runner and the cluster library, as types, so the flows are
 * tested with fakes and wired to the real functions in scripts/nightly.ts and scripts/upgrade.ts.
 */
import type { Io } from '../../harness/cli/output.ts';
import type { RunReport } from '../../harness/report/index.ts';
import type { RunOptions } from '../../harness/runner/index.ts';

/** The runner's own options: the flows pass them through unchanged. */
export type SuiteOptions = RunOptions;

export type RunSuite = (options: SuiteOptions, io: Io) => Promise<{ report: RunReport; runDir: string }>;
export type ResolveIstio = (spec: string) => { version: string; minor: string };

export interface BedLike extends AsyncDisposable {
  name: string;
  context: string;
}

export interface FlowBedOptions {
  name: string;
  istio: string;
  logEncoding: 'text' | 'json';
  connectTimeout?: string;
  reuse: boolean;
  keep: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (phase: string, detail: string) => void;
}
