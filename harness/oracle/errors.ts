/** Why the istiod oracle could not answer for one Istio minor; every one is exit 2 and says what to do next. */
import { EnvironmentError, type PodpathErrorOptions } from '../errors/index.ts';

/**
 * unavailable: this minor cannot be built here (oracle/versions.ts says why) or is unknown;
 * no-go: not built and `go` is not on PATH; not-built: --offline-only and not built yet;
 * build: `go build` failed; run: the oracle program failed; output: it printed something unreadable.
 */
export type OracleFailure = 'unavailable' | 'no-go' | 'not-built' | 'build' | 'run' | 'output';

export class OracleError extends EnvironmentError {
  readonly minor: string;
  readonly failure: OracleFailure;

  constructor(minor: string, failure: OracleFailure, shortMessage: string, options: PodpathErrorOptions = {}) {
    super(shortMessage, options);
    this.minor = minor;
    this.failure = failure;
  }
}
