/**
 * What the flow scripts use from the runner (helper G) and the cluster (helper E), typed by the
 * contracts in CONTRACTS.md so the flows are tested with fakes and wired to the real functions
 * in scripts/nightly.ts and scripts/upgrade.ts.
 */
import type { Io } from '../../harness/cli/output.ts';
import type { RunReport } from '../../harness/report/index.ts';

export interface SuiteOptions {
  scenarios: string[];
  istio: string[];
  reuse: boolean;
  keep: boolean;
  pauseOnFailure: boolean;
  repeat: number;
  concurrency: number;
  resultsDir: string;
  dryRun: boolean;
  logEncoding: 'text' | 'json';
  signal?: AbortSignal;
  /** kind cluster name (runner default podpath): the upgrade flow passes the bed it brought up. */
  name?: string;
  connectTimeout?: string;
  /** Recorded in report.json as how the run was started. */
  argv?: string[];
}

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
