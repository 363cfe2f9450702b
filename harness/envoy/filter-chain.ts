/**
 * Envoy's filter_chain_match selection (envoy.config.listener.v3.FilterChainMatch), as
 * FilterChainManagerImpl does it. The criteria are applied in this order:
 *   1. destination port  2. destination IP  3. server name (SNI)  4. transport protocol
 *   5. application protocols (ALPN)  6. direct source IP  7. source type  8. source IP
 *   9. source port
 * At every stage the most specific value that matches the connection wins (exact port over
 * none, longest destination prefix, exact server name over the longest `*.suffix` wildcard,
 * ...), and chains that set no value for that criterion are the fallback used only when no
 * chain with a value matches. There is no backtracking: once a stage has picked its most
 * specific group, a later stage that fails does not reconsider less specific groups, and the
 * connection gets `default_filter_chain` or is closed (`filter_chain_not_found`).
 */
import { cidrContains, sameIp, type Cidr, type Ip } from './ip.ts';
import type { ChainDecision, Connection } from './connection.ts';
import type { ChainMatch, FilterChain } from './model.ts';

/** Longest prefix in `ranges` containing `ip`; an empty list is Envoy's implicit 0.0.0.0/0 and ::/0. */
function bestPrefix(ranges: Cidr[], ip: Ip): number {
  if (ranges.length === 0) return 0;
  let best = -1;
  for (const range of ranges) if (range.prefixLen > best && cidrContains(range, ip)) best = range.prefixLen;
  return best;
}

function byLongestPrefix(chains: FilterChain[], pick: (m: ChainMatch) => Cidr[], ip: Ip): FilterChain[] {
  let best = -1;
  const scored = chains.map((c) => {
    const score = bestPrefix(pick(c.match), ip);
    if (score > best) best = score;
    return { c, score };
  });
  return best < 0 ? [] : scored.filter((s) => s.score === best).map((s) => s.c);
}

/** Exact value first, else the chains with no value for the criterion. */
function exactOrEmpty(chains: FilterChain[], has: (m: ChainMatch) => boolean, matches: (m: ChainMatch) => boolean): FilterChain[] {
  const exact = chains.filter((c) => has(c.match) && matches(c.match));
  return exact.length > 0 ? exact : chains.filter((c) => !has(c.match));
}

function serverNameStage(chains: FilterChain[], sni: string): FilterChain[] {
  const name = sni.toLowerCase();
  if (name !== '') {
    const exact = chains.filter((c) => c.match.serverNames.some((s) => s.toLowerCase() === name));
    if (exact.length > 0) return exact;
    // Wildcards: "*.b.example.com" before "*.example.com" (longest suffix first).
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) {
      const wildcard = `*.${labels.slice(i).join('.')}`;
      const hit = chains.filter((c) => c.match.serverNames.some((s) => s.toLowerCase() === wildcard));
      if (hit.length > 0) return hit;
    }
  }
  return chains.filter((c) => c.match.serverNames.length === 0);
}

function alpnStage(chains: FilterChain[], alpn: string[]): FilterChain[] {
  for (const proto of alpn) {
    const hit = chains.filter((c) => c.match.applicationProtocols.includes(proto));
    if (hit.length > 0) return hit;
  }
  return chains.filter((c) => c.match.applicationProtocols.length === 0);
}

function isLocal(conn: Connection): boolean | null {
  if (!conn.src) return null;
  const loopback = conn.src.family === 4 ? conn.src.value >> 24n === 127n : conn.src.value === 1n;
  return loopback || sameIp(conn.src, conn.dst);
}

/** Human description of what a chain matches on, e.g. "destination 10.244.1.7/32, transport tls". */
export function describeMatch(m: ChainMatch): string {
  const parts: string[] = [];
  if (m.destinationPort !== null) parts.push(`destination port ${m.destinationPort}`);
  if (m.prefixRanges.length > 0) parts.push(`destination ${m.prefixRanges.map((r) => r.text).join(', ')}`);
  if (m.serverNames.length > 0) parts.push(`server name ${m.serverNames.join(', ')}`);
  if (m.transportProtocol) parts.push(`transport ${m.transportProtocol}`);
  if (m.applicationProtocols.length > 0) parts.push(`ALPN ${m.applicationProtocols.join(', ')}`);
  if (m.directSourcePrefixRanges.length > 0) parts.push(`direct source ${m.directSourcePrefixRanges.map((r) => r.text).join(', ')}`);
  if (m.sourceType !== 'ANY') parts.push(`source type ${m.sourceType}`);
  if (m.sourcePrefixRanges.length > 0) parts.push(`source ${m.sourcePrefixRanges.map((r) => r.text).join(', ')}`);
  if (m.sourcePorts.length > 0) parts.push(`source port ${m.sourcePorts.join(', ')}`);
  return parts.length > 0 ? parts.join(', ') : 'no destination match: catch-all';
}

export function selectByFilterChainMatch(chains: FilterChain[], defaultChain: FilterChain | null, conn: Connection): ChainDecision<FilterChain> {
  const uncertain: string[] = [];
  let stage = chains;
  let failedAt = '';
  const step = (label: string, next: FilterChain[]): void => {
    if (stage.length > 0 && next.length === 0 && !failedAt) failedAt = label;
    stage = next;
  };

  step(`destination port ${conn.port}`, exactOrEmpty(stage, (m) => m.destinationPort !== null, (m) => m.destinationPort === conn.port));
  step(`destination ${conn.dst.text}`, byLongestPrefix(stage, (m) => m.prefixRanges, conn.dst));
  step(conn.serverName ? `server name ${conn.serverName}` : 'no server name (SNI)', serverNameStage(stage, conn.serverName));
  step(`transport ${conn.transportProtocol}`, exactOrEmpty(stage, (m) => m.transportProtocol !== '', (m) => m.transportProtocol === conn.transportProtocol));
  step(conn.applicationProtocols.length ? `ALPN ${conn.applicationProtocols.join(', ')}` : 'no ALPN', alpnStage(stage, conn.applicationProtocols));

  if (conn.src) {
    step(`direct source ${conn.src.text}`, byLongestPrefix(stage, (m) => m.directSourcePrefixRanges, conn.src));
  } else if (stage.some((c) => c.match.directSourcePrefixRanges.length > 0)) {
    uncertain.push('source address (a chain matches on direct_source_prefix_ranges; give --src)');
    step('direct source', stage.filter((c) => c.match.directSourcePrefixRanges.length === 0));
  }
  const local = isLocal(conn);
  if (local === null && stage.some((c) => c.match.sourceType !== 'ANY')) {
    uncertain.push('source address (a chain matches on source_type; give --src)');
    step('source type', stage.filter((c) => c.match.sourceType === 'ANY'));
  } else if (local !== null) {
    const wanted = local ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL';
    step(`source type ${wanted}`, exactOrEmpty(stage, (m) => m.sourceType !== 'ANY', (m) => m.sourceType === wanted));
  }
  if (conn.src) {
    step(`source ${conn.src.text}`, byLongestPrefix(stage, (m) => m.sourcePrefixRanges, conn.src));
  } else if (stage.some((c) => c.match.sourcePrefixRanges.length > 0)) {
    uncertain.push('source address (a chain matches on source_prefix_ranges; give --src)');
    step('source', stage.filter((c) => c.match.sourcePrefixRanges.length === 0));
  }
  if (conn.srcPort !== null) {
    const port = conn.srcPort;
    step(`source port ${port}`, exactOrEmpty(stage, (m) => m.sourcePorts.length > 0, (m) => m.sourcePorts.includes(port)));
  } else if (stage.some((c) => c.match.sourcePorts.length > 0)) {
    uncertain.push('source port (a chain matches on source_ports)');
    step('source port', stage.filter((c) => c.match.sourcePorts.length === 0));
  }

  const chosen = stage[0] ?? null;
  if (chosen) {
    const exactDestination = chosen.match.prefixRanges.some((r) => cidrContains(r, conn.dst) && r.prefixLen === (conn.dst.family === 4 ? 32 : 128));
    return { chain: chosen, reason: describeMatch(chosen.match), exactDestination, uncertain, matcherPath: null };
  }
  const why = failedAt ? `no chain matches ${failedAt}` : 'the listener has no filter chains';
  if (defaultChain) return { chain: defaultChain, reason: `default_filter_chain: ${why}`, exactDestination: false, uncertain, matcherPath: null };
  return { chain: null, reason: why, exactDestination: false, uncertain, matcherPath: null };
}
