// Lines people posted in public issues (fixtures/real/SOURCES.md says where each comes from):
// what a new user pastes, with the prefixes, wraps and quotes it really has.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { diagnose, parseLogText, type AccessLogEntry, type Diagnosis } from './index.ts';

const dir = new URL('./fixtures/real/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const parse = (name: string) => parseLogText(read(name), { source: name });
const diagnosed = (name: string): Diagnosis[] => diagnose(parse(name).entries);
const find = (ds: Diagnosis[], id: string) => ds.find((d) => d.id === id);
const errors = (ds: Diagnosis[]) => ds.filter((d) => d.severity === 'error').map((d) => d.id);

test('k9s copy of an egress-gateway UF,URX: borders stripped, the wrapped address joined, and no capture error', (t) => {
  const r = parse('egress-gateway-k9s-wrapped.log');
  t.is(r.entries.length, 1);
  t.is(r.joined, 1);
  t.is(r.skipped, 0);
  const e = r.entries[0];
  t.is(e.joinedLines, 2);
  t.is(e.line, 1);
  t.is(e.downstreamLocalAddress, '142.250.203.132:443');
  t.is(e.downstreamRemoteAddress, '172.17.0.6:37482');
  t.is(e.cluster.subset, 'google');
  const ds = diagnose(r.entries);
  // A subset route through the egress gateway is a VirtualService's choice, not a port-wide listener.
  t.false(ds.some((d) => d.id.startsWith('pod-ip-capture')));
  t.deepEqual(errors(ds), []);
  t.is(find(ds, 'upstream-connect-failed')?.severity, 'warning');
});

test('UF,URX on inbound|PORT|| to 127.0.0.1: the app is not listening on that port', (t) => {
  const r = parse('inbound-loopback-uf.log');
  t.is(r.entries.length, 2);
  t.is(r.skippedBy['not-access-log'], 2);
  const ds = diagnose(r.entries);
  const d = find(ds, 'app-not-listening');
  t.is(d?.severity, 'error');
  t.is(d?.count, 1);
  t.regex(d?.meaning ?? '', /127\.0\.0\.1:12950 \(loopback: nothing listens on 12950\)/);
  t.false(ds.some((x) => x.id.startsWith('pod-ip-capture')));
});

test('inbound refusals to the pod IP: InboundPassthroughClusterIpv4 and an HTTP 503 UF on inbound|8080||', (t) => {
  const ds = diagnosed('inbound-pod-ip-refused.log');
  const passthrough = find(ds, 'passthrough-connect-failed');
  t.is(passthrough?.count, 1);
  t.regex(passthrough?.meaning ?? '', /refused \(connect error 111/);
  const app = find(ds, 'app-not-listening');
  t.is(app?.count, 1);
  t.regex(app?.meaning ?? '', /100\.72\.2\.83:8080 \(the pod IP: an app bound to 127\.0\.0\.1 only refuses it\)/);
  // UF is a connect failure, not a reset after connecting.
  t.falsy(find(ds, 'upstream-reset-before-response'));
});

test('UF,URX after ~10 s on InboundPassthroughCluster names the connect timeout, at warning', (t) => {
  const ds = diagnosed('passthrough-connect-timeout.log');
  const d = find(ds, 'passthrough-connect-failed');
  t.is(d?.count, 4);
  t.is(d?.severity, 'warning');
  t.regex(d?.meaning ?? '', /no answer for 9995 ms: the connect timeout \(connectTimeout, 10s by default\) expired/);
  t.deepEqual(errors(ds), []);
});

test("kubetail's [POD CONTAINER] prefix on JSON; UH with no cluster is a REGISTRY_ONLY drop, not 'no ready pods'", (t) => {
  const r = parse('registry-only-uh-kubetail.log');
  t.is(r.entries.length, 1);
  t.is(r.entries[0].pod, 'ubuntu');
  const ds = diagnose(r.entries);
  const d = find(ds, 'blackhole');
  t.true(d?.inferred);
  t.regex(d?.meaning ?? '', /not a Service without ready pods/);
  t.falsy(find(ds, 'no-healthy-upstream'));
});

test('BlackHoleCluster with UH gets one diagnosis, not a second no-healthy-upstream', (t) => {
  const ds = diagnosed('blackhole-uh.json.log');
  t.deepEqual(ds.map((d) => d.id), ['blackhole']);
  t.false(ds[0].inferred);
});

test('UF,URX where Envoy dialled the very address the app asked for (headless): a connect failure, never a capture', (t) => {
  const ds = diagnosed('headless-uf-urx.json.log');
  t.false(ds.some((d) => d.id.startsWith('pod-ip-capture')));
  const d = find(ds, 'upstream-connect-failed');
  t.is(d?.count, 2);
  t.regex(d?.meaning ?? '', /10\.233\.92\.3:2181 \(the address the app dialled: an original-destination cluster, as a headless Service builds\)/);
});

test('JSON pasted over three lines is joined back into the same entry', (t) => {
  const whole = parse('headless-uf-urx.json.log').entries[0];
  const r = parse('json-split.log');
  t.is(r.entries.length, 1);
  t.is(r.skipped, 0);
  t.is(r.entries[0].joinedLines, 3);
  const strip = (e: AccessLogEntry) => ({ ...e, source: '', raw: '', joinedLines: undefined });
  t.deepEqual(strip(r.entries[0]), strip(whole));
});

test('server-side NR filter_chain_not_found (STRICT mTLS) is exact; typographic quotes read the same', (t) => {
  const plain = parse('strict-mtls-nr.log');
  t.is(plain.entries.length, 3);
  t.is(find(diagnose(plain.entries), 'plaintext-to-strict-mtls')?.count, 3);
  const curly = parse('typographic-quotes.log');
  t.is(curly.entries.length, 1);
  const strip = (e: AccessLogEntry) => ({ ...e, source: '', line: 0, raw: '' });
  t.deepEqual(strip(curly.entries[0]), strip(plain.entries[0]));
});

test('k9s rows with padded │ columns parse like raw lines', (t) => {
  const r = parse('k9s-nr-passthrough.log');
  t.is(r.entries.length, 4);
  t.is(r.entries[3].upstreamCluster, 'PassthroughCluster');
  t.is(r.entries[3].routeName, null);
  const ds = diagnose(r.entries);
  t.is(find(ds, 'plaintext-to-strict-mtls')?.count, 3);
  t.is(find(ds, 'passthrough')?.count, 1);
});

test('a 1.9+ line cut before %ROUTE_NAME% (wrapped inside the SNI) is truncated, never an entry with a cut SNI', (t) => {
  const r = parse('wrapped-sni.log');
  t.is(r.entries.length, 0);
  t.is(r.skippedBy.truncated, 1);
});

test('kubectl --timestamps with 1.7-era lines: entries, and nothing above info', (t) => {
  const r = parse('timestamps-1.7-inbound.log');
  t.is(r.entries.length, 3);
  t.is(r.entries[0].cluster.kind, 'inbound');
  t.is(r.entries[0].cluster.subset, null);
  t.deepEqual(diagnose(r.entries).filter((d) => d.severity !== 'info').map((d) => d.id), []);
});

// The errors a maintainer reading each real line would agree with, and nothing else.
const EXPECTED_ERRORS: Record<string, string[]> = {
  'egress-gateway-k9s-wrapped.log': [],
  'inbound-loopback-uf.log': ['app-not-listening'],
  'inbound-pod-ip-refused.log': ['app-not-listening'],
  'passthrough-connect-timeout.log': [],
  'registry-only-uh-kubetail.log': ['blackhole'],
  'blackhole-uh.json.log': ['blackhole'],
  'headless-uf-urx.json.log': [],
  'json-split.log': [],
  'strict-mtls-nr.log': ['plaintext-to-strict-mtls'],
  'typographic-quotes.log': ['plaintext-to-strict-mtls'],
  'k9s-nr-passthrough.log': ['plaintext-to-strict-mtls'],
  'wrapped-sni.log': [],
  'timestamps-1.7-inbound.log': [],
  'follow-client.log': [],
};

test('every real fixture raises exactly the errors listed for it, and every fixture is listed and cited', (t) => {
  const sources = read('SOURCES.md');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    t.true(name in EXPECTED_ERRORS, `${name} has no expectation`);
    t.true(sources.includes(`\`${name}\``), `${name} is not in SOURCES.md`);
    t.deepEqual(errors(diagnosed(name)), EXPECTED_ERRORS[name], name);
  }
});

test('kubetail prefixes also in front of a custom format (--log-format)', (t) => {
  const format = '%START_TIME% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %DOWNSTREAM_LOCAL_ADDRESS%';
  const r = parseLogText('[payments-7d9f8-x2x4q istio-proxy] 2024-05-01T10:00:00.000Z UF,URX outbound|5432||db.example.com 10.0.3.4:5432\n', { source: 'k', logFormat: format });
  t.is(r.entries.length, 1);
  t.is(r.entries[0].pod, 'payments-7d9f8-x2x4q');
  t.deepEqual(r.entries[0].responseFlags, ['UF', 'URX']);
});

test('curled quotes in a pasted JSON line read like straight ones', (t) => {
  const straight = read('registry-only-uh-kubetail.log');
  const curly = straight.replace(/"([^"]*)"/g, '\u201C$1\u201D');
  t.not(curly, straight);
  const a = parseLogText(straight, { source: 's' }).entries;
  const b = parseLogText(curly, { source: 's' }).entries;
  t.is(b.length, 1);
  t.deepEqual({ ...b[0], raw: '' }, { ...a[0], raw: '' });
});

test('a TCP UH without a cluster to a private address stays no-healthy-upstream, and says it may be a REGISTRY_ONLY drop', (t) => {
  const line = read('registry-only-uh-kubetail.log').replace('13.249.75.75:443', '10.96.14.20:5432');
  const ds = diagnose(parseLogText(line, { source: 'p' }).entries);
  t.falsy(find(ds, 'blackhole'));
  t.regex(find(ds, 'no-healthy-upstream')?.meaning ?? '', /REGISTRY_ONLY it may also be BlackHoleCluster/);
});
