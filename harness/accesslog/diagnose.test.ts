import test from 'ava';
import { readFileSync } from 'node:fs';
import { diagnose, loadInventory, parseLogText, SIGNATURE_IDS, type Diagnosis } from './index.ts';

const inventory = JSON.parse(readFileSync(new URL('./fixtures/inventory.json', import.meta.url), 'utf8')) as unknown;
const T = (rest: string) => `[2024-09-01T12:00:00.000Z] ${rest}`;
const run = (lines: string[], withInventory = false): Diagnosis[] =>
  diagnose(parseLogText(lines.join('\n'), { source: 't' }).entries, withInventory ? { inventory } : {});
const ids = (ds: Diagnosis[]) => ds.map((d) => d.id);
const find = (ds: Diagnosis[], id: string) => ds.find((d) => d.id === id);

// 1.9+ TCP line to a pod IP captured by a service listener (the seed, with addresses).
const CAPTURED = T('"- - -" 0 UF,URX - - "delayed connect error: 111" 0 0 1000 - "-" "-" "-" "-" "10.96.33.7:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.1.8:5701 10.244.1.5:43300 - -');
// Same flags to the service's own ClusterIP: a real upstream failure, not a capture.
const REAL_FAILURE = T('"- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.244.1.7:5701" outbound|5701||app.app.svc.cluster.local - 10.96.20.30:5701 10.244.1.5:43301 - -');
const HEALTHY = T('"- - -" 0 - - - "-" 12 12 3 - "-" "-" "-" "-" "10.244.1.9:5701" outbound|5701||manager.manager.svc.cluster.local 10.244.1.5:44444 10.96.14.20:5701 10.244.1.5:43210 - -');

test('every signature has an id, severity, meaning and fixes', (t) => {
  t.true(SIGNATURE_IDS.includes('pod-ip-captured-by-service-listener'));
  for (const id of ['passthrough', 'blackhole', 'plaintext-to-strict-mtls', 'upstream-reset-before-response', 'no-healthy-upstream', 'no-route']) t.true(SIGNATURE_IDS.includes(id), id);
});

test('pod-ip-captured-by-service-listener: exact with an inventory, with the seed fixes', (t) => {
  const d = find(run([CAPTURED], true), 'pod-ip-captured-by-service-listener');
  t.truthy(d);
  t.is(d?.severity, 'error');
  t.false(d?.inferred);
  t.is(d?.count, 1);
  t.is(d?.evidence[0].line, 1);
  t.regex(d?.meaning ?? '', /10\.244\.1\.8:5701 \(pod manager\/manager-7948dffbdd-sh7rx\)/);
  t.regex(d?.meaning ?? '', /app-ext\.app\.svc\.cluster\.local is an ExternalName Service/);
  const fixes = (d?.fixes ?? []).join('\n');
  for (const fix of [/Drop the colliding TCP port/, /VirtualService/, /exportTo: "\."/, /Sidecar resource/, /distinct ports/, /TLS with SNI/]) t.regex(fixes, fix);
});

test('without an inventory a capture is only possible: info, never the error, and it says what would settle it', (t) => {
  const ds = run([CAPTURED]);
  t.false(ids(ds).includes('pod-ip-captured-by-service-listener'));
  const d = find(ds, 'pod-ip-capture-possible');
  t.is(d?.severity, 'info');
  t.true(d?.inferred);
  t.regex(d?.meaning ?? '', /--inventory/);
});

test("the seed's own line (addresses cut) is a possible capture, not a confirmed one", (t) => {
  const seed = readFileSync(new URL('./fixtures/seed.log', import.meta.url), 'utf8').split('\n');
  const ds = run(seed);
  t.is(find(ds, 'pod-ip-capture-possible')?.count, 1);
  t.false(ids(ds).includes('pod-ip-captured-by-service-listener'));
  t.false(ds.some((d) => d.severity === 'error'));
});

test('pod-ip-captured-by-service-listener: negative when the address is an endpoint or ClusterIP of the service, or HTTP', (t) => {
  t.false(ids(run([REAL_FAILURE], true)).includes('pod-ip-captured-by-service-listener'));
  t.false(ids(run([HEALTHY], true)).includes('pod-ip-captured-by-service-listener'));
  const http = T('"GET / HTTP/1.1" 503 UF,URX via_upstream - "-" 0 0 1000 - "-" "curl" "id" "10.244.1.8:8080" "10.96.33.7:8080" outbound|8080||app-ext.app.svc.cluster.local - 10.244.1.8:8080 10.244.1.5:43300 - default');
  t.false(ids(run([http], true)).includes('pod-ip-captured-by-service-listener'));
  // Without inventory: Envoy connected to exactly the address the app asked for, so nothing was captured.
  const direct = T('"- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.244.1.8:5701" outbound|5701||manager-headless.manager.svc.cluster.local - 10.244.1.8:5701 10.244.1.5:43302 - -');
  t.false(ids(run([direct])).includes('pod-ip-captured-by-service-listener'));
});

test('passthrough: info on PassthroughCluster, none otherwise', (t) => {
  const pt = T('"- - -" 0 - - - "-" 6 0 20 - "-" "-" "-" "-" "10.244.1.8:5701" PassthroughCluster 10.244.1.5:45555 10.244.1.8:5701 10.244.1.5:43400 - -');
  const d = find(run([pt]), 'passthrough');
  t.is(d?.severity, 'info');
  t.false(d?.inferred);
  t.deepEqual(ids(run([HEALTHY])), []);
});

test('blackhole: BlackHoleCluster is an error; none for other clusters', (t) => {
  const bh = T('"- - -" 0 - - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 93.184.216.34:443 10.244.1.5:51000 - -');
  t.is(find(run([bh]), 'blackhole')?.severity, 'error');
  t.false(ids(run([HEALTHY])).includes('blackhole'));
});

test('plaintext-to-strict-mtls: inbound NR filter_chain_not_found; HTTP NR is no-route instead', (t) => {
  const reject = T('"- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.8:5701 10.244.1.5:45555 - -');
  const d = find(run([reject]), 'plaintext-to-strict-mtls');
  t.false(d?.inferred);
  const httpNr = T('"GET / HTTP/1.1" 404 NR route_not_found - "-" 0 0 0 - "-" "curl" "id" "10.244.1.8:8080" "-" - - 10.244.1.8:8080 10.244.1.5:45556 - -');
  const ds = run([httpNr]);
  t.false(ids(ds).includes('plaintext-to-strict-mtls'));
  t.is(find(ds, 'no-route')?.severity, 'warning');
  // 1.6-1.8 print no details: same shape, marked inferred.
  const old = '[2020-12-01T10:00:00.000Z] "- - -" 0 NR "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.8:5701 10.244.1.5:45557 - -';
  t.true(find(run([old]), 'plaintext-to-strict-mtls')?.inferred);
});

test('upstream-reset-before-response: UC or URX on HTTP; not on TCP', (t) => {
  const uc = T('"POST /x HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 10 95 12 - "-" "curl" "id" "app:8080" "10.244.1.7:8080" outbound|8080||app.app.svc.cluster.local 10.244.1.5:49000 10.96.20.30:8080 10.244.1.5:48990 - default');
  t.truthy(find(run([uc]), 'upstream-reset-before-response'));
  t.false(ids(run([CAPTURED])).includes('upstream-reset-before-response'));
});

test('no-healthy-upstream: UH; none without it', (t) => {
  const uh = T('"GET / HTTP/1.1" 503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl" "id" "idle:8080" "-" outbound|8080||idle.idle.svc.cluster.local - 10.96.33.7:8080 10.244.1.5:52000 - default');
  t.is(find(run([uh]), 'no-healthy-upstream')?.count, 1);
  t.false(ids(run([HEALTHY, CAPTURED])).includes('no-healthy-upstream'));
});

test('unknown response flags are reported as such', (t) => {
  const odd = T('"- - -" 0 ZZZ - - "-" 0 0 0 - "-" "-" "-" "-" "-" PassthroughCluster - 10.244.1.8:5701 10.244.1.5:1 - -');
  t.truthy(find(run([odd]), 'unknown-response-flag'));
});

test('evidence is capped while the count is not', (t) => {
  const d = find(run(Array.from({ length: 50 }, () => CAPTURED), true), 'pod-ip-captured-by-service-listener');
  t.is(d?.count, 50);
  t.is(d?.evidence.length, 20);
});

test('a bad inventory is a usage error', (t) => {
  t.throws(() => loadInventory({ kind: 'Pod' }), { message: /not a Kubernetes list/ });
});

test('pod-ip-captured-by-service-listener reads UF, URX and UH: each alone is enough, other flags are not', (t) => {
  const captured = (flags: string) => T(`"- - -" 0 ${flags} - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.33.7:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.1.8:5701 10.244.1.5:43300 - -`);
  for (const flags of ['UF', 'URX', 'UH', 'UF,URX']) {
    t.is(find(run([captured(flags)], true), 'pod-ip-captured-by-service-listener')?.inferred, false, flags);
    // The log alone cannot confirm a capture: only the 'possible' signature, never the error.
    t.false(ids(run([captured(flags)])).includes('pod-ip-captured-by-service-listener'), `${flags} without inventory`);
    t.truthy(find(run([captured(flags)]), 'pod-ip-capture-possible'), `${flags} without inventory`);
  }
  for (const flags of ['DC', 'UT', 'UO', 'NR']) {
    t.false(ids(run([captured(flags)], true)).includes('pod-ip-captured-by-service-listener'), flags);
    t.false(ids(run([captured(flags)])).includes('pod-ip-capture-possible'), `${flags} without inventory`);
  }
});

test('pod-ip-captured-by-service-listener: only outbound TCP entries; passthrough and inbound with UF are something else', (t) => {
  const withCluster = (cluster: string) => T(`"- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.33.7:5701" ${cluster} - 10.244.1.8:5701 10.244.1.5:43300 - -`);
  for (const cluster of ['PassthroughCluster', 'inbound|5701||', 'BlackHoleCluster']) t.false(ids(run([withCluster(cluster)], true)).includes('pod-ip-captured-by-service-listener'), cluster);
});

test('plaintext-to-strict-mtls uses the connection termination details: exact even when the response details say nothing or something else', (t) => {
  const reject = (details: string, termination: string) => T(`"- - -" 0 NR ${details} ${termination} "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.8:5701 10.244.1.5:45555 - -`);
  const [entry] = parseLogText(reject('-', 'filter_chain_not_found'), { source: 't' }).entries;
  t.is(entry.connectionTerminationDetails, 'filter_chain_not_found', 'the line carries it where the format puts it');
  t.is(entry.responseCodeDetails, null);
  t.is(find(run([reject('-', 'filter_chain_not_found')]), 'plaintext-to-strict-mtls')?.inferred, false, 'termination details alone confirm it');
  t.is(find(run([reject('other_details', 'filter_chain_not_found')]), 'plaintext-to-strict-mtls')?.inferred, false);
  t.false(ids(run([reject('other_details', '-')])).includes('plaintext-to-strict-mtls'), 'other details and no termination details: not this reject');
  t.is(find(run([reject('-', '-')]), 'plaintext-to-strict-mtls')?.inferred, true, 'no details at all: inferred');
  // An outbound NR is the client side's business, never the server's reject.
  const outbound = T('"- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" PassthroughCluster - 10.244.1.8:5701 10.244.1.5:45555 - -');
  t.false(ids(run([outbound])).includes('plaintext-to-strict-mtls'));
});

test('HTTP signatures: URX alone is a reset before the response; NR on TCP is never "no route"; a method alone makes a line HTTP', (t) => {
  const urx = T('"GET /x HTTP/1.1" 503 URX upstream_reset_before_response_started{remote_reset} - "-" 0 95 12 - "-" "curl" "id" "app:8080" "10.244.1.7:8080" outbound|8080||app.app.svc.cluster.local 10.244.1.5:49000 10.96.20.30:8080 10.244.1.5:48990 - default');
  t.truthy(find(run([urx]), 'upstream-reset-before-response'), 'URX without UC');
  const tcpReject = T('"- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.8:5701 10.244.1.5:45555 - -');
  t.false(ids(run([tcpReject])).includes('no-route'), 'a TCP reject is not a missing HTTP route');
  // No protocol printed, but a method: still an HTTP request, so NR is a missing route and not a TLS reject.
  const methodOnly = T('"GET /x -" 404 NR route_not_found - "-" 0 0 0 - "-" "curl" "id" "10.244.1.8:8080" "-" - - 10.244.1.8:8080 10.244.1.5:45556 - -');
  const [entry] = parseLogText(methodOnly, { source: 't' }).entries;
  t.is(entry.method, 'GET');
  t.is(entry.protocol, null);
  const ds = run([methodOnly]);
  t.truthy(find(ds, 'no-route'));
  t.false(ids(ds).includes('plaintext-to-strict-mtls'));
});

test('capture signatures need the catch-all shape: outbound cluster, another address than dialled, a Service without its own IP', (t) => {
  const captureIds = ['pod-ip-captured-by-service-listener', 'pod-ip-capture-possible'];
  const none = (lines: string[], withInventory: boolean) => ids(run(lines, withInventory)).filter((id) => captureIds.includes(id));
  const line = (cluster: string, upstreamHost: string, flags = 'UF,URX') =>
    T(`"- - -" 0 ${flags} - - "-" 0 0 1000 - "-" "-" "-" "-" "${upstreamHost}" ${cluster} - 10.244.1.8:5701 10.244.1.5:43300 - -`);
  for (const withInventory of [false, true]) {
    // A refused passthrough or inbound connection is the destination's doing, not a listener's.
    t.deepEqual(none([line('PassthroughCluster', '10.244.1.8:5701')], withInventory), [], `passthrough, inventory ${withInventory}`);
    t.deepEqual(none([line('inbound|5701||', '127.0.0.6:5701')], withInventory), [], `inbound, inventory ${withInventory}`);
    // Envoy dialled exactly the address the app asked for (ORIGINAL_DST): nothing was redirected.
    t.deepEqual(none([line('outbound|5701||app-ext.app.svc.cluster.local', '10.244.1.8:5701')], withInventory), [], `direct, inventory ${withInventory}`);
  }
  // The pod is an endpoint of the Service whose cluster was used: its own Service, not a capture.
  t.deepEqual(none([line('outbound|5701||manager.manager.svc.cluster.local', '-', 'UH')], true), []);
  // A ClusterIP Service listens on its own IP only, so a pod IP in its cluster is at most possible.
  t.deepEqual(none([line('outbound|5701||app.app.svc.cluster.local', '10.96.20.30:5701')], true), ['pod-ip-capture-possible']);
});
