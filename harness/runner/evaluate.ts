/**
 * Expected vs observed, as a pure function: the runner's verdict for one connection. Every
 * mismatch is a sentence "expected X, saw Y" that reports print as they are.
 */
import type { AccessLogEntry, Hops } from '../accesslog/index.ts';
import type { ProbeResult } from '../probe/index.ts';
import type { ExpectedPath, ObservedPath, PathSide, ProbeVerdict } from '../report/index.ts';
import type { ExpectationRule, PathExpectation, ServerExpectation, SideExpectation } from './scenario.ts';

export interface Observation {
  result: ProbeResult;
  /** Both sidecars' entries for this connection (null when logs could not be read). */
  hops: Hops | null;
  /** "namespace/pod" the probe dialled, when the target is a pod. */
  targetPod: string | null;
  /** The prediction from the client sidecar's config dump, when one was taken. */
  explain: { verdict: string; steps: string[] } | null;
}

export interface Evaluation {
  verdict: ProbeVerdict;
  mismatches: string[];
}

/** `*` is the only wildcard: scenario authors write cluster names as they appear in logs. */
export function globMatches(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(text);
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

function flagsText(flags: readonly string[]): string {
  return flags.length ? flags.join(',') : '- (no flags)';
}

export function responderOf(result: ProbeResult): string | null {
  return result.responder ? `${result.responder.namespace}/${result.responder.pod}` : null;
}

function checkSide(side: 'client' | 'server', want: Omit<SideExpectation, 'cluster'> & { cluster?: string }, entry: AccessLogEntry, out: string[]): void {
  const name = entry.upstreamCluster ?? '-';
  if (want.cluster !== undefined && entry.cluster.kind !== want.cluster) {
    out.push(`${side} sidecar: expected a ${want.cluster} cluster, saw ${entry.cluster.kind} (${name})`);
  }
  if (want.name !== undefined && !globMatches(want.name, name)) {
    out.push(`${side} sidecar: expected cluster ${want.name}, saw ${name}`);
  }
  if (want.flags !== undefined && !sameFlags(want.flags, entry.responseFlags)) {
    out.push(`${side} sidecar: expected flags ${flagsText(want.flags)}, saw ${flagsText(entry.responseFlags)}`);
  }
  if (want.details !== undefined && entry.responseCodeDetails !== want.details) {
    out.push(`${side} sidecar: expected details ${want.details}, saw ${entry.responseCodeDetails ?? '-'}`);
  }
}

export function evaluate(expectation: PathExpectation & { observe?: string }, observation: Observation): Evaluation {
  const out: string[] = [];
  const { result, hops } = observation;
  if (result.outcome !== expectation.outcome) {
    out.push(`expected outcome ${expectation.outcome}, saw ${result.outcome}${result.error ? ` (${result.error})` : ''}`);
  }
  if (expectation.httpStatus !== undefined && result.httpStatus !== expectation.httpStatus) {
    out.push(`expected HTTP ${expectation.httpStatus}, saw ${result.httpStatus ?? 'no response'}`);
  }
  const responder = responderOf(result);
  switch (expectation.responder) {
    case undefined:
      break;
    case 'nobody':
      if (responder !== null) out.push(`expected nobody to answer, saw ${responder}`);
      break;
    case 'target':
      if (responder === null || responder !== observation.targetPod) out.push(`expected ${observation.targetPod ?? 'the target pod'} to answer, saw ${responder ?? 'nobody'}`);
      break;
    default:
      if (responder === null || !responder.startsWith(`${expectation.responder}/`)) out.push(`expected a ${expectation.responder} pod to answer, saw ${responder ?? 'nobody'}`);
  }
  const wantsLogs = expectation.client !== undefined || expectation.server !== undefined;
  if (wantsLogs && hops === null) {
    out.push('expected sidecar log entries, but the logs could not be read');
  } else if (hops !== null) {
    if (expectation.client !== undefined) {
      if (hops.client === null) out.push(`client sidecar: expected a ${expectation.client.cluster} entry, found none (${hops.stoppedAt ?? 'no entry'})`);
      else checkSide('client', expectation.client, hops.client, out);
    }
    checkServer(expectation.server, hops, out);
  }
  if (expectation.explain !== undefined) {
    const predicted = observation.explain?.verdict ?? 'no prediction (config dump not read)';
    if (predicted !== expectation.explain) out.push(`explain: expected verdict ${expectation.explain}, predicted ${predicted}`);
  }
  const verdict: ProbeVerdict = expectation.observe !== undefined ? 'observe' : out.length ? 'fail' : 'pass';
  return { verdict, mismatches: out };
}

function checkServer(want: ServerExpectation | undefined, hops: Hops, out: string[]): void {
  if (want === undefined) return;
  if (want === 'absent') {
    if (hops.server !== null) out.push(`server sidecar: expected no entry, saw ${hops.server.upstreamCluster ?? '-'} ${flagsText(hops.server.responseFlags)}`);
    return;
  }
  if (hops.server === null) {
    out.push(`server sidecar: expected an entry${want.cluster ? ` (${want.cluster})` : ''}, found none (${hops.stoppedAt ?? 'no entry'})`);
    return;
  }
  checkSide('server', want, hops.server, out);
}

// ---------------------------------------------------------------------------------------------
// Report shapes (harness/report/schema.ts): expectations and observations as plain data.

function expectedSide(side: Omit<SideExpectation, 'cluster'> & { cluster?: string }) {
  return { clusterKind: side.cluster ?? null, cluster: side.name ?? null, flags: side.flags ?? null };
}

export function toExpectedPath(rule: ExpectationRule | null): ExpectedPath {
  if (rule === null) return { outcome: null, responder: null, client: null, server: null, explain: null, observeOnly: true };
  return {
    outcome: rule.outcome,
    responder: rule.responder ?? null,
    client: rule.client ? expectedSide(rule.client) : null,
    server: rule.server === undefined ? null : rule.server === 'absent' ? 'absent' : expectedSide(rule.server),
    explain: rule.explain ?? null,
    observeOnly: rule.observe !== undefined,
  };
}

function pathSide(entry: AccessLogEntry | null): PathSide | null {
  if (entry === null) return null;
  return {
    cluster: entry.upstreamCluster,
    clusterKind: entry.cluster.kind,
    flags: [...entry.responseFlags],
    responseCode: entry.responseCode,
    responseCodeDetails: entry.responseCodeDetails,
    line: entry.raw,
  };
}

export function toObservedPath(observation: Observation): ObservedPath {
  const r = observation.result;
  return {
    outcome: r.outcome,
    responder: responderOf(r),
    httpStatus: r.httpStatus ?? null,
    localAddress: r.localAddress,
    client: pathSide(observation.hops?.client ?? null),
    server: pathSide(observation.hops?.server ?? null),
  };
}
