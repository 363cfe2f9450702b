import test from 'ava';
import { correlate, parseLogText } from '../accesslog/index.ts';
import type { ProbeResult } from '../probe/index.ts';
import { evaluate, globMatches, toExpectedPath, toObservedPath, type Observation } from './evaluate.ts';
import type { ExpectationRule, PathExpectation } from './scenario.ts';

// Istio >= 1.9 TEXT lines (pilot/pkg/model/telemetry_logging.go format): client outbound + server inbound, linked by address.
const PASSTHROUGH_CLIENT = '[2026-11-20T10:00:00.000Z] "- - -" 0 - - - "-" 4 60 3 - "-" "-" "-" "-" "10.244.1.7:5701" PassthroughCluster 10.244.1.5:40100 10.244.1.7:5701 10.244.1.5:39000 - -';
const INBOUND_SERVER = '[2026-11-20T10:00:00.001Z] "- - -" 0 - - - "-" 4 60 2 - "-" "-" "-" "-" "127.0.0.6:5701" inbound|5701|| 127.0.0.6:41000 10.244.1.7:5701 10.244.1.5:40100 - -';
const UF_CLIENT = '[2026-11-20T10:00:00.000Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.30.30:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.1.7:5701 10.244.1.5:39000 - -';
const NR_SERVER = '[2026-11-20T10:00:00.001Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.7:5701 10.244.1.5:40100 - -';

function result(overrides: Partial<ProbeResult> = {}): ProbeResult {
  return {
    target: '10.244.1.7:5701', protocol: 'tcp', outcome: 'echoed', localAddress: '10.244.1.5:39000', remoteAddress: '10.244.1.7:5701',
    connectMs: 1, firstByteMs: 2, totalMs: 3, bytesSent: 4, bytesReceived: 60,
    responder: { pod: 'manager-b', namespace: 'manager', ip: '10.244.1.7', port: 5701, protocol: 'tcp' },
    ...overrides,
  };
}

function observe(lines: string[], overrides: Partial<ProbeResult> = {}, explainVerdict: string | null = 'passthrough'): Observation {
  const { entries } = parseLogText(lines.join('\n') + '\n', { source: 'test' });
  return {
    result: result(overrides),
    hops: correlate(entries, '10.244.1.5:39000'),
    targetPod: 'manager/manager-b',
    explain: explainVerdict === null ? null : { verdict: explainVerdict, steps: [] },
  };
}

const BASELINE: PathExpectation = {
  outcome: 'echoed', responder: 'target',
  client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] },
  server: { cluster: 'inbound', name: 'inbound|5701||', flags: [] },
  explain: 'passthrough',
};

const COLLISION: PathExpectation = {
  outcome: 'closed-after-connect', responder: 'nobody',
  client: { cluster: 'outbound', name: 'outbound|5701||app-ext.*', flags: ['UF', 'URX'] },
  server: 'absent',
  explain: 'captured',
};

test('the baseline path passes when both sidecars logged it as expected', (t) => {
  const e = evaluate(BASELINE, observe([PASSTHROUGH_CLIENT, INBOUND_SERVER]));
  t.deepEqual(e, { verdict: 'pass', mismatches: [] });
});

test('the seed collision observed against a baseline expectation fails with every difference', (t) => {
  const e = evaluate(BASELINE, observe([UF_CLIENT], { outcome: 'closed-after-connect', responder: undefined, bytesReceived: 0 }, 'captured'));
  t.is(e.verdict, 'fail');
  t.true(e.mismatches.some((m) => m === 'expected outcome echoed, saw closed-after-connect'));
  t.true(e.mismatches.some((m) => m === 'expected manager/manager-b to answer, saw nobody'));
  t.true(e.mismatches.some((m) => m.startsWith('client sidecar: expected a passthrough cluster, saw outbound')));
  t.true(e.mismatches.some((m) => m === 'client sidecar: expected flags - (no flags), saw UF,URX'));
  t.true(e.mismatches.some((m) => m.startsWith('server sidecar: expected an entry (inbound), found none')));
  t.true(e.mismatches.some((m) => m === 'explain: expected verdict passthrough, predicted captured'));
});

test('the collision expectation passes on the seed lines; flags compare as a set', (t) => {
  const e = evaluate(COLLISION, observe([UF_CLIENT], { outcome: 'closed-after-connect', responder: undefined }, 'captured'));
  t.deepEqual(e, { verdict: 'pass', mismatches: [] });
  const reordered = evaluate({ ...COLLISION, client: { cluster: 'outbound', flags: ['URX', 'UF'] } }, observe([UF_CLIENT], { outcome: 'closed-after-connect', responder: undefined }, 'captured'));
  t.is(reordered.verdict, 'pass');
});

test('server "absent" fails when the server sidecar did log the connection', (t) => {
  const e = evaluate({ outcome: 'echoed', server: 'absent' }, observe([PASSTHROUGH_CLIENT, INBOUND_SERVER]));
  t.is(e.verdict, 'fail');
  t.deepEqual(e.mismatches, ['server sidecar: expected no entry, saw inbound|5701|| - (no flags)']);
});

test('a listener-level reject on the server is matched by flags and details without a cluster', (t) => {
  const want: PathExpectation = { outcome: 'closed-after-connect', server: { flags: ['NR'], details: 'filter_chain_not_found' } };
  t.is(evaluate(want, observe([PASSTHROUGH_CLIENT, NR_SERVER], { outcome: 'closed-after-connect' })).verdict, 'pass');
  const wrongDetails = evaluate({ ...want, server: { flags: ['NR'], details: 'other' } }, observe([PASSTHROUGH_CLIENT, NR_SERVER], { outcome: 'closed-after-connect' }));
  t.deepEqual(wrongDetails.mismatches, ['server sidecar: expected details other, saw filter_chain_not_found']);
});

test('missing logs are a mismatch only when the expectation asks about sidecars', (t) => {
  const noLogs: Observation = { result: result(), hops: null, targetPod: 'manager/manager-b', explain: null };
  t.is(evaluate({ outcome: 'echoed', responder: 'target' }, noLogs).verdict, 'pass');
  t.deepEqual(evaluate({ outcome: 'echoed', client: { cluster: 'passthrough' } }, noLogs).mismatches, ['expected sidecar log entries, but the logs could not be read']);
});

test('a missing prediction fails an explain expectation', (t) => {
  const e = evaluate({ outcome: 'echoed', explain: 'passthrough' }, observe([PASSTHROUGH_CLIENT, INBOUND_SERVER], {}, null));
  t.deepEqual(e.mismatches, ['explain: expected verdict passthrough, predicted no prediction (config dump not read)']);
});

test('responder by workload accepts any pod of that workload and rejects others', (t) => {
  t.is(evaluate({ outcome: 'echoed', responder: 'manager' }, observe([])).verdict, 'pass');
  t.deepEqual(evaluate({ outcome: 'echoed', responder: 'idle' }, observe([])).mismatches, ['expected a idle pod to answer, saw manager/manager-b']);
  t.deepEqual(evaluate({ outcome: 'echoed', responder: 'nobody' }, observe([])).mismatches, ['expected nobody to answer, saw manager/manager-b']);
});

test('HTTP status is compared when asked', (t) => {
  const e = evaluate({ outcome: 'answered', httpStatus: 200 }, observe([], { outcome: 'answered', protocol: 'http', httpStatus: 503 }));
  t.deepEqual(e.mismatches, ['expected HTTP 200, saw 503']);
});

test('observe rows keep their mismatches but never fail', (t) => {
  const e = evaluate({ ...BASELINE, observe: 'not pinned yet' }, observe([UF_CLIENT], { outcome: 'closed-after-connect' }, 'captured'));
  t.is(e.verdict, 'observe');
  t.true(e.mismatches.length > 0);
});

test('cluster name patterns: * is the only wildcard, the rest is literal', (t) => {
  t.true(globMatches('outbound|5701||app-ext.*', 'outbound|5701||app-ext.app.svc.cluster.local'));
  t.false(globMatches('outbound|5701||app-ext.*', 'outbound|5701||app-extXapp'));
  t.true(globMatches('inbound|5701||', 'inbound|5701||'));
  t.false(globMatches('inbound|5701||', 'inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local'));
});

test('report shapes carry expectations and the raw lines', (t) => {
  const rule: ExpectationRule = { versions: '>=1.8', ...COLLISION, observe: 'why' };
  t.deepEqual(toExpectedPath(rule), {
    outcome: 'closed-after-connect', responder: 'nobody',
    client: { clusterKind: 'outbound', cluster: 'outbound|5701||app-ext.*', flags: ['UF', 'URX'] },
    server: 'absent', explain: 'captured', observeOnly: true,
  });
  const observed = toObservedPath(observe([UF_CLIENT], { outcome: 'closed-after-connect', responder: undefined }));
  t.is(observed.client?.line, UF_CLIENT);
  t.deepEqual(observed.client?.flags, ['UF', 'URX']);
  t.is(observed.server, null);
  t.is(observed.responder, null);
});

test('flags compare as sets: a different set of the same length fails, and so does a subset or superset', (t) => {
  const collided = observe([UF_CLIENT], { outcome: 'closed-after-connect', responder: undefined }, 'captured');
  const withFlags = (flags: string[]) => evaluate({ outcome: 'closed-after-connect', client: { cluster: 'outbound', flags } }, collided);
  t.is(withFlags(['UF', 'URX']).verdict, 'pass');
  t.deepEqual(withFlags(['UH', 'URX']).mismatches, ['client sidecar: expected flags UH,URX, saw UF,URX'], 'UH,URX is not UF,URX');
  t.is(withFlags(['UF']).verdict, 'fail');
  t.is(withFlags(['UF', 'URX', 'UH']).verdict, 'fail');
  t.is(withFlags([]).verdict, 'fail');
  t.is(withFlags(['URX', 'URX']).verdict, 'fail', 'a repeated flag is not the other one');
});

test('responder "target" accepts only the dialled pod: another pod of the same workload fails', (t) => {
  t.is(evaluate({ outcome: 'echoed', responder: 'target' }, observe([])).verdict, 'pass');
  const other = observe([], { responder: { pod: 'manager-a', namespace: 'manager', ip: '10.244.1.5', port: 5701, protocol: 'tcp' } });
  t.deepEqual(evaluate({ outcome: 'echoed', responder: 'target' }, other).mismatches, ['expected manager/manager-b to answer, saw manager/manager-a']);
  const sameNameElsewhere = observe([], { responder: { pod: 'manager-b', namespace: 'app', ip: '10.244.1.9', port: 5701, protocol: 'tcp' } });
  t.is(evaluate({ outcome: 'echoed', responder: 'target' }, sameNameElsewhere).verdict, 'fail', 'the namespace counts too');
  const noTarget: Observation = { ...observe([]), targetPod: null };
  t.deepEqual(evaluate({ outcome: 'echoed', responder: 'target' }, noTarget).mismatches, ['expected the target pod to answer, saw manager/manager-b'], 'a probe to a service IP has no target pod to match');
  t.is(evaluate({ outcome: 'echoed', responder: 'target' }, observe([], { responder: undefined })).verdict, 'fail');
});

test('every mismatch alone fails a row: outcome, HTTP status, client and server cluster, name, flags, details, explain', (t) => {
  const good = observe([PASSTHROUGH_CLIENT, INBOUND_SERVER]);
  const cases: Array<[string, PathExpectation]> = [
    ['outcome', { ...BASELINE, outcome: 'refused' }],
    ['HTTP status', { ...BASELINE, httpStatus: 200 }],
    ['client kind', { ...BASELINE, client: { ...BASELINE.client!, cluster: 'outbound' } }],
    ['client name', { ...BASELINE, client: { ...BASELINE.client!, name: 'outbound|5701||*' } }],
    ['client flags', { ...BASELINE, client: { ...BASELINE.client!, flags: ['DC'] } }],
    ['client details', { ...BASELINE, client: { ...BASELINE.client!, details: 'via_upstream' } }],
    ['server kind', { ...BASELINE, server: { cluster: 'passthrough' } }],
    ['server name', { ...BASELINE, server: { cluster: 'inbound', name: 'inbound|8080||' } }],
    ['server flags', { ...BASELINE, server: { cluster: 'inbound', flags: ['UF'] } }],
    ['server absent', { ...BASELINE, server: 'absent' }],
    ['explain', { ...BASELINE, explain: 'captured' }],
    ['responder', { ...BASELINE, responder: 'nobody' }],
  ];
  t.is(evaluate(BASELINE, good).verdict, 'pass');
  for (const [what, want] of cases) {
    const e = evaluate(want, good);
    t.is(e.verdict, 'fail', what);
    t.is(e.mismatches.length, 1, `${what}: ${e.mismatches.join('; ')}`);
  }
});

test('a client expectation with no client entry fails, and says where the chain stopped', (t) => {
  const serverOnly = observe([INBOUND_SERVER]);
  const e = evaluate({ outcome: 'echoed', client: { cluster: 'passthrough' } }, serverOnly);
  t.is(e.verdict, 'fail');
  t.regex(e.mismatches[0], /^client sidecar: expected a passthrough entry, found none \(no client entry/);
});

test('responder by workload is the namespace, not a name that merely contains it', (t) => {
  const lookalike = observe([], { responder: { pod: 'app-1', namespace: 'manager', ip: '10.244.1.9', port: 5701, protocol: 'tcp' } });
  t.deepEqual(evaluate({ outcome: 'echoed', responder: 'app' }, lookalike).mismatches, ['expected a app pod to answer, saw manager/app-1']);
  const prefixed = observe([], { responder: { pod: 'x', namespace: 'app-ext', ip: '10.244.1.9', port: 5701, protocol: 'tcp' } });
  t.is(evaluate({ outcome: 'echoed', responder: 'app' }, prefixed).verdict, 'fail', 'app-ext is not app');
});

test('a server-only expectation needs the logs too: "absent" cannot pass on logs that were never read', (t) => {
  const noLogs: Observation = { result: result(), hops: null, targetPod: 'manager/manager-b', explain: null };
  t.deepEqual(evaluate({ outcome: 'echoed', server: 'absent' }, noLogs).mismatches, ['expected sidecar log entries, but the logs could not be read']);
  t.is(evaluate({ outcome: 'echoed', server: { cluster: 'inbound' } }, noLogs).verdict, 'fail');
});

test('cluster patterns match the whole name: no prefix or suffix slips through', (t) => {
  t.false(globMatches('PassthroughCluster', 'InboundPassthroughCluster'));
  t.false(globMatches('PassthroughCluster', 'PassthroughClusterIpv4'));
  t.false(globMatches('inbound|5701||', 'inbound|5701||manager.manager.svc.cluster.local'));
  t.false(globMatches('*app-ext', 'outbound|5701||app-ext.app.svc.cluster.local'));
  t.true(globMatches('*app-ext*', 'outbound|5701||app-ext.app.svc.cluster.local'));
});
