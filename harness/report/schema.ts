/**
 * report.json: the versioned contract between the runner (which writes it), `podpath report`
 * (which re-renders it), `podpath diff` (which compares two of them) and anyone's CI tooling.
 * Bump REPORT_SCHEMA_VERSION on any change that is not a pure addition of optional fields.
 */

export const REPORT_SCHEMA_VERSION = 1 as const;

/**
 * `partial`: nothing failed, but not every probe was judged: some passed, some were only observed
 * (an `observe` row, or no row for this version). Not a pass of the whole scenario.
 */
export type ScenarioStatus = 'passed' | 'failed' | 'skipped' | 'flaky' | 'observed' | 'partial';
export type ProbeVerdict = 'pass' | 'fail' | 'observe';

/** Where time went for one scenario, in milliseconds. Phases that did not run are absent. */
export interface PhaseTimings {
  apply?: number;
  converge?: number;
  probe?: number;
  logs?: number;
  evidence?: number;
  cleanup?: number;
  total: number;
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  run: {
    id: string;
    startedAt: string;
    finishedAt: string;
    podpathVersion: string;
    /** argv after "podpath", for reproducing the run. */
    argv: string[];
    dryRun: boolean;
    interrupted: boolean;
    /** Why the run was stopped before its end other than by Ctrl-C (e.g. another run took a bed's lease). Optional: added in v1. */
    aborted?: string;
  };
  /** One per Istio version (one cluster each) in the matrix. */
  targets: TargetReport[];
  totals: Totals;
}

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  flaky: number;
  observed: number;
  /** Optional: added in v1 (older reports were written before the status existed; renderers recount). */
  partial?: number;
}

export interface TargetReport {
  istio: {
    version: string;
    /** Extra istiod env, e.g. { ENABLE_EXTERNAL_NAME_ALIAS: "false" }. */
    pilotEnv: Record<string, string>;
    /** Settings podpath chose for the test mesh that change what users would see. */
    meshConfig: { connectTimeout: string | null; accessLogEncoding: 'TEXT' | 'JSON' };
  };
  kubernetes: string | null;
  /** kind cluster name, or "test-double" in podpath's own tests. */
  cluster: string;
  /**
   * The kind release the cluster was created with, e.g. "v0.31.0", as the cluster's podpath marker
   * records it; null when the bed is no kind cluster (the test double) or its marker does not say.
   * Optional: added in v1, absent in reports written before (renderers show "not recorded").
   */
  kind?: string | null;
  /** The kind node image the cluster was created with (pinned by digest), from the same marker; null and absent as for `kind`. */
  nodeImage?: string | null;
  /**
   * The mesh-wide mTLS mode when the bed was opened, before any scenario: its root-namespace
   * PeerAuthentication without a selector (`policy`, "istio-system/default"), or Istio's default
   * PERMISSIVE when there is none (`policy` null). null when the bed could not tell. Optional:
   * added in v1, absent in reports written before (renderers show "not recorded").
   */
  mtls?: MeshMtls | null;
  /**
   * What the bed's istiod really ran with when the bed was opened (its Deployment env and the
   * `istio` ConfigMap's mesh config), each with where the value comes from: "istiod" (read), or
   * the version's default. Feature rows of the scenarios were chosen by these. null: they could
   * not be read (rows were chosen by version range). Optional: added in v1, absent before.
   */
  features?: ReportedFeatures | null;
  scenarios: ScenarioReport[];
  totals: Totals;
  /** Bring-up warnings that did not stop the run (e.g. an image that could not be preloaded). Optional: added in v1. */
  warnings?: string[];
  /** Set when the bed could not be brought up or attached to: its scenarios did not run, so they say nothing about Istio. Optional: added in v1. */
  bed?: 'unavailable';
  /** Why the bed was unavailable (set with `bed`). */
  bedError?: string;
}

export interface ReportedFeatures {
  externalNameAlias: boolean;
  dnsCapture: boolean;
  dnsAutoAllocate: boolean;
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  connectTimeout: string;
  /** Per feature: "istiod", "default for Istio 1.26" or "not configurable in Istio 1.26". */
  source: Record<'externalNameAlias' | 'dnsCapture' | 'dnsAutoAllocate' | 'outboundTrafficPolicy' | 'connectTimeout', string>;
}

export interface MeshMtls {
  mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** "namespace/name" of the mesh-wide PeerAuthentication that sets it; null: none, Istio's default. */
  policy: string | null;
}

export interface ScenarioReport {
  id: string;
  title: string;
  /** Which incident the scenario comes from (seed file or incident id), if any. */
  seed: string | null;
  status: ScenarioStatus;
  /** Always set when status is skipped: the version range or missing feature. */
  skipReason: string | null;
  /** --repeat runs; flaky means they disagreed. */
  attempts: ScenarioAttemptSummary[];
  timings: PhaseTimings;
  probes: ProbeReport[];
  /** Paths relative to the run directory. */
  evidence: string[];
  /** A harness error that stopped the scenario (not a failed expectation). */
  error: string | null;
}

export interface ScenarioAttemptSummary {
  attempt: number;
  status: 'passed' | 'failed' | 'observed' | 'partial';
}

export interface PathSide {
  /** The sidecar entry's upstream cluster as logged, e.g. "outbound|5701||app-ext.app.svc.cluster.local". */
  cluster: string | null;
  /** ClusterRef.kind from harness/accesslog: passthrough, inbound-passthrough, blackhole, outbound, inbound, other. */
  clusterKind: string | null;
  /** Response flags as short codes, [] for "-". */
  flags: string[];
  responseCode: number | null;
  responseCodeDetails: string | null;
  /** The raw log line, for the evidence view. */
  line: string;
}

export interface ObservedPath {
  outcome: string;
  /** "namespace/pod" of whoever answered, from the agent's identity reply. */
  responder: string | null;
  httpStatus: number | null;
  localAddress: string | null;
  client: PathSide | null;
  server: PathSide | null;
}

/** What the scenario required, rendered as text so reports need no scenario code. */
export interface ExpectedPath {
  outcome: string | null;
  responder: string | null;
  client: { clusterKind: string | null; cluster: string | null; flags: string[] | null } | null;
  /** "absent" when no server entry may exist. */
  server: 'absent' | { clusterKind: string | null; cluster: string | null; flags: string[] | null } | null;
  explain: string | null;
  /** Set when this expectation only records behaviour (observe), never fails. */
  observeOnly: boolean;
}

export interface ProbeReport {
  name: string;
  from: { workload: string; pod: string; ip: string };
  to: { target: string; pod: string | null; port: number; protocol: 'tcp' | 'http' };
  expected: ExpectedPath;
  observed: ObservedPath[];
  prediction: { verdict: string; steps: string[] } | null;
  verdict: ProbeVerdict;
  /** Human sentences "expected X, saw Y", empty when it passed. */
  mismatches: string[];
  /** What the runner did before the probe that a reader should know (e.g. pooled connections dropped). Optional: added in v1. */
  notes?: string[];
  /** Set when the scenario has feature rows: whether the bed's features chose the row, or its version range (features not read, or no feature row matched). Optional: added in v1. */
  rowChosenBy?: 'features' | 'versions';
}

/** One line per target whose bed was unavailable: "bed NAME (Istio V) was unavailable: REASON". */
export function unavailableBeds(report: RunReport): string[] {
  return report.targets
    .filter((t) => t.bed === 'unavailable')
    .map((t) => `bed ${t.cluster} (Istio ${t.istio.version}) was unavailable: ${t.bedError ?? 'no reason recorded'}`);
}
