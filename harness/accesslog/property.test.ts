import test from 'ava';
import fc from 'fast-check';
import {
  blankEntry, compileFormat, createLineParser, decodeCluster, entryToJson, FastJsonWriter, ISTIO_TEXT_FORMATS, KNOWN_FLAGS,
  parseLogText, renderEntry, type AccessLogEntry, type TextEra,
} from './index.ts';
import type { FieldName } from './types.ts';

// Values Envoy could print in each position: bare fields never hold whitespace or quotes, quoted
// fields never hold a quote; `-` and "" mean unset, so generated values are neither.
const bareChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/{}()+=-'.split(''));
const bare = fc.string({ unit: bareChar, minLength: 1, maxLength: 24 }).filter((s) => s !== '-');
const quotedText = fc.string({ minLength: 1, maxLength: 30, unit: fc.oneof(bareChar, fc.constantFrom(' ', ',', ';', 'é', '→', '\\', '[', ']')) })
  .filter((s) => s !== '-' && !s.includes('"'));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 3 });
const count = maybe(fc.nat({ max: 10_000_000 }));
const address = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 65535 })).map(([a, b, p]) => `10.244.${a}.${b}:${p}`);
const cluster = fc.oneof(
  fc.constantFrom('PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughClusterIpv4', 'InboundPassthroughCluster', 'inbound|8080||', 'inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local'),
  fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('', 'v1', 'v2'), fc.constantFrom('', 'app.app.svc.cluster.local', 'manager.manager.svc.cluster.local'))
    .map(([port, subset, fqdn]) => `outbound|${port}|${subset}|${fqdn}`),
);
const flags = fc.oneof(fc.constant([] as string[]), fc.uniqueArray(fc.oneof(fc.constantFrom(...KNOWN_FLAGS), fc.constantFrom('XYZ', 'NEWFLAG')), { minLength: 1, maxLength: 3 }));
const time = fc.date({ min: new Date('2019-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());

const entryArb = (era: TextEra) => fc.record({
  startTime: time, method: maybe(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE')), path: maybe(bare.map((s) => `/${s}`)),
  protocol: maybe(fc.constantFrom('HTTP/1.1', 'HTTP/2', 'HTTP/1.0')), responseCode: maybe(fc.integer({ min: 0, max: 599 })), responseFlags: flags,
  responseCodeDetails: era === 'text-1.6' || era === 'text-1.8' ? fc.constant(null) : maybe(bare),
  connectionTerminationDetails: era === 'text-1.6' || era === 'text-1.8' ? fc.constant(null) : maybe(bare),
  upstreamTransportFailureReason: maybe(quotedText), bytesReceived: count, bytesSent: count, durationMs: count, upstreamServiceTimeMs: count,
  xForwardedFor: maybe(quotedText), userAgent: maybe(quotedText), requestId: maybe(quotedText), authority: maybe(quotedText),
  upstreamHost: maybe(address), upstreamCluster: maybe(cluster), upstreamLocalAddress: maybe(address), downstreamLocalAddress: maybe(address),
  downstreamRemoteAddress: maybe(address), requestedServerName: maybe(bare), routeName: maybe(bare),
}).map((fields) => {
  const e = blankEntry('gen', 1, null, era, '', decodeCluster(fields.upstreamCluster));
  return Object.assign(e, fields);
});

const FIELDS: FieldName[] = ['startTime', 'method', 'path', 'protocol', 'responseCode', 'responseFlags', 'responseCodeDetails', 'connectionTerminationDetails',
  'upstreamTransportFailureReason', 'bytesReceived', 'bytesSent', 'durationMs', 'upstreamServiceTimeMs', 'xForwardedFor', 'userAgent', 'requestId',
  'authority', 'upstreamHost', 'upstreamCluster', 'upstreamLocalAddress', 'downstreamLocalAddress', 'downstreamRemoteAddress', 'requestedServerName', 'routeName'];
const pick = (e: AccessLogEntry, names: FieldName[] = FIELDS) => Object.fromEntries(names.map((n) => [n, e[n]]));

for (const era of Object.keys(ISTIO_TEXT_FORMATS) as TextEra[]) {
  test(`round trip: an entry formatted with Istio's ${era} format string parses back to the same entry`, (t) => {
    const compiled = compileFormat(ISTIO_TEXT_FORMATS[era]);
    fc.assert(fc.property(entryArb(era), (entry) => {
      const line = renderEntry(compiled, entry);
      const { entries } = parseLogText(line, { source: 'gen' });
      if (entries.length !== 1) return false;
      const [back] = entries;
      t.deepEqual(pick(back), pick(entry));
      t.deepEqual(back.cluster, decodeCluster(entry.upstreamCluster));
      // 1.9 and >=1.23 print the same fields; only a marker (`;`, InboundPassthroughCluster) tells them apart.
      t.true(back.format === era || (era === 'text-1.23' && back.format === 'text-1.9') || (era === 'text-1.9' && back.format === 'text-1.23'), `${era} read as ${back.format}`);
      return true;
    }), { numRuns: 150 });
  });
}

test('round trip: random custom format strings (operators, literal text between them) parse back', (t) => {
  const operators: [string, FieldName, fc.Arbitrary<unknown>][] = [
    ['START_TIME', 'startTime', time], ['REQ(:METHOD)', 'method', maybe(fc.constantFrom('GET', 'POST'))], ['PROTOCOL', 'protocol', maybe(fc.constantFrom('HTTP/1.1', 'HTTP/2'))],
    ['RESPONSE_CODE', 'responseCode', maybe(fc.integer({ min: 0, max: 599 }))], ['RESPONSE_FLAGS', 'responseFlags', flags],
    ['UPSTREAM_CLUSTER', 'upstreamCluster', maybe(cluster)], ['DOWNSTREAM_REMOTE_ADDRESS', 'downstreamRemoteAddress', maybe(address)],
    ['DOWNSTREAM_LOCAL_ADDRESS', 'downstreamLocalAddress', maybe(address)], ['UPSTREAM_HOST', 'upstreamHost', maybe(address)],
    ['DURATION', 'durationMs', count], ['REQ(X-REQUEST-ID)', 'requestId', maybe(bare)], ['ROUTE_NAME', 'routeName', maybe(bare)],
  ];
  // Separators never occur inside generated values (no spaces, | or ; in them).
  const separator = fc.constantFrom(' ', ' | ', '; ', ' x=', '" "', ' ;; ');
  const formatArb = fc.uniqueArray(fc.nat({ max: operators.length - 1 }), { minLength: 1, maxLength: operators.length })
    .chain((indexes) => fc.tuple(fc.constant(indexes), fc.array(separator, { minLength: indexes.length, maxLength: indexes.length }),
      fc.tuple(...indexes.map((i) => operators[i][2]))));
  fc.assert(fc.property(formatArb, ([indexes, separators, values]) => {
    let format = '<';
    indexes.forEach((i, k) => (format += `%${operators[i][0]}%${k < indexes.length - 1 ? separators[k] : '>'}`));
    const entry = blankEntry('gen', 1, null, 'custom', '', decodeCluster(null));
    indexes.forEach((i, k) => Object.assign(entry, { [operators[i][1]]: values[k] }));
    const compiled = compileFormat(format);
    const { entries } = parseLogText(renderEntry(compiled, entry), { source: 'gen', logFormat: format });
    t.is(entries.length, 1, format);
    t.deepEqual(pick(entries[0]), pick(entry), format);
    return true;
  }), { numRuns: 200 });
});

test('the --json fast path writes exactly what entryToJson writes, prefixes, escapes and all', (t) => {
  const prefix = fc.constantFrom('', '2024-01-01T00:00:00.123456789Z ', '[pod/manager-1/istio-proxy] ', 'manager-1 istio-proxy ', 'ns manager-1 istio-proxy ', '[pod/x/y] 2024-01-01T00:00:00Z ',
    '\x1b[32mmanager-1\x1b[0m \x1b[34mistio-proxy\x1b[0m ', '\x1b[1;33mns\x1b[0m \x1b[32mmanager-1\x1b[0m istio-proxy ', '\x1b\x1b[0m[1mmanager-1 istio-proxy ');
  const eraArb = fc.constantFrom(...(Object.keys(ISTIO_TEXT_FORMATS) as TextEra[]));
  const lineArb = eraArb.chain((era) => fc.tuple(prefix, entryArb(era).map((e) => renderEntry(compileFormat(ISTIO_TEXT_FORMATS[era]), e))))
    .map(([p, l]) => p + l);
  // Colour codes dropped anywhere into a line: the string path strips them all before parsing.
  const coloured = fc.tuple(lineArb, fc.nat(), fc.constantFrom('\x1b[0m', '\x1b[1;31m', '\x1b[', '\x1b')).map(([l, at, code]) => {
    const i = at % (l.length + 1);
    return l.slice(0, i) + code + l.slice(i);
  });
  const noise = fc.oneof(lineArb, lineArb, lineArb, coloured, fc.string({ maxLength: 80 }).map((s) => s.replace(/\n/g, ' ')));
  // --pod names lines without a prefix; the fast path bakes it into its per-shape templates.
  const podArb = fc.constantFrom(null, 'web-1', 'odd"pod');
  fc.assert(fc.property(fc.array(noise, { minLength: 1, maxLength: 8 }), podArb, (lines, defaultPod) => {
    const parser = createLineParser();
    let expected = '';
    let expectedEntries = 0;
    lines.forEach((line, i) => {
      if (line.replace(/\r$/, '') === '') return;
      const r = parser.parse(line.replace(/\r$/, ''), i + 1, 'f.log', defaultPod);
      if (typeof r !== 'string') {
        expected += entryToJson(r) + '\n';
        expectedEntries++;
      }
    });
    let entries = 0;
    const writer = new FastJsonWriter({ source: 'f.log', defaultPod, parser: createLineParser(), sink: { onEntry: () => void entries++, onSkip: () => {} }, capacity: 256 });
    lines.forEach((line, i) => {
      const b = Buffer.from(line, 'utf8');
      writer.write(b, 0, b.length, i + 1);
    });
    const actual = Buffer.concat(writer.take()).toString('utf8');
    t.is(actual, expected);
    t.is(entries, expectedEntries);
    return true;
  }), { numRuns: 300 });
});

test('fast path edge cases: leading zeros, escapes, tabs, non-ASCII and a line split into a carry buffer', (t) => {
  const lines = [
    '[2024-01-01T00:00:00.000Z] "GET /a HTTP/1.1" 200 - via_upstream - "-" 007 0 00 - "-" "curl" "id" "h" "10.0.0.1:80" outbound|80||a.b.svc.cluster.local 10.0.0.2:1 10.0.0.1:80 10.0.0.3:2 - default',
    '[2024-01-01T00:00:00.000Z] "GET /a HTTP/1.1" 200 - via_upstream - "-" 1 2 3 4 "-" "agent \\\\ with\tbackslash" "id" "h" "-" - - - - - -',
    '[2024-01-01T00:00:00.000Z] "GET /é HTTP/1.1" 200 - via_upstream - "-" 1 2 3 4 "-" "naïve → agent" "id" "h" "-" - - - - - -',
    '[2024-01-01T00:00:00.000Z] "GET /a HTTP/1.1" 200 UF,,URX via_upstream - "-" 1 2 3 4 "-" "a" "id" "h" "-" - - - - - -',
  ];
  const parser = createLineParser();
  // Line numbers of every width: the fast path writes their digits itself.
  const numbers = [1, 10, 909, 1234567];
  const expected = lines.map((l, i) => {
    const r = parser.parse(l, numbers[i], 'f', null);
    return typeof r === 'string' ? '' : entryToJson(r) + '\n';
  }).join('');
  t.regex(expected, /"bytesReceived":7,"bytesSent":0,"durationMs":0/);
  const writer = new FastJsonWriter({ source: 'f', defaultPod: null, parser: createLineParser(), sink: { onEntry: () => {}, onSkip: () => {} } });
  lines.forEach((l, i) => {
    // Each line sits in the middle of a larger buffer, as lines do in a read chunk.
    const b = Buffer.from(`xx\n${l}\nyy`, 'utf8');
    writer.write(b, 3, 3 + Buffer.byteLength(l), numbers[i]);
  });
  t.is(Buffer.concat(writer.take()).toString('utf8'), expected);
});

test('fast path: stern-coloured prefixes are stripped on the byte path, with the bytes of the string path', (t) => {
  const body = '[2023-03-10T08:15:30.123Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 3 "-" "curl/7.88.1" "7e6c1f3a" "httpbin:8000" "10.244.0.9:80" outbound|8000||httpbin.default.svc.cluster.local 10.244.0.8:36922 10.96.120.5:8000 10.244.0.8:47436 - default';
  const lines = [
    `\x1b[32msleep-7f9c8d6b5-x2x4q\x1b[0m \x1b[34mistio-proxy\x1b[0m ${body}`,
    `\x1b[1;33mdefault\x1b[0m \x1b[32msleep-7f9c8d6b5-x2x4q\x1b[0m \x1b[34mistio-proxy\x1b[0m ${body}`,
    // Not a complete code: kept, so the pod name has a control byte and the string path decides.
    `\x1b[32msleep-7f9c8d6b5-x2x4q\x1b[ istio-proxy ${body}`,
  ];
  const parser = createLineParser();
  const expected = lines.map((l, i) => {
    const r = parser.parse(l, i + 1, 'f', null);
    return typeof r === 'string' ? '' : entryToJson(r) + '\n';
  }).join('');
  t.regex(expected, /"pod":"sleep-7f9c8d6b5-x2x4q"/);
  let slow = 0;
  const counting = createLineParser();
  const spy = { ...counting, parse: (...args: Parameters<typeof counting.parse>) => (slow++, counting.parse(...args)) };
  const writer = new FastJsonWriter({ source: 'f', defaultPod: null, parser: spy, sink: { onEntry: () => {}, onSkip: () => {} } });
  lines.forEach((l, i) => {
    const b = Buffer.from(`xx\n${l}\nyy`, 'utf8');
    writer.write(b, 3, 3 + Buffer.byteLength(l), i + 1);
  });
  t.is(Buffer.concat(writer.take()).toString('utf8'), expected);
  // Only the line with the broken code needed the string path.
  t.is(slow, 1);
});
