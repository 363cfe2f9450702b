/**
 * Envoy's unified matcher (xds.type.matcher.v3.Matcher) as a listener's filter_chain_matcher.
 * When a listener has one, Envoy ignores every filter_chain_match and runs the tree once per
 * connection; the action is a StringValue naming a filter chain (an unknown name, or no match
 * at all, means default_filter_chain, else the connection is closed).
 * Rules followed here (matcher.proto, ip.proto):
 * - matcher_tree exact_match_map: the input's value is looked up; no data or no key → on_no_match.
 * - prefix_match_map: the longest key that prefixes the value wins; shorter ones are tried
 *   when a nested matcher under a longer one does not match.
 * - custom_match IPMatcher (Istio names it "ip"; Envoy registers the trie matcher as
 *   envoy.matching.custom_matchers.trie_matcher): ranges containing the IP, most specific
 *   first; a less specific range is tried after a failed nested match only if it is not
 *   `exclusive`.
 * - matcher_list: field matchers in order, the first whose predicate holds and whose on_match
 *   resolves wins.
 * - A nested matcher that does not match (and has no on_no_match) makes its parent fall
 *   through to the parent's on_no_match.
 * Inputs: the network inputs of envoy.extensions.matching.common_inputs.network.v3; the
 * application protocol input is the ALPN list rendered as `'h2c','http/1.1'` (quoted, joined).
 */
import { cidrContains, parseIp } from './ip.ts';
import type { ChainDecision, Connection } from './connection.ts';
import type { FilterChain, InputKind, Matcher, MatchInput, OnMatch, Predicate, StringMatch } from './model.ts';
import { re2FullMatch } from './re2.ts';

interface Trace {
  path: string[];
  uncertain: string[];
  exactDestination: boolean;
  /** Matchers visited: a failed nested match retries shorter prefixes and wider ranges, which a crafted tree can make exponential. */
  steps: number;
}

/** Far above any real tree (Istio's have a few dozen nodes); beyond it the walk stops and says so. */
export const MAX_MATCHER_STEPS = 10_000;

function inputData(input: MatchInput, conn: Connection, trace: Trace): string | null {
  const kind: InputKind = input.kind;
  switch (kind) {
    case 'destination-ip':
      return conn.dst.text;
    case 'destination-port':
      return String(conn.port);
    case 'source-ip':
    case 'direct-source-ip':
      if (!conn.src) trace.uncertain.push(`source address (the filter_chain_matcher reads ${input.typeUrl.split('.').pop()}; give --src)`);
      return conn.src?.text ?? null;
    case 'source-port':
      if (conn.srcPort === null) trace.uncertain.push('source port (the filter_chain_matcher reads SourcePortInput)');
      return conn.srcPort === null ? null : String(conn.srcPort);
    case 'source-type': {
      if (!conn.src) {
        trace.uncertain.push('source address (the filter_chain_matcher reads SourceTypeInput; give --src)');
        return null;
      }
      const loopback = conn.src.family === 4 ? conn.src.value >> 24n === 127n : conn.src.value === 1n;
      return loopback || conn.src.value === conn.dst.value ? 'local' : null;
    }
    case 'server-name':
      return conn.serverName || null;
    case 'transport-protocol':
      return conn.transportProtocol || null;
    case 'application-protocol':
      return conn.applicationProtocols.length ? conn.applicationProtocols.map((p) => `'${p}'`).join(',') : null;
    case 'unknown':
      trace.uncertain.push(`filter_chain_matcher input ${input.typeUrl || input.name || '(none)'} is not understood; treated as no data`);
      return null;
  }
}

function label(input: MatchInput): string {
  return input.name || input.kind;
}

function stringMatches(m: StringMatch, data: string, trace: Trace): boolean {
  const value = m.ignoreCase ? m.value.toLowerCase() : m.value;
  const subject = m.ignoreCase ? data.toLowerCase() : data;
  switch (m.kind) {
    case 'exact':
      return subject === value;
    case 'prefix':
      return subject.startsWith(value);
    case 'suffix':
      return subject.endsWith(value);
    case 'contains':
      return subject.includes(value);
    case 'regex':
      {
        const matched = re2FullMatch(m.value, data, m.ignoreCase);
        if (typeof matched === 'boolean') return matched;
        trace.uncertain.push(`regex ${m.value} is not valid RE2 (${matched.invalid}); treated as no match`);
        return false;
      }
  }
}

function predicateHolds(p: Predicate, conn: Connection, trace: Trace): boolean {
  switch (p.kind) {
    case 'or':
      return p.predicates.some((q) => predicateHolds(q, conn, trace));
    case 'and':
      return p.predicates.every((q) => predicateHolds(q, conn, trace));
    case 'not':
      return !predicateHolds(p.predicate, conn, trace);
    case 'single': {
      const data = inputData(p.input, conn, trace);
      if (data === null) return false;
      if (p.match.kind === 'string') return stringMatches(p.match.string, data, trace);
      if (p.match.kind === 'cidrs') {
        const ip = parseIp(data);
        return ip !== null && p.match.ranges.some((r) => cidrContains(r, ip));
      }
      trace.uncertain.push(`${p.match.detail} (not understood; treated as no match)`);
      return false;
    }
  }
}

function resolve(onMatch: OnMatch | null, conn: Connection, trace: Trace): string | null {
  if (!onMatch) return null;
  if (onMatch.kind === 'action') return onMatch.chain;
  if (onMatch.kind === 'unsupported') {
    trace.uncertain.push(`filter_chain_matcher ${onMatch.detail} (not a filter chain name)`);
    return null;
  }
  return evaluate(onMatch.matcher, conn, trace);
}

/** Runs a matcher; the filter chain name it selects, or null for no match. */
export function evaluate(matcher: Matcher, conn: Connection, trace: Trace): string | null {
  trace.steps += 1;
  if (trace.steps === MAX_MATCHER_STEPS) trace.uncertain.push(`filter_chain_matcher: stopped after ${MAX_MATCHER_STEPS} matcher visits (the tree retries too many branches); treated as no match`);
  if (trace.steps >= MAX_MATCHER_STEPS) return null;
  const mark = trace.path.length;
  const fallback = (): string | null => {
    trace.path.length = mark;
    if (!matcher.onNoMatch) return null;
    trace.path.push('on_no_match');
    return resolve(matcher.onNoMatch, conn, trace);
  };
  if (matcher.kind === 'list') {
    for (const [i, field] of matcher.matchers.entries()) {
      if (!predicateHolds(field.predicate, conn, trace)) continue;
      trace.path.push(`matcher_list[${i}]`);
      const chain = resolve(field.onMatch, conn, trace);
      if (chain !== null) return chain;
      trace.path.length = mark;
    }
    return fallback();
  }
  const data = inputData(matcher.input, conn, trace);
  const tree = matcher.tree;
  if (data === null) return fallback();
  if (tree.kind === 'exact') {
    const hit = tree.map.get(data);
    if (hit) {
      trace.path.push(`${label(matcher.input)}=${data}`);
      const chain = resolve(hit, conn, trace);
      if (chain !== null) return chain;
    }
    return fallback();
  }
  if (tree.kind === 'prefix') {
    const keys = [...tree.map.keys()].filter((k) => data.startsWith(k)).sort((a, b) => b.length - a.length);
    for (const key of keys) {
      trace.path.push(`${label(matcher.input)} prefix ${JSON.stringify(key)}`);
      const chain = resolve(tree.map.get(key) ?? null, conn, trace);
      if (chain !== null) return chain;
      trace.path.length = mark;
    }
    return fallback();
  }
  if (tree.kind === 'ip') {
    const ip = parseIp(data);
    if (!ip) return fallback();
    const candidates = tree.ranges
      .map((r, order) => ({ r, order, len: Math.max(-1, ...r.ranges.filter((c) => cidrContains(c, ip)).map((c) => c.prefixLen)) }))
      .filter((c) => c.len >= 0)
      .sort((a, b) => b.len - a.len || a.order - b.order);
    const mostSpecific = candidates[0]?.len ?? -1;
    for (const c of candidates) {
      if (c.r.exclusive && c.len < mostSpecific) continue;
      const range = c.r.ranges.find((x) => cidrContains(x, ip) && x.prefixLen === c.len);
      trace.path.push(`${label(matcher.input)} ${range?.text ?? '?'}`);
      const chain = resolve(c.r.onMatch, conn, trace);
      if (chain !== null) {
        if (matcher.input.kind === 'destination-ip' && c.len === (ip.family === 4 ? 32 : 128)) trace.exactDestination = true;
        return chain;
      }
      trace.path.length = mark;
    }
    return fallback();
  }
  trace.uncertain.push(`filter_chain_matcher ${tree.kind === 'unsupported' ? tree.detail : 'tree'} (not understood)`);
  return fallback();
}

export function selectByMatcher(matcher: Matcher, chains: FilterChain[], defaultChain: FilterChain | null, conn: Connection): ChainDecision<FilterChain> {
  const trace: Trace = { path: [], uncertain: [], exactDestination: false, steps: 0 };
  const name = evaluate(matcher, conn, trace);
  const via = trace.path.length ? trace.path.join(' → ') : 'no branch';
  if (name !== null) {
    const chain = chains.find((c) => c.name === name);
    if (chain) return { chain, reason: `filter_chain_matcher ${via} → "${name}"`, exactDestination: trace.exactDestination, uncertain: trace.uncertain, matcherPath: trace.path };
    const why = `filter_chain_matcher names "${name}", which is not a filter chain of this listener`;
    if (defaultChain) return { chain: defaultChain, reason: `default_filter_chain: ${why}`, exactDestination: false, uncertain: trace.uncertain, matcherPath: trace.path };
    return { chain: null, reason: why, exactDestination: false, uncertain: trace.uncertain, matcherPath: trace.path };
  }
  const why = `filter_chain_matcher: no match (${via})`;
  if (defaultChain) return { chain: defaultChain, reason: `default_filter_chain: ${why}`, exactDestination: false, uncertain: trace.uncertain, matcherPath: trace.path };
  return { chain: null, reason: why, exactDestination: false, uncertain: trace.uncertain, matcherPath: trace.path };
}
