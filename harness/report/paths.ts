/**
 * Named paths: one short canonical name for the way a probe's connection went through the mesh
 * (or was required to go), derived from report data alone, so the terminal, summary.md and diff
 * say "expected passthrough, observed captured(app-ext.app.svc.cluster.local)".
 */
import type { ExpectedPath, ObservedPath, ProbeReport } from './schema.ts';

/** The names a path can take; SERVICE, OUTCOME and CLUSTER are filled in from the data. */
export const CANONICAL_PATHS = [
  { name: 'passthrough', means: 'the client sidecar sent it to PassthroughCluster: on to the dialled address, no service routing' },
  { name: 'captured(SERVICE)', means: "a service's listener or route took it: the client sidecar's cluster is outbound|PORT||SERVICE" },
  { name: 'rejected-strict', means: 'the server sidecar had no filter chain for it (filter_chain_not_found): plaintext to a STRICT mTLS pod' },
  { name: 'blackhole', means: 'the client sidecar sent it to BlackHoleCluster (outbound traffic policy REGISTRY_ONLY)' },
  { name: 'direct', means: 'answered with no client sidecar entry: no sidecar was in the path' },
  { name: 'failed(OUTCOME)', means: 'no client sidecar entry and no answer (refused, timeout, unreachable, ...)' },
  { name: 'other(CLUSTER)', means: 'any other client cluster' },
  { name: 'any', means: 'the expectation does not constrain the path' },
] as const;

export type PathName = 'passthrough' | `captured(${string})` | 'rejected-strict' | 'blackhole' | 'direct' | `failed(${string})` | `other(${string})` | 'any';

/** What the naming reads, whether from an observation or from an expectation. */
interface PathFacts {
  outcome: string | null;
  /** null: no client entry (observed) or not constrained (expected). */
  client: { clusterKind: string | null; cluster: string | null } | null;
  /** The server sidecar's entry, when there is (or must be) one. */
  server: { cluster: string | null; flags: readonly string[] | null; details: string | null } | null;
}

/** outbound|PORT|SUBSET|HOST → HOST (Envoy cluster names as istiod builds them). */
function serviceOf(cluster: string | null): string {
  if (cluster === null) return 'SERVICE';
  const parts = cluster.split('|');
  return parts.length === 4 && parts[3] ? parts[3] : cluster;
}

// Envoy logs a listener that has no filter chain for a connection as NR with no upstream cluster,
// details filter_chain_not_found (envoyproxy/envoy: source/common/listener_manager/active_stream_listener_base.cc).
function rejectedAtListener(server: PathFacts['server']): boolean {
  if (server === null) return false;
  if (server.details !== null) return server.details === 'filter_chain_not_found';
  return server.cluster === null && (server.flags ?? []).includes('NR');
}

function name(facts: PathFacts, expected: boolean): PathName {
  if (rejectedAtListener(facts.server)) return 'rejected-strict';
  const client = facts.client;
  if (client) {
    if (client.clusterKind === 'blackhole' || client.cluster === 'BlackHoleCluster') return 'blackhole';
    if (client.clusterKind === 'passthrough' || client.cluster === 'PassthroughCluster') return 'passthrough';
    if (client.clusterKind === 'outbound' || client.cluster?.startsWith('outbound|')) return `captured(${serviceOf(client.cluster)})`;
    if (client.cluster !== null || client.clusterKind !== null) return `other(${client.cluster ?? client.clusterKind})`;
  }
  if (facts.outcome === null) return 'any';
  if (expected && client === null) return facts.outcome === 'echoed' || facts.outcome === 'answered' ? 'any' : `failed(${facts.outcome})`;
  return facts.outcome === 'echoed' || facts.outcome === 'answered' ? 'direct' : `failed(${facts.outcome})`;
}

export function observedPathName(observed: ObservedPath): PathName {
  const server = observed.server ? { cluster: observed.server.cluster, flags: observed.server.flags, details: observed.server.responseCodeDetails } : null;
  return name({ outcome: observed.outcome, client: observed.client, server }, false);
}

export function expectedPathName(expected: ExpectedPath): PathName {
  const server = expected.server === 'absent' || expected.server === null ? null : { cluster: expected.server.cluster, flags: expected.server.flags, details: null };
  return name({ outcome: expected.outcome, client: expected.client, server }, true);
}

/** Distinct observed path names of a probe, in order; "nothing observed" when it opened nothing. */
export function observedPathNames(probe: ProbeReport): string {
  const names = [...new Set(probe.observed.map(observedPathName))];
  return names.length ? names.join(' | ') : 'nothing observed';
}

/** "expected passthrough, observed captured(...)" for a probe. */
export function describePaths(probe: ProbeReport): string {
  return `expected ${expectedPathName(probe.expected)}, observed ${observedPathNames(probe)}`;
}
