/**
 * The seam between podpath and the istiod oracle (oracle/common/main.go): what goes in, what comes
 * out. `npm run oracle` (goldens for the bed) and `podpath predict` (the user's manifests) both
 * speak it; tests replace the Go program with a DumpGenerator that serves committed goldens.
 */
import type { KubeDocument } from '../kube/index.ts';

/** The sidecar to generate config for: the pod it runs in and the Istio version it reports. */
export interface OracleProxy {
  pod: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  istioVersion: string;
}

/** What the Go program reads on stdin (oracle/common/main.go, type Input). */
export interface OracleInput {
  inputsHash: string;
  kubernetes: KubeDocument[];
  istioConfig: string;
  meshConfig: string;
  proxies: OracleProxy[];
}

/** Which istiod code produced a dump, from which inputs (oracle/common/main.go, type Record). */
export interface OracleBuildRecord {
  istioModule: string;
  istioCommit: string;
  goVersion: string;
  inputsHash: string;
}

/** What the Go program prints: one dump per proxy, keyed `<pod>.<namespace>`, shaped like `config_dump?include_eds`. */
export interface OracleOutput {
  record: OracleBuildRecord;
  dumps: Record<string, { configs: unknown[] }>;
}

export interface GenerateRequest {
  /** An Istio minor from oracle/versions.ts, e.g. '1.24'. */
  minor: string;
  input: OracleInput;
  /** istiod's env (values.pilot.env); set on the oracle process, as istiod reads feature flags at init. */
  pilotEnv: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** One line per step of a long build or generation, for the user's terminal. */
  onProgress?: (message: string) => void;
}

export type OracleAvailability =
  | { state: 'ready' }
  | { state: 'buildable'; reason: string }
  /** hint: what would make it available (install Go, run without --offline-only), when something would. */
  | { state: 'unavailable'; reason: string; hint?: string };

export interface DumpGenerator {
  /** ready: can generate now; buildable: needs a `go build` first; unavailable: cannot here, and why. */
  availability(minor: string): Promise<OracleAvailability>;
  generate(request: GenerateRequest): Promise<OracleOutput>;
}
