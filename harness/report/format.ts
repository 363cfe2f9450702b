/**
 * Small text helpers shared by every renderer, so the terminal table, summary.md, JUnit and
 * diff all describe a path with the same words ("client UF,URX outbound|5701||app-ext...").
 */
import type { ExpectedPath, MeshMtls, ObservedPath, ReportedFeatures, PathSide, ProbeReport, ScenarioReport, TargetReport, Totals } from './schema.ts';

/** Envoy prints "-" for "no flags"; so do we, so a reader can match the log line by eye. */
export function formatFlags(flags: readonly string[] | null | undefined): string {
  return flags && flags.length > 0 ? flags.join(',') : '-';
}

export function formatSide(side: PathSide | null): string {
  if (!side) return 'absent';
  return `${formatFlags(side.flags)} ${side.cluster ?? '-'}`;
}

export function formatObserved(observed: ObservedPath): string {
  const parts = [observed.outcome];
  if (observed.httpStatus !== null) parts.push(`HTTP ${observed.httpStatus}`);
  if (observed.responder) parts.push(`by ${observed.responder}`);
  parts.push(`client ${formatSide(observed.client)}`, `server ${formatSide(observed.server)}`);
  return parts.join('; ');
}

type ExpectedSide = { clusterKind: string | null; cluster: string | null; flags: string[] | null };

export function formatExpectedSide(side: ExpectedSide | 'absent' | null): string {
  if (side === null) return 'any';
  if (side === 'absent') return 'absent';
  const flags = side.flags === null ? 'any flags' : formatFlags(side.flags);
  const cluster = side.cluster ?? (side.clusterKind ? `(${side.clusterKind})` : 'any cluster');
  return `${flags} ${cluster}`;
}

export function formatExpected(expected: ExpectedPath): string {
  const parts = [expected.outcome ?? 'any outcome'];
  if (expected.responder) parts.push(`by ${expected.responder}`);
  parts.push(`client ${formatExpectedSide(expected.client)}`, `server ${formatExpectedSide(expected.server)}`);
  if (expected.explain) parts.push(`explain ${expected.explain}`);
  if (expected.observeOnly) parts.push('(observe only)');
  return parts.join('; ');
}

/** A bed fact added to report.json later: absent in older reports ("not recorded"), null when the bed did not say. */
export function recorded(value: string | null | undefined): string {
  return value === undefined ? 'not recorded' : value === null ? 'unknown' : value;
}

/** "STRICT (PeerAuthentication istio-system/default)", "PERMISSIVE (Istio default: no mesh-wide PeerAuthentication)". */
export function formatMtls(mtls: MeshMtls | null | undefined): string {
  if (mtls === undefined) return 'not recorded';
  if (mtls === null) return 'unknown';
  return `${mtls.mode} (${mtls.policy ? `PeerAuthentication ${mtls.policy}` : 'Istio default: no mesh-wide PeerAuthentication'})`;
}

/** "externalNameAlias=true (istiod), dnsCapture=false (default for Istio 1.26), …"; older reports: "not recorded". */
export function formatFeatures(features: ReportedFeatures | null | undefined): string {
  if (features === undefined) return 'not recorded';
  if (features === null) return "not read (rows chosen by Istio version range)";
  const keys = Object.keys(features.source) as Array<keyof ReportedFeatures['source']>;
  return keys.map((k) => `${k}=${String(features[k])} (${features.source[k]})`).join(', ');
}

/** "+K=V,..." for a bed installed with extra istiod env: one version can have several beds. */
export function envSuffix(env: Record<string, string>): string {
  const entries = Object.entries(env).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? `+${entries.map(([k, v]) => `${k}=${v}`).join(',')}` : '';
}

/** "1.30.5", or "1.30.5+ENABLE_EXTERNAL_NAME_ALIAS=false" for a bed with istiod env. */
export function versionLabel(target: TargetReport): string {
  return target.istio.version + envSuffix(target.istio.pilotEnv ?? {});
}

/** JUnit suite name and classname: istio-<version>, plus the env when the bed has one. */
export function targetLabel(target: TargetReport): string {
  return `istio-${versionLabel(target)}`;
}

/** "10.244.1.8:5701"; the runner may already put the port into `target`. */
export function dialled(probe: ProbeReport): string {
  const { target, port } = probe.to;
  return target.endsWith(`:${port}`) ? target : `${target}:${port}`;
}

export function probeTarget(probe: ProbeReport): string {
  return `${probe.from.workload} → ${dialled(probe)}/${probe.to.protocol}`;
}

export function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

export function formatTotals(totals: Totals): string {
  return `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped, ${totals.flaky} flaky, ${totals.observed} observed${totals.partial ? `, ${totals.partial} partial` : ''}`;
}

/** Recount from the scenarios: renderers trust the data, not a stored summary that may be stale. */
export function countStatuses(scenarios: readonly ScenarioReport[]): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0, flaky: 0, observed: 0, partial: 0 };
  for (const scenario of scenarios) totals[scenario.status] = (totals[scenario.status] ?? 0) + 1;
  return totals;
}

/** One line saying why a scenario did not pass, for JUnit messages and tables. */
export function failureHeadline(scenario: ScenarioReport): string {
  if (scenario.error) return `harness error: ${scenario.error}`;
  const failed = scenario.probes.filter((p) => p.verdict === 'fail');
  const first = failed[0];
  if (!first) return `scenario ${scenario.status}`;
  const mismatch = first.mismatches[0] ?? 'observed path differs from the expected one';
  const more = failed.length > 1 ? ` (+${failed.length - 1} more failing probe${failed.length > 2 ? 's' : ''})` : '';
  return `${first.name}: ${mismatch}${more}`;
}
