import test from 'ava';
import { CANONICAL_PATHS, describePaths, expectedPathName, observedPathName } from './paths.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { renderTerminalTable } from './table.ts';
import { diffReports, renderDiff } from './diff.ts';
import { collisionPath, echoedPath, failingProbe, failingScenario, probe, report, scenario, target } from './testing/fixtures.ts';
import type { ExpectedPath, ObservedPath, PathSide } from './schema.ts';

const side = (cluster: string | null, clusterKind: string | null, flags: string[] = [], responseCodeDetails: string | null = null): PathSide => ({ cluster, clusterKind, flags, responseCode: 0, responseCodeDetails, line: '' });
const observed = (o: Partial<ObservedPath>): ObservedPath => ({ outcome: 'echoed', responder: null, httpStatus: null, localAddress: null, client: null, server: null, ...o });

test('observed paths get their canonical names', (t) => {
  t.is(observedPathName(echoedPath()), 'passthrough');
  t.is(observedPathName(collisionPath()), 'captured(app-ext.app.svc.cluster.local)');
  // HTTP to a STRICT pod without mTLS: the server sidecar's listener rejects it, the client sidecar answers 503.
  t.is(observedPathName(observed({ outcome: 'answered', httpStatus: 503, client: side('PassthroughCluster', 'passthrough', ['UC']), server: side(null, null, ['NR'], 'filter_chain_not_found') })), 'rejected-strict');
  t.is(observedPathName(observed({ outcome: 'answered', client: side('PassthroughCluster', 'passthrough'), server: side(null, null, ['NR'], 'route_not_found') })), 'passthrough', 'NR for another reason is not a listener reject');
  t.is(observedPathName(observed({ outcome: 'closed-after-connect', client: side('BlackHoleCluster', 'blackhole') })), 'blackhole');
  t.is(observedPathName(observed({ outcome: 'echoed' })), 'direct');
  t.is(observedPathName(observed({ outcome: 'refused' })), 'failed(refused)');
  t.is(observedPathName(observed({ client: side('inbound|5701||', 'inbound') })), 'other(inbound|5701||)');
});

test('expected paths get the same names, from the expectation alone', (t) => {
  const expected = (e: Partial<ExpectedPath>): ExpectedPath => ({ outcome: 'echoed', responder: null, client: null, server: null, explain: null, observeOnly: false, ...e });
  t.is(expectedPathName(probe().expected), 'passthrough');
  t.is(expectedPathName(expected({ outcome: 'closed-after-connect', client: { clusterKind: 'outbound', cluster: 'outbound|5701||app-ext.app.svc.cluster.local', flags: ['UF', 'URX'] }, server: 'absent' })), 'captured(app-ext.app.svc.cluster.local)');
  t.is(expectedPathName(expected({ client: { clusterKind: 'outbound', cluster: null, flags: null } })), 'captured(SERVICE)');
  // The STRICT row pins the server's NR with no cluster (the details are not in ExpectedPath).
  t.is(expectedPathName(expected({ outcome: 'answered', client: { clusterKind: 'passthrough', cluster: 'PassthroughCluster', flags: null }, server: { clusterKind: null, cluster: null, flags: ['NR'] } })), 'rejected-strict');
  t.is(expectedPathName(expected({ outcome: null })), 'any');
  t.is(expectedPathName(expected({ outcome: 'echoed' })), 'any', 'no client constraint: any path that echoes');
  t.is(expectedPathName(expected({ outcome: 'timeout' })), 'failed(timeout)');
});

test('every name a path can take is listed, with what it means', (t) => {
  const listed = CANONICAL_PATHS.map((p) => p.name.replace(/\(.*\)$/, '('));
  for (const name of ['passthrough', 'captured(', 'rejected-strict', 'blackhole', 'direct', 'failed(', 'other(', 'any']) t.true(listed.includes(name), name);
  for (const p of CANONICAL_PATHS) t.true(p.means.length > 20, p.name);
});

test('the terminal table, summary.md and diff name the expected and observed path of a failing probe', (t) => {
  const failing = report([target('1.21.5', [failingScenario()])], { id: 'B' });
  const line = `path ${describePaths(failingProbe())}`;
  t.is(line, 'path expected passthrough, observed captured(app-ext.app.svc.cluster.local)');
  t.true(renderTerminalTable(failing, { color: false }).includes(`pod-ip-5701: ${line}`));
  const md = renderSummaryMarkdown(failing);
  t.true(md.includes('`expected passthrough, observed captured(app-ext.app.svc.cluster.local)`'));
  t.regex(md, /^\| path \| passthrough \| captured\(app-ext\.app\.svc\.cluster\.local\) \|$/m);
  const diff = renderDiff(diffReports(report([target('1.20.8', [scenario({ id: 'externalname-5701-collision' })])], { id: 'A' }), failing));
  t.regex(diff, /^ {6}path expected passthrough; observed passthrough → captured\(app-ext\.app\.svc\.cluster\.local\)$/m);
});
