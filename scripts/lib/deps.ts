/**
 * What the flow scripts use from the runner and the cluster library, as types, so the flows are
 * tested with fakes and wired to the real functions in scripts/nightly.ts and scripts/upgrade.ts.
 */
import type { Io } from '../../harness/cli/output.ts';
import { EnvironmentError } from '../../harness/errors/index.ts';
import { unavailableBeds, type RunReport } from '../../harness/report/index.ts';
import type { RunOptions } from '../../harness/runner/index.ts';

/** The runner's own options: the flows pass them through unchanged. */
export type SuiteOptions = RunOptions;

/** `written: false` means no bed came up, so nothing ran and no results were written. */
export type RunSuite = (options: SuiteOptions, io: Io) => Promise<{ report: RunReport; runDir: string; written?: boolean }>;

/** A suite whose beds never came up ran nothing: that is an error to report, not a run of failures. */
export function ranOrThrow<R extends { report: RunReport; written?: boolean }>(result: R): R {
  if (result.written === false && !result.report.run.dryRun) {
    throw new EnvironmentError(unavailableBeds(result.report).join('; ') || 'no bed came up, so no scenario ran');
  }
  return result;
}
export type ResolveIstio = (spec: string) => { version: string; minor: string };

/** An Istio release with the Kubernetes minors it supports (istio.io supported-releases table), e.g. ['1.32', ..., '1.36']. */
export type ResolveIstioRelease = (spec: string) => { version: string; minor: string; kubernetes: readonly string[] };

export interface BedLike extends AsyncDisposable {
  name: string;
  context: string;
}

export interface FlowBedOptions {
  name: string;
  istio: string;
  logEncoding: 'text' | 'json';
  connectTimeout?: string;
  /** Kubernetes minor of the kind node for a new cluster (default: the newest the Istio version supports). */
  k8s?: string;
  reuse: boolean;
  keep: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (phase: string, detail: string) => void;
}
