import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseLogText, type AccessLogEntry } from './index.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const parse = (name: string) => parseLogText(fixture(name), { source: name });

test('Istio 1.6-1.7 lines (mixer status field): every field in place', (t) => {
  const { entries, skipped } = parse('istio-1.6.log');
  t.is(skipped, 0);
  t.is(entries.length, 5);
  const [tcp, captured, http, passthrough, uh] = entries;
  t.like(tcp, {
    format: 'text-1.6', line: 1, startTime: '2020-07-23T14:26:27.081Z', method: null, path: null, protocol: null,
    responseCode: 0, responseFlags: [], upstreamTransportFailureReason: null, bytesReceived: 6, bytesSent: 0, durationMs: 506,
    upstreamServiceTimeMs: null, upstreamHost: '10.244.0.12:5701', upstreamCluster: 'outbound|5701||manager.manager.svc.cluster.local',
    upstreamLocalAddress: '10.244.0.11:40112', downstreamLocalAddress: '10.96.14.20:5701', downstreamRemoteAddress: '10.244.0.11:39874',
    requestedServerName: null, routeName: null,
  });
  t.deepEqual(tcp.cluster, { kind: 'outbound', direction: 'outbound', port: 5701, subset: null, service: 'manager.manager.svc.cluster.local' });
  t.deepEqual(captured.responseFlags, ['UF', 'URX']);
  t.is(captured.durationMs, 1000);
  t.is(captured.upstreamLocalAddress, null);
  t.is(captured.downstreamLocalAddress, '10.244.0.12:5701');
  t.like(http, {
    method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', responseCode: 200, upstreamServiceTimeMs: 2, userAgent: 'kube-probe/1.18',
    requestId: '5b7a2c1e-4f1d-9e3a-b0c2-7d8e9f0a1b2c', authority: '10.244.0.12:8080', upstreamHost: '127.0.0.1:8080',
    requestedServerName: 'outbound_.8080_._.app.app.svc.cluster.local', routeName: 'default',
  });
  // <1.8 inbound names carry the port name, not a subset.
  t.deepEqual(http.cluster, { kind: 'inbound', direction: 'inbound', port: 8080, subset: null, service: 'app.app.svc.cluster.local' });
  t.is(passthrough.cluster.kind, 'passthrough');
  // The mixer status (quoted, with spaces) is not the transport failure reason.
  t.like(uh, { responseCode: 503, responseFlags: ['UH'], upstreamTransportFailureReason: null, bytesReceived: 120, upstreamHost: null, upstreamLocalAddress: null });
});

test('Istio 1.8 lines: transport failure reason quoted, no details', (t) => {
  const { entries } = parse('istio-1.8.log');
  t.deepEqual(entries.map((e) => e.format), ['text-1.8', 'text-1.8', 'text-1.8', 'text-1.8']);
  t.like(entries[0], { upstreamServiceTimeMs: 11, bytesSent: 153, routeName: 'default', responseCodeDetails: null });
  t.deepEqual(entries[1].cluster, { kind: 'inbound', direction: 'inbound', port: 8080, subset: null, service: null });
  t.like(entries[2], { responseCode: 404, responseFlags: ['NR'], upstreamCluster: null, authority: '10.244.1.7:8080' });
  t.deepEqual(entries[2].cluster, { kind: 'other', direction: null, port: null, subset: null, service: null });
  t.like(entries[3], { upstreamTransportFailureReason: 'delayed connect error: 111', durationMs: 1001 });
});

test('Istio 1.9-1.22 lines: details, termination details, every special cluster', (t) => {
  const { entries } = parse('istio-1.9.log');
  t.is(entries.length, 7);
  t.like(entries[0], { format: 'text-1.9', responseCode: 418, responseCodeDetails: 'via_upstream', connectionTerminationDetails: null, authority: 'httpbin:8000' });
  t.like(entries[1], { responseFlags: ['NR'], responseCodeDetails: 'filter_chain_not_found', upstreamCluster: null, downstreamLocalAddress: '10.244.0.9:5701', downstreamRemoteAddress: '10.244.0.20:51234' });
  t.like(entries[2], { upstreamCluster: 'BlackHoleCluster', requestedServerName: 'example.com', downstreamLocalAddress: '93.184.216.34:443' });
  t.deepEqual(entries[2].cluster, { kind: 'blackhole', direction: 'outbound', port: null, subset: null, service: null });
  t.deepEqual(entries[3].cluster, { kind: 'inbound-passthrough', direction: 'inbound', port: null, subset: null, service: null });
  t.like(entries[4], { responseFlags: ['UC'], responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}', bytesReceived: 2048 });
  // Unknown flags are kept as printed.
  t.like(entries[5], { method: null, path: null, protocol: 'HTTP/1.1', responseCode: 400, responseCodeDetails: 'http1.codec_error' });
  t.deepEqual(entries[5].responseFlags, ['DPE', 'XYZ']);
  t.like(entries[6], { protocol: 'HTTP/2', xForwardedFor: '10.0.0.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', routeName: 'app-v2' });
  t.deepEqual(entries[6].cluster, { kind: 'outbound', direction: 'outbound', port: 8080, subset: 'v2', service: 'app.app.svc.cluster.local' });
});

test('Istio >=1.23 lines: the trailing ; after the cluster is stripped and marks the era', (t) => {
  const { entries } = parse('istio-1.23.log');
  t.like(entries[0], { format: 'text-1.23', upstreamCluster: 'outbound|5701||app-ext.app.svc.cluster.local', upstreamTransportFailureReason: 'delayed connect error: 111' });
  t.deepEqual(entries[0].cluster, { kind: 'outbound', direction: 'outbound', port: 5701, subset: null, service: 'app-ext.app.svc.cluster.local' });
  t.like(entries[1], { format: 'text-1.23', upstreamCluster: 'InboundPassthroughCluster' });
  t.is(entries[1].cluster.kind, 'inbound-passthrough');
  // Without either marker a >=1.23 line is indistinguishable from 1.9-1.22 (same fields).
  t.true(entries[2].format === 'text-1.9' || entries[2].format === 'text-1.23');
  t.is(entries[2].upstreamCluster, 'outbound|8080||manager-headless.manager.svc.cluster.local');
});

test('JSON lines: typed values, nulls, string numbers and "-", extra keys; other JSON logs skipped', (t) => {
  const { entries, skippedBy } = parse('istio-json.log');
  t.deepEqual(skippedBy, { 'not-access-log': 1 });
  t.is(entries.length, 3);
  t.like(entries[0], { format: 'json', method: null, responseCode: 0, durationMs: 1000, upstreamServiceTimeMs: null, upstreamLocalAddress: null, downstreamRemoteAddress: '10.244.1.5:43210' });
  t.deepEqual(entries[0].responseFlags, ['UF', 'URX']);
  t.like(entries[1], { responseCode: 200, bytesSent: 612, durationMs: 3, upstreamServiceTimeMs: 2, connectionTerminationDetails: null, requestedServerName: null, xForwardedFor: null });
  t.deepEqual(entries[1].responseFlags, []);
  t.is(entries[1].cluster.service, 'nginx.default.svc.cluster.local');
  t.like(entries[2], { responseCode: 503, responseCodeDetails: 'no_healthy_upstream', upstreamHost: null, line: 4 });
});

test("the seed's own lines (addresses cut out by the blog author) still give time, flags, cluster and pod", (t) => {
  const { entries, skipped } = parse('seed.log');
  t.is(skipped, 0);
  t.deepEqual(entries.map((e) => e.startTime), [
    '2020-07-23T14:26:27.081Z', '2020-07-23T14:26:27.081Z', '2020-07-23T14:26:08.632Z', '2020-07-23T14:26:08.634Z',
    '2020-07-23T14:39:12.587Z', '2020-07-23T14:39:13.590Z', '2020-07-23T14:47:24.040Z',
  ]);
  t.deepEqual(entries.map((e) => e.pod), [
    'manager-7948dffbdd-p44xx', 'manager-7948dffbdd-p44xx', 'manager-7948dffbdd-p44xx', 'manager-7948dffbdd-sh7rx',
    'manager-7948dffbdd-p44xx', 'manager-7948dffbdd-sh7rx', 'manager-7948dffbdd-p44xx',
  ]);
  t.deepEqual(entries.map((e) => e.cluster.kind), ['outbound', 'inbound', 'outbound', 'inbound', 'passthrough', 'inbound', 'outbound']);
  const last = entries[6];
  t.deepEqual(last.responseFlags, ['UF', 'URX']);
  t.like(last, { upstreamCluster: 'outbound|5701||', durationMs: 1000, upstreamHost: null, format: 'text-1.6' });
  t.deepEqual(last.cluster, { kind: 'outbound', direction: 'outbound', port: 5701, subset: null, service: null });
  t.is(entries[1].requestedServerName, 'outbound_.5701_._.manager.manager.svc.cluster.local');
  t.is(entries[1].cluster.service, 'manager.manager.svc.cluster.local');
});

test('every prefix style yields the same entry; pods come from --prefix and stern', (t) => {
  const { entries, skippedBy } = parse('prefixes.log');
  t.is(entries.length, 7);
  // Envoy's own log, pilot-agent's log and free text are skipped and counted; the blank line is ignored.
  t.deepEqual(skippedBy, { 'not-access-log': 3 });
  const strip = (e: AccessLogEntry) => ({ ...e, raw: '', line: 0, pod: null });
  for (const e of entries.slice(1)) t.deepEqual(strip(e), strip(entries[0]));
  t.deepEqual(entries.map((e) => e.pod), [null, null, 'sleep-7f9c8d6b5-x2x4q', 'sleep-7f9c8d6b5-x2x4q', 'sleep-7f9c8d6b5-x2x4q', 'sleep-7f9c8d6b5-x2x4q', 'sleep-7f9c8d6b5-x2x4q']);
  t.is(entries[0].responseCode, 418);
  // raw keeps the line as given (the evidence users recognise).
  t.true(entries[2].raw.startsWith('[pod/sleep-7f9c8d6b5-x2x4q/istio-proxy] '));
});

test('--format text / json skip lines of the other encoding', (t) => {
  const text = fixture('istio-1.9.log') + fixture('istio-json.log');
  const asText = parseLogText(text, { source: 'x', mode: 'text' });
  t.is(asText.entries.length, 7);
  t.is(asText.skippedBy['wrong-format'], 4);
  const asJson = parseLogText(text, { source: 'x', mode: 'json' });
  t.is(asJson.entries.length, 3);
  t.is(asJson.skippedBy['wrong-format'], 7);
});

test('truncated, garbage and Envoy info lines are skipped with a reason, never thrown', (t) => {
  const full = fixture('istio-1.9.log').split('\n')[0];
  const lines = [
    full.slice(0, 40), full.slice(0, 120), full.slice(0, full.indexOf('outbound|8000')),
    '\u0000\u0001\u0002binary\uFFFD\uFFFD', '[2023-03-10 08:15:29.000][15][warning][config] gRPC config stream closed',
    '{"start_time": "2024-01-01T00:00:00Z", "response_flags"', '[', '"', '{',
  ];
  const { entries, skippedBy } = parseLogText(lines.join('\n'), { source: 'x' });
  t.is(entries.length, 0);
  t.is((skippedBy.truncated ?? 0) + (skippedBy['not-access-log'] ?? 0), lines.length);
  t.true((skippedBy.truncated ?? 0) >= 4);
});

test('a custom format (meshConfig.accessLogFormat) with literal text, unknown operators kept as named fields', (t) => {
  const format = '[%START_TIME%] %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% attempts=%UPSTREAM_REQUEST_ATTEMPT_COUNT% cluster=%UPSTREAM_CLUSTER% src=%DOWNSTREAM_REMOTE_ADDRESS% dst=%DOWNSTREAM_LOCAL_ADDRESS% trace=%REQ(X-B3-TRACEID)%\n';
  const line = '[2024-09-01T12:00:00.000Z] GET /who code=503 flags=UF,URX attempts=2 cluster=outbound|8080||app.app.svc.cluster.local src=10.244.1.5:40000 dst=10.96.20.30:8080 trace=-';
  const { entries } = parseLogText(`[pod/manager-1/istio-proxy] ${line}\n`, { source: 'x', logFormat: format });
  t.is(entries.length, 1);
  const [e] = entries;
  t.like(e, { format: 'custom', pod: 'manager-1', startTime: '2024-09-01T12:00:00.000Z', method: 'GET', path: '/who', responseCode: 503, downstreamRemoteAddress: '10.244.1.5:40000', downstreamLocalAddress: '10.96.20.30:8080' });
  t.deepEqual(e.responseFlags, ['UF', 'URX']);
  t.is(e.cluster.service, 'app.app.svc.cluster.local');
  t.deepEqual(e.extra, { UPSTREAM_REQUEST_ATTEMPT_COUNT: '2', 'REQ(X-B3-TRACEID)': null });
});

test('custom formats: START_TIME with its own format, RESPONSE_FLAGS_LONG, JSON dictionaries', (t) => {
  const text = parseLogText('1700000000.123 UpstreamConnectionFailure,UpstreamRetryLimitExceeded PassthroughCluster\n', {
    source: 'x', logFormat: '%START_TIME(%s.%3f)% %RESPONSE_FLAGS_LONG% %UPSTREAM_CLUSTER_RAW%',
  });
  t.is(text.entries[0].startTime, '1700000000.123');
  t.deepEqual(text.entries[0].responseFlags, ['UF', 'URX']);
  t.is(text.entries[0].cluster.kind, 'passthrough');
  const dict = parseLogText('{"ts":"2024-01-01T00:00:00Z","flags":"NR","cluster":"-","attempts":1,"dst":"10.244.0.9:5701"}\n', {
    source: 'x', logFormat: '{"ts":"%START_TIME%","flags":"%RESPONSE_FLAGS%","cluster":"%UPSTREAM_CLUSTER%","attempts":"%UPSTREAM_REQUEST_ATTEMPT_COUNT%","dst":"%DOWNSTREAM_LOCAL_ADDRESS%"}',
  });
  t.like(dict.entries[0], { format: 'custom', startTime: '2024-01-01T00:00:00Z', upstreamCluster: null, downstreamLocalAddress: '10.244.0.9:5701' });
  t.deepEqual(dict.entries[0].responseFlags, ['NR']);
  t.deepEqual(dict.entries[0].extra, { UPSTREAM_REQUEST_ATTEMPT_COUNT: '1' });
});

test('a custom format podpath cannot split back is a usage error (exit 2), not a wrong parse', (t) => {
  const error = t.throws(() => parseLogText('x', { source: 'x', logFormat: '%START_TIME%%RESPONSE_FLAGS%' }));
  t.regex(error.message, /no text between them/);
  t.throws(() => parseLogText('x', { source: 'x', logFormat: 'no operators here' }), { message: /no command operators/ });
  t.throws(() => parseLogText('x', { source: 'x', logFormat: '{"a": ' }), { message: /not valid JSON/ });
});

test('older field counts (1.1-1.5): no %ROUTE_NAME%, with or without the transport failure reason', (t) => {
  // mixer status only, no route name (the 1.1-1.2 shape)
  const noTransport = '[2019-05-01T10:00:00.000Z] "GET /a HTTP/1.1" 200 - "-" 0 10 5 4 "-" "curl/7.58.0" "id-1" "app:8080" "10.44.1.7:8080" outbound|8080||app.app.svc.cluster.local 10.44.1.5:40000 10.0.20.30:8080 10.44.1.5:39990 -';
  // mixer status and transport failure reason, no route name
  const noRoute = '[2020-01-01T10:00:00.000Z] "- - -" 0 UF,URX "-" "delayed connect error: 111" 0 0 1000 - "-" "-" "-" "-" "10.44.2.9:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.44.1.8:5701 10.44.1.5:50100 -';
  const { entries } = parseLogText(`${noTransport}\n${noRoute}\n`, { source: 'x' });
  t.is(entries.length, 2);
  t.like(entries[0], { format: 'text-1.6', upstreamTransportFailureReason: null, bytesSent: 10, upstreamServiceTimeMs: 4, upstreamHost: '10.44.1.7:8080',
    upstreamLocalAddress: '10.44.1.5:40000', downstreamLocalAddress: '10.0.20.30:8080', downstreamRemoteAddress: '10.44.1.5:39990', requestedServerName: null, routeName: null });
  t.like(entries[1], { format: 'text-1.6', upstreamTransportFailureReason: 'delayed connect error: 111', upstreamLocalAddress: null,
    downstreamLocalAddress: '10.44.1.8:5701', downstreamRemoteAddress: '10.44.1.5:50100', routeName: null });
});

test('JSON lines with the trailing ; on upstream_cluster (istio/istio#54219, before #54224) are read like TEXT ones', (t) => {
  const line = '{"start_time":"2024-11-01T00:00:00.000Z","response_flags":"UF,URX","upstream_cluster":"outbound|5701||app-ext.app.svc.cluster.local;","downstream_local_address":"10.244.1.8:5701"}';
  const [e] = parseLogText(line, { source: 'x' }).entries;
  t.is(e.upstreamCluster, 'outbound|5701||app-ext.app.svc.cluster.local');
  t.is(e.cluster.service, 'app-ext.app.svc.cluster.local');
});
