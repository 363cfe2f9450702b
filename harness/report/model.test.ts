import test from 'ava';
import { anchorId, buildReportModel, mismatchHop } from './model.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { collisionPath, echoedPath, failingProbe, matrixReport, probe, report, scenario, target } from './testing/fixtures.ts';

test('mismatch sentences go to the hop they talk about', (t) => {
  t.is(mismatchHop('client sidecar: expected flags - (no flags), saw UF,URX'), 'client-sidecar');
  t.is(mismatchHop('attempt 2: server sidecar: expected cluster inbound|5701||, saw -'), 'server-sidecar');
  t.is(mismatchHop('expected outcome echoed, saw closed-after-connect'), 'server-app');
  t.is(mismatchHop('expected a manager pod to answer, saw nobody'), 'server-app');
  t.is(mismatchHop('explain: expected verdict passthrough, predicted captured'), 'other');
  t.is(mismatchHop('config did not converge: explain 10.0.0.1:5701 → passthrough'), 'other');
});

test('a connection that ended in the client sidecar is drawn up to the server sidecar, with both mismatches marked', (t) => {
  const model = buildReportModel(matrixReport());
  const p = model.targets[0].scenarios[1].probes[0];
  const c = p.connections[0];
  t.deepEqual(c.hops.map((h) => [h.role, h.reached]), [['client-app', true], ['client-sidecar', true], ['server-sidecar', false]]);
  t.is(c.stoppedAt, 'server-sidecar');
  t.deepEqual(c.hops[1].mismatches, [failingProbe().mismatches[1]]);
  // The outcome sentence belongs to the server app, which was never reached: it is shown where the path stopped.
  t.deepEqual(c.hops[2].mismatches, [failingProbe().mismatches[2], failingProbe().mismatches[0]]);
  t.is(p.failedHop, 'client-sidecar');
  t.deepEqual(model.failures.map((f) => [f.scenario, f.probe, f.hop]), [['externalname-5701-collision', 'pod-ip-5701', 'client-sidecar']]);
  t.deepEqual(p.expected.map((h) => h.role), ['client-app', 'client-sidecar', 'server-sidecar', 'server-app']);
});

test('a passing probe reaches the server app and marks nothing', (t) => {
  const p = buildReportModel(report([target('1.30.1', [scenario()])])).targets[0].scenarios[0].probes[0];
  t.deepEqual(p.connections[0].hops.map((h) => h.role), ['client-app', 'client-sidecar', 'server-sidecar', 'server-app']);
  t.true(p.connections[0].hops.every((h) => h.reached && h.mismatches.length === 0));
  t.is(p.connections[0].stoppedAt, null);
});

test('with several connections, "attempt N:" sentences mark only connection N', (t) => {
  const p = probe({ verdict: 'fail', observed: [echoedPath(), collisionPath()], mismatches: ['attempt 2: client sidecar: expected cluster PassthroughCluster, saw outbound|5701||app-ext.app.svc.cluster.local'] });
  const m = buildReportModel(report([target('1.30.1', [scenario({ status: 'failed', probes: [p] })])])).targets[0].scenarios[0].probes[0];
  t.true(m.connections[0].hops.every((h) => h.mismatches.length === 0));
  t.is(m.connections[1].hops[1].mismatches.length, 1);
});

test('summary.md and the model agree on verdict, totals and notes', (t) => {
  const r = matrixReport();
  const model = buildReportModel(r);
  const md = renderSummaryMarkdown(r);
  t.is(model.verdict, 'failed');
  t.true(md.includes(`**failed**: ${model.totalsText}`));
  for (const s of model.targets.flatMap((x) => x.scenarios)) if (s.note) t.true(md.includes(s.note.replaceAll('>', '&gt;')), s.note);
});

test('anchor ids are stable and safe for any probe name', (t) => {
  t.is(anchorId('istio', '1.20.8', 'manager → app pod IP:5701'), 'istio--1.20.8--manager_20_2192_20app_20pod_20IP_3a5701');
  t.regex(anchorId('a"b<c'), /^[A-Za-z0-9._-]+$/);
});
