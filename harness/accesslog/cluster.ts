import type { ClusterRef } from './types.ts';

/**
 * Istio cluster names: PassthroughCluster, BlackHoleCluster, InboundPassthroughClusterIpv4/Ipv6
 * (<=1.22) or InboundPassthroughCluster (>=1.23), outbound|PORT|SUBSET|FQDN,
 * inbound|PORT||[FQDN] (>=1.8) and inbound|PORT|PORTNAME|FQDN (<1.8).
 */
const cache = new Map<string, ClusterRef>();

const OTHER: ClusterRef = Object.freeze({ kind: 'other', direction: null, port: null, subset: null, service: null }) as ClusterRef;

function decode(name: string): ClusterRef {
  switch (name) {
    case 'PassthroughCluster':
      return { kind: 'passthrough', direction: 'outbound', port: null, subset: null, service: null };
    case 'BlackHoleCluster':
      return { kind: 'blackhole', direction: 'outbound', port: null, subset: null, service: null };
    case 'InboundPassthroughCluster':
    case 'InboundPassthroughClusterIpv4':
    case 'InboundPassthroughClusterIpv6':
      return { kind: 'inbound-passthrough', direction: 'inbound', port: null, subset: null, service: null };
  }
  const parts = name.split('|');
  if (parts.length === 4 && (parts[0] === 'outbound' || parts[0] === 'inbound')) {
    const port = /^\d{1,5}$/.test(parts[1]) ? Number(parts[1]) : null;
    if (parts[0] === 'outbound') {
      return { kind: 'outbound', direction: 'outbound', port, subset: parts[2] || null, service: parts[3] || null };
    }
    // The third field of an inbound name is a port name (<1.8) or empty, never a subset.
    return { kind: 'inbound', direction: 'inbound', port, subset: null, service: parts[3] || null };
  }
  return { ...OTHER };
}

/** Decodes an Envoy upstream cluster name; `-`, null and unknown names are kind 'other'. */
export function decodeCluster(name: string | null): ClusterRef {
  if (name === null || name === '-' || name === '') return { ...OTHER };
  const hit = cache.get(name);
  // Entries may be mutated by callers; hand out a copy of the cached decode.
  if (hit !== undefined) return { kind: hit.kind, direction: hit.direction, port: hit.port, subset: hit.subset, service: hit.service };
  const ref = decode(name);
  if (cache.size < 10_000) cache.set(name, ref);
  return { ...ref };
}
