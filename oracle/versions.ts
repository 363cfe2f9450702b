/**
 * Which istiod code each supported Istio minor is checked against. A minor with `module` set has a
 * Go module under oracle/versions/<minor>/ pinned to that istio.io/istio pseudo-version; one with
 * `unavailable` could not be built here, and says why (the README's "what was verified where").
 */
export interface OracleVersion {
  minor: string;
  /** The Istio release the pinned commit is, or, for a release-branch commit after a tag, what it honestly is ('1.30 branch at 9739e10, after 1.30.3'). */
  release: string;
  /**
   * The Istio version the oracle's proxies announce (node ISTIO_VERSION) and that scenario rows and
   * lint are matched on; needed when `release` is not itself a version: the last tag before the commit.
   */
  version?: string;
  /** istio.io/istio pseudo-version in oracle/versions/<minor>/go.mod. */
  module?: string;
  /** Dependencies replaced because the module proxy does not serve the exact pseudo-versions Istio pins. */
  substitutions?: string[];
  /** Why this minor has no oracle build (the error the module proxy gave). */
  unavailable?: string;
  /** Buildable, but no goldens committed yet (why); `npm run oracle -- --istio <minor>` makes them. */
  goldensPending?: string;
}

const NOT_SERVED = (what: string): string => `the Go module proxy answers 403 "This module version is not available" for ${what} (asked again on 2026-12-01)`;

export const ORACLE_VERSIONS: readonly OracleVersion[] = [
  { minor: '1.20', release: '1.20.0', module: 'v0.0.0-20231114065328-6869a6c2371e' },
  { minor: '1.21', release: '1.21.0', unavailable: NOT_SERVED('istio.io/istio at 1.21.0 (2ca3e986a683) and 1.21.6 (82f36589b0da)') },
  { minor: '1.22', release: '1.22.0', unavailable: NOT_SERVED('istio.io/istio at 1.22.0 (aaf597fbfae6) and 1.22.8 (6abd1e5a6bb7)') },
  { minor: '1.23', release: '1.23.0', unavailable: NOT_SERVED('istio.io/istio at 1.23.0 (d0ca037e58f9) and 1.23.6 (6a112a284106)') },
  { minor: '1.24', release: '1.24.0', module: 'v0.0.0-20241105211601-8825a6b7f8c9', substitutions: ['istio.io/client-go v1.24.0-rc.0.0.20241101201152-acb34243979a (not served) → v1.24.0'] },
  { minor: '1.25', release: '1.25.0', unavailable: NOT_SERVED('istio.io/istio at 1.25.0 (57e59c2e5d6b) and 1.25.5 (60cf0ca3bf5c)') },
  { minor: '1.26', release: '1.26.0', module: 'v0.0.0-20250506181944-c2e9871f340c' },
  { minor: '1.27', release: '1.27.0', module: 'v0.0.0-20250808040725-7359d8be2504' },
  { minor: '1.28', release: '1.28.0', unavailable: NOT_SERVED('istio.io/istio at 1.28.0 (b8d1df544650) and 1.28.10 (ff49c1889eba)') },
  { minor: '1.29', release: '1.29.0', unavailable: NOT_SERVED('istio.io/istio at 1.29.0 (2300e2458ab7) and 1.29.6 (7019d6d3608e)') },
  {
    minor: '1.30',
    release: '1.30 branch at 9739e10 (2026-08-26), after 1.30.3',
    version: '1.30.3',
    module: 'v0.0.0-20260826214018-9739e10eb9d7',
    substitutions: [
      'github.com/agentgateway/agentgateway/api v0.0.0-20260506232448-6ae4ab07bb06 (not served) → v0.0.0-20260501213430-773586679f1c (5 days older; only agentgateway resources use it, the bed has none)',
      'github.com/envoyproxy/go-control-plane/envoy v1.37.1-0.20260409083702-98966259b99a (not served) → v1.37.1-0.20260418153000-ae8637bdda9d (9 days newer; the pin Istio master had in April)',
      'github.com/envoyproxy/go-control-plane/contrib v1.36.1-0.20260409083702-98966259b99a (not served) → v1.36.1-0.20260418153000-ae8637bdda9d (same go-control-plane commit as envoy)',
      'istio.io/api v1.30.4-0.20260824163423-69099aec2678 (not served) → v1.30.3 (its Go code is identical to v1.30.8, so to the commit between them)',
      'istio.io/client-go v1.30.4-0.20260824164123-eb36a3f6cac0 (not served) → v1.30.4',
    ],
  },
];

export function oracleVersion(minor: string): OracleVersion | undefined {
  return ORACLE_VERSIONS.find((v) => v.minor === minor);
}

/** The Istio version a minor's goldens stand for: what its proxies announce and scenario rows match. */
export function oracleIstioVersion(v: OracleVersion): string {
  return v.version ?? v.release;
}

export function buildableMinors(): string[] {
  return ORACLE_VERSIONS.filter((v) => v.module).map((v) => v.minor);
}
