/**
 * The pure part of scripts/mutation.ts: a fixed list of small breaks in the verdict code, the test
 * files that must catch each file's breaks, and the score. Each mutant names an exact snippet that
 * must occur once in its file, so a list that no longer fits the code fails loudly instead of
 * testing nothing.
 */
import { parseArgs } from 'node:util';
import { usage } from './args.ts';

export interface Mutant {
  file: string;
  /** What the break means for the verdict, as a reader of the report would say it. */
  what: string;
  find: string;
  replace: string;
}

/** The tests that judge each mutated file (only these run per mutant). */
export const TESTS_FOR: Record<string, string[]> = {
  'harness/runner/evaluate.ts': ['harness/runner/evaluate.test.ts'],
  'harness/report/diff.ts': ['harness/report/diff.test.ts'],
  'harness/accesslog/correlate.ts': ['harness/accesslog/correlate.test.ts', 'harness/runner/evaluate.test.ts'],
  'harness/accesslog/diagnose.ts': ['harness/accesslog/diagnose.test.ts', 'harness/accesslog/signatures.test.ts'],
  'harness/envoy/filter-chain.ts': ['harness/envoy/filter-chain.test.ts', 'harness/envoy/explain.test.ts'],
};

const E = 'harness/runner/evaluate.ts';
const D = 'harness/report/diff.ts';
const C = 'harness/accesslog/correlate.ts';
const G = 'harness/accesslog/diagnose.ts';
const F = 'harness/envoy/filter-chain.ts';

export const MUTANTS: readonly Mutant[] = [
  // evaluate: expected vs observed
  { file: E, what: 'flags compared by count only', find: "return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');", replace: 'return a.length === b.length;' },
  { file: E, what: 'outcome ignored', find: 'if (result.outcome !== expectation.outcome) {', replace: 'if (false) {' },
  { file: E, what: 'HTTP status ignored', find: 'if (expectation.httpStatus !== undefined && result.httpStatus !== expectation.httpStatus) {', replace: 'if (false) {' },
  { file: E, what: '"nobody" accepts an answer', find: "if (responder !== null) out.push(`expected nobody to answer", replace: "if (false) out.push(`expected nobody to answer" },
  { file: E, what: '"target" accepts any pod', find: 'if (responder === null || responder !== observation.targetPod) out.push', replace: 'if (responder === null) out.push' },
  { file: E, what: 'workload responder matched as a substring', find: 'if (responder === null || !responder.startsWith(`${expectation.responder}/`)) out.push', replace: 'if (responder === null || !responder.includes(expectation.responder)) out.push' },
  { file: E, what: 'server-only expectations do not need logs', find: 'const wantsLogs = expectation.client !== undefined || expectation.server !== undefined;', replace: 'const wantsLogs = expectation.client !== undefined;' },
  { file: E, what: 'missing client entry passes', find: "if (hops.client === null) out.push(`client sidecar: expected a ", replace: "if (hops.client === null) void (`client sidecar: expected a " },
  { file: E, what: 'cluster kind ignored', find: 'if (want.cluster !== undefined && entry.cluster.kind !== want.cluster) {', replace: 'if (false) {' },
  { file: E, what: 'cluster name ignored', find: 'if (want.name !== undefined && !globMatches(want.name, name)) {', replace: 'if (false) {' },
  { file: E, what: 'flags ignored', find: 'if (want.flags !== undefined && !sameFlags(want.flags, entry.responseFlags)) {', replace: 'if (false) {' },
  { file: E, what: 'details ignored', find: 'if (want.details !== undefined && entry.responseCodeDetails !== want.details) {', replace: 'if (false) {' },
  { file: E, what: 'explain prediction ignored', find: 'if (predicted !== expectation.explain) out.push', replace: 'if (false) out.push' },
  { file: E, what: 'mismatches do not fail', find: "out.length ? 'fail' : 'pass'", replace: "'pass'" },
  { file: E, what: 'observe rows fail like pinned ones', find: "expectation.observe !== undefined ? 'observe'", replace: "false ? 'observe'" },
  { file: E, what: '"absent" server accepts an entry', find: 'if (hops.server !== null) out.push(`server sidecar: expected no entry', replace: 'if (false) out.push(`server sidecar: expected no entry' },
  { file: E, what: 'missing server entry passes', find: 'out.push(`server sidecar: expected an entry', replace: 'void (`server sidecar: expected an entry' },
  { file: E, what: 'cluster pattern not anchored at the start', find: 'new RegExp(`^${pattern', replace: 'new RegExp(`${pattern' },
  { file: E, what: 'cluster pattern not anchored at the end', find: ".join('.*')}$`);", replace: ".join('.*')}`);" },
  { file: E, what: 'cluster pattern dots are wildcards', find: ".map((p) => p.replace(/[.+?^${}()|[\\]\\\\]/g, '\\\\$&'))", replace: ".map((p) => p.replace(/[+?^${}()|[\\]\\\\]/g, '\\\\$&'))" },

  // diff: what changed between runs
  { file: D, what: 'pass → observe is a regression', find: "if (before.verdict === 'pass' && after.verdict === 'fail') return 'regression';", replace: "if (before.verdict === 'pass' && after.verdict !== 'pass') return 'regression';" },
  { file: D, what: 'no regressions at all', find: "if (before.verdict === 'pass' && after.verdict === 'fail') return 'regression';", replace: '' },
  { file: D, what: 'no fixes', find: "if (before.verdict === 'fail' && after.verdict === 'pass') return 'fix';", replace: '' },
  { file: D, what: 'an errored scenario reads as passed', find: "scenario.status === 'failed' ? 'fail'", replace: "scenario.status === 'failed' ? 'pass'" },
  { file: D, what: 'a scenario with no probes has no row', find: "if (scenario.probes.length === 0 || scenario.status === 'skipped') {", replace: "if (scenario.status === 'skipped') {" },
  { file: D, what: 'probe rows never meet a scenario-level row', find: '? [`${row.scenario}\\u0000`]', replace: '? []' },
  { file: D, what: 'path changes not listed', find: 'if (x !== y) lines.push(`${label} ${x} → ${y}`);', replace: '' },
  { file: D, what: 'same verdict, different path is unchanged', find: "return changes.length ? 'changed' : null;", replace: 'return null;' },
  { file: D, what: 'skipped on one side is unchanged', find: "return before.verdict === after.verdict ? null : 'skipped';", replace: 'return null;' },
  { file: D, what: 'any diff has regressions', find: 'return diff.counts.regression > 0;', replace: 'return diff.counts.regression >= 0;' },
  { file: D, what: 'equal versions do not pair first', find: 'const i = restB.findIndex((tb) => versionLabel(tb) === versionLabel(ta));', replace: 'const i = -1;' },
  { file: D, what: 'versions pair in reverse order', find: 'if (d !== 0) return d;', replace: 'if (d !== 0) return -d;' },
  { file: D, what: 'HTTP status not part of the outcome', find: "o.outcome + (o.httpStatus !== null ? ` HTTP ${o.httpStatus}` : '')", replace: 'o.outcome' },
  { file: D, what: 'rows only in B not listed', find: 'if (matchedB.has(key)) continue;', replace: 'continue;' },
  { file: D, what: 'rows only in A not listed', find: 'if (candidates.length === 0) {', replace: 'if (false) {' },

  // correlate: which entries are this connection's hops
  { file: C, what: 'an inbound entry can be the client hop', find: "if (e.cluster.direction === 'inbound') return current;", replace: '' },
  { file: C, what: 'the last outbound entry wins', find: "if (current === null || (current.cluster.direction !== 'outbound' && e.cluster.direction === 'outbound')) return e;", replace: "if (current === null || e.cluster.direction === 'outbound') return e;" },
  { file: C, what: 'outbound no better than unknown direction', find: "if (current === null || (current.cluster.direction !== 'outbound' && e.cluster.direction === 'outbound')) return e;", replace: 'if (current === null) return e;' },
  { file: C, what: 'server matched on its upstream local address', find: 'e.downstreamRemoteAddress !== client.upstreamLocalAddress', replace: 'e.upstreamLocalAddress !== client.upstreamLocalAddress' },
  { file: C, what: 'HTTP server entry taken whatever its x-request-id', find: 'return client.requestId === null || e.requestId === null || e.requestId === client.requestId;', replace: 'return true;' },
  { file: C, what: 'an outbound entry can be the server hop', find: " || e.cluster.direction === 'outbound') return false;", replace: ') return false;' },
  { file: C, what: 'follower keeps the server of a replaced client', find: '        this.server = null;\n', replace: '' },
  { file: C, what: 'follower never reads the logs twice', find: 'return this.client !== null && this.client.upstreamLocalAddress !== null && this.server === null;', replace: 'return false;' },
  { file: C, what: 'no upstream connection still looks for a server', find: 'if (client.upstreamLocalAddress === null) {', replace: 'if (false) {' },
  { file: C, what: 'inbound-only source not explained', find: 'stoppedAt: seenAsSource', replace: 'stoppedAt: false' },

  // diagnose: failure signatures
  { file: G, what: 'captured signature ignores UF', find: "const connectFailed = (e: AccessLogEntry): boolean => has(e, 'UF') || has(e, 'URX');", replace: "const connectFailed = (e: AccessLogEntry): boolean => has(e, 'URX');" },
  { file: G, what: 'captured signature ignores URX', find: "const connectFailed = (e: AccessLogEntry): boolean => has(e, 'UF') || has(e, 'URX');", replace: "const connectFailed = (e: AccessLogEntry): boolean => has(e, 'UF');" },
  { file: G, what: 'captured signature ignores UH', find: "if (!connectFailed(e) && !has(e, 'UH')) return null;", replace: 'if (!connectFailed(e)) return null;' },
  { file: G, what: 'captured signature without any flag', find: "if (!connectFailed(e) && !has(e, 'UH')) return null;", replace: '' },
  { file: G, what: 'captured signature on any cluster', find: "if (e.cluster.kind !== 'outbound' || isHttp(e)) return null;", replace: 'if (isHttp(e)) return null;' },
  { file: G, what: 'captured signature on HTTP', find: "if (e.cluster.kind !== 'outbound' || isHttp(e)) return null;", replace: "if (e.cluster.kind !== 'outbound') return null;" },
  { file: G, what: 'an endpoint of the service counts as captured', find: 'if (isEndpointOf(inventory, dst, service) === true) return null;', replace: '' },
  { file: G, what: 'a confirmed capture is only possible', find: "match: (e, inventory) => (captureEvidence(e, inventory) === 'confirmed' ? 'exact' : null),", replace: "match: (e, inventory) => (captureEvidence(e, inventory) !== null ? 'inferred' : null)," },
  { file: G, what: 'a ClusterIP Service counts as a port-wide listener', find: "return info.type === 'ExternalName' || info.clusterIPs.length === 0 ? 'confirmed' : 'possible';", replace: "return 'confirmed';" },
  { file: G, what: 'a direct connection counts as captured', find: 'if (dst !== null && dst === hostOf(e.upstreamHost)) return null;', replace: '' },
  { file: G, what: 'STRICT reject ignores termination details', find: " || e.connectionTerminationDetails === 'filter_chain_not_found'", replace: '' },
  { file: G, what: 'STRICT reject ignores response details', find: "e.responseCodeDetails === 'filter_chain_not_found' || ", replace: '' },
  { file: G, what: 'STRICT reject on outbound entries', find: "if (!has(e, 'NR') || e.cluster.direction === 'outbound' || isHttp(e)) return null;", replace: "if (!has(e, 'NR') || isHttp(e)) return null;" },
  { file: G, what: 'STRICT reject inferred despite other details', find: "return e.upstreamCluster === null && e.responseCodeDetails === null ? 'inferred' : null;", replace: "return e.upstreamCluster === null ? 'inferred' : null;" },
  { file: G, what: 'HTTP reset ignores URX', find: "match: (e) => (isHttp(e) && !has(e, 'UF') && (has(e, 'UC') || has(e, 'URX')) ? 'exact' : null),", replace: "match: (e) => (isHttp(e) && !has(e, 'UF') && has(e, 'UC') ? 'exact' : null)," },
  { file: G, what: 'TCP NR counts as no route', find: "match: (e) => (has(e, 'NR') && isHttp(e) ? 'exact' : null),", replace: "match: (e) => (has(e, 'NR') ? 'exact' : null)," },
  { file: G, what: 'passthrough without flags skipped', find: "entry.cluster.kind !== 'passthrough' && ", replace: '' },
  { file: G, what: 'evidence not capped', find: 'if (state.evidence.length < EVIDENCE_LIMIT)', replace: 'if (true)' },
  { file: G, what: 'inferred and exact swapped', find: 'inferred: state.exact === 0,', replace: 'inferred: state.exact !== 0,' },
  { file: G, what: 'HTTP known only by its protocol', find: 'e.method !== null || ', replace: '' },

  // filter-chain: which chain Envoy picks
  { file: F, what: 'source types swapped', find: "const wanted = local ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL';", replace: "const wanted = local ? 'EXTERNAL' : 'SAME_IP_OR_LOOPBACK';" },
  { file: F, what: 'every source is local', find: "const wanted = local ? 'SAME_IP_OR_LOOPBACK' : 'EXTERNAL';", replace: "const wanted = 'SAME_IP_OR_LOOPBACK';" },
  { file: F, what: 'loopback is 10/8', find: 'conn.src.value >> 24n === 127n', replace: 'conn.src.value >> 24n === 10n' },
  { file: F, what: 'same IP is not local', find: 'return loopback || sameIp(conn.src, conn.dst);', replace: 'return loopback;' },
  { file: F, what: 'IPv6 loopback is not local', find: ': conn.src.value === 1n;', replace: ': false;' },
  { file: F, what: 'exact value no better than none', find: 'return exact.length > 0 ? exact : chains.filter((c) => !has(c.match));', replace: 'return exact.length > 0 ? [...exact, ...chains.filter((c) => !has(c.match))] : chains.filter((c) => !has(c.match));' },
  { file: F, what: 'chains without prefixes never match', find: 'if (ranges.length === 0) return 0;', replace: 'if (ranges.length === 0) return -1;' },
  { file: F, what: 'shortest prefix wins', find: 'if (range.prefixLen > best && cidrContains(range, ip)) best = range.prefixLen;', replace: 'if (cidrContains(range, ip) && (best < 0 || range.prefixLen < best)) best = range.prefixLen;' },
  { file: F, what: 'the nearest wildcard is skipped', find: 'for (let i = 1; i < labels.length; i++) {', replace: 'for (let i = 2; i < labels.length; i++) {' },
  { file: F, what: 'ALPN fallback takes every chain', find: 'return chains.filter((c) => c.match.applicationProtocols.length === 0);', replace: 'return chains;' },
  { file: F, what: 'destination port ignored', find: '(m) => m.destinationPort === conn.port)', replace: '() => true)' },
  { file: F, what: 'source port ignored', find: '(m) => m.sourcePorts.includes(port)', replace: '() => true' },
  { file: F, what: 'default_filter_chain never used', find: 'if (defaultChain) return', replace: 'if (false) return' },
  { file: F, what: 'a /24 counts as the exact destination', find: 'r.prefixLen === (conn.dst.family === 4 ? 32 : 128)', replace: 'r.prefixLen >= 24' },
  { file: F, what: 'unknown source type not reported', find: "uncertain.push('source address (a chain matches on source_type; give --src)');", replace: '' },
  { file: F, what: 'a listener without chains blamed on the port', find: 'if (stage.length > 0 && next.length === 0 && !failedAt) failedAt = label;', replace: 'if (next.length === 0 && !failedAt) failedAt = label;' },
];

/** The file with the mutant in it, or why the mutant no longer fits the code. */
export function applyMutant(source: string, mutant: Mutant): { ok: true; text: string } | { ok: false; reason: string } {
  const first = source.indexOf(mutant.find);
  if (first < 0) return { ok: false, reason: `its snippet is no longer in ${mutant.file}` };
  if (source.indexOf(mutant.find, first + 1) >= 0) return { ok: false, reason: `its snippet occurs more than once in ${mutant.file}` };
  return { ok: true, text: source.slice(0, first) + mutant.replace + source.slice(first + mutant.find.length) };
}

export type MutantStatus = 'killed' | 'survived' | 'timeout' | 'stale';

export interface FileScore {
  file: string;
  killed: number;
  total: number;
  survivors: string[];
  stale: string[];
}

/** Per file: killed (a timeout counts as caught) of all mutants that applied. */
export function scores(results: ReadonlyArray<{ mutant: Mutant; status: MutantStatus }>): FileScore[] {
  const byFile = new Map<string, FileScore>();
  for (const { mutant, status } of results) {
    const score = byFile.get(mutant.file) ?? { file: mutant.file, killed: 0, total: 0, survivors: [], stale: [] };
    byFile.set(mutant.file, score);
    if (status === 'stale') {
      score.stale.push(mutant.what);
      continue;
    }
    score.total++;
    if (status === 'survived') score.survivors.push(mutant.what);
    else score.killed++;
  }
  return [...byFile.values()];
}

export function formatScore(s: FileScore): string {
  const pct = s.total === 0 ? '-' : `${Math.round((s.killed / s.total) * 100)}%`;
  return `${s.file}: ${s.killed}/${s.total} killed (${pct})${s.survivors.length ? `; survived: ${s.survivors.join('; ')}` : ''}${s.stale.length ? `; no longer fit the code: ${s.stale.join('; ')}` : ''}`;
}

export const MUTATION_USAGE = `Usage: npm run mutation [-- --file SUBSTRING] [--json]

Applies each mutant of scripts/lib/mutation.ts (a small break in the verdict code) to a temp copy
of the tree, runs only the tests that judge that file, and reports per file how many were caught.
The working tree is never modified. Exit 0 every mutant killed, 1 a mutant survived or no longer
fits the code, 2 usage or the unmutated tests fail, 130 interrupted.
`;

export interface MutationOptions {
  file: string | null;
  json: boolean;
  help: boolean;
}

export function parseMutationArgs(argv: readonly string[]): MutationOptions {
  try {
    const { values } = parseArgs({ args: [...argv], options: { file: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
    return { file: values.file ?? null, json: values.json === true, help: values.help === true };
  } catch (error) {
    throw usage('mutation', error instanceof Error ? error.message : String(error));
  }
}
