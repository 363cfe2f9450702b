/**
 * Generated access-log inputs shared by the logs benchmarks: deterministic entries (xorshift, so a
 * file is identical across runs) rendered as TEXT in the Istio eras with a caller's prefix, the same
 * entries as Istio JSON lines, and the bare JSON.parse loop the benchmarks compare podpath against.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { blankEntry, compileFormat, decodeCluster, ISTIO_TEXT_FORMATS, renderEntry, type AccessLogEntry, type TextEra } from '../harness/accesslog/index.ts';

export const ERAS: readonly TextEra[] = ['text-1.6', 'text-1.8', 'text-1.9', 'text-1.23'];
const COMPILED = Object.fromEntries(ERAS.map((e) => [e, compileFormat(ISTIO_TEXT_FORMATS[e])])) as Record<TextEra, ReturnType<typeof compileFormat>>;
const CLUSTERS = [
  'outbound|5701||manager.manager.svc.cluster.local', 'outbound|8080||app.app.svc.cluster.local', 'PassthroughCluster',
  'inbound|5701||', 'inbound|8080||', 'InboundPassthroughClusterIpv4', 'BlackHoleCluster', 'outbound|5701||app-ext.app.svc.cluster.local',
];
const FLAGS = [[], [], [], [], ['UF', 'URX'], ['UH'], ['NR'], ['UC'], ['DC']];

export interface Random {
  rand(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

/** Deterministic pseudo-random numbers (xorshift32). */
export function xorshift(seed: number): Random {
  let state = seed;
  const rand = (n: number): number => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state % n;
  };
  return { rand, pick: <T>(xs: readonly T[]): T => xs[rand(xs.length)] };
}

function makeEntry(r: Random, i: number): AccessLogEntry {
  const { rand, pick } = r;
  const ip = (): string => `10.244.${rand(4)}.${2 + rand(250)}`;
  const cluster = pick(CLUSTERS);
  const http = rand(2) === 0;
  const e = blankEntry('gen', i, null, 'text-1.9', '', decodeCluster(cluster));
  const port = cluster.includes('8080') ? 8080 : 5701;
  e.startTime = `2026-11-23T10:${String(rand(60)).padStart(2, '0')}:${String(rand(60)).padStart(2, '0')}.${String(rand(1000)).padStart(3, '0')}Z`;
  e.responseFlags = pick(FLAGS).slice();
  e.bytesReceived = rand(5000);
  e.bytesSent = rand(50000);
  e.durationMs = rand(2000);
  if (http) {
    e.method = pick(['GET', 'POST']);
    e.path = `/api/v1/items/${rand(10000)}`;
    e.protocol = 'HTTP/1.1';
    e.responseCode = pick([200, 200, 200, 503, 404]);
    e.responseCodeDetails = 'via_upstream';
    e.upstreamServiceTimeMs = rand(500);
    e.userAgent = 'curl/8.5.0';
    e.requestId = `${rand(1 << 30).toString(16)}-4c1d-9a0b-${rand(1 << 30).toString(16)}`;
    e.authority = `app.app.svc.cluster.local:${port}`;
    e.routeName = 'default';
  } else {
    e.responseCode = 0;
  }
  e.upstreamHost = `${ip()}:${port}`;
  e.upstreamCluster = cluster;
  e.upstreamLocalAddress = `${ip()}:${30000 + rand(30000)}`;
  e.downstreamLocalAddress = `${ip()}:${port}`;
  e.downstreamRemoteAddress = `${ip()}:${30000 + rand(30000)}`;
  return e;
}

/** The entry as Istio's JSON access log encoding writes it. */
function istioJson(e: AccessLogEntry): string {
  return JSON.stringify({
    start_time: e.startTime, method: e.method, path: e.path, protocol: e.protocol, response_code: e.responseCode,
    response_flags: e.responseFlags.length ? e.responseFlags.join(',') : '-', response_code_details: e.responseCodeDetails,
    connection_termination_details: e.connectionTerminationDetails, upstream_transport_failure_reason: e.upstreamTransportFailureReason,
    bytes_received: e.bytesReceived, bytes_sent: e.bytesSent, duration: e.durationMs, upstream_service_time: e.upstreamServiceTimeMs,
    x_forwarded_for: e.xForwardedFor, user_agent: e.userAgent, request_id: e.requestId, authority: e.authority,
    upstream_host: e.upstreamHost, upstream_cluster: e.upstreamCluster, upstream_local_address: e.upstreamLocalAddress,
    downstream_local_address: e.downstreamLocalAddress, downstream_remote_address: e.downstreamRemoteAddress,
    requested_server_name: e.requestedServerName, route_name: e.routeName,
  });
}

export interface LogInputs {
  /** Where the files go (reused when both already exist). */
  dataDir: string;
  /** File name stem: NAME-COUNT.txt and NAME-COUNT.json. */
  name: string;
  count: number;
  seed: number;
  /** Which era renders entry i. */
  era(i: number, r: Random): TextEra;
  /** The prefix a log collector adds to line i. */
  prefix(i: number, line: string, r: Random): string;
}

/** Writes COUNT entries as prefixed TEXT and as Istio JSON, each line for line the same entry. */
export async function generateLogs(spec: LogInputs): Promise<{ text: string; json: string }> {
  mkdirSync(spec.dataDir, { recursive: true });
  const text = join(spec.dataDir, `${spec.name}-${spec.count}.txt`);
  const json = join(spec.dataDir, `${spec.name}-${spec.count}.json`);
  if (existsSync(text) && existsSync(json)) return { text, json };
  const r = xorshift(spec.seed);
  const textOut = createWriteStream(`${text}.tmp`);
  const jsonOut = createWriteStream(`${json}.tmp`);
  let tbuf = '';
  let jbuf = '';
  for (let i = 0; i < spec.count; i++) {
    const e = makeEntry(r, i);
    tbuf += spec.prefix(i, renderEntry(COMPILED[spec.era(i, r)], e), r) + '\n';
    jbuf += istioJson(e) + '\n';
    if (tbuf.length > 1 << 20) {
      if (!textOut.write(tbuf)) await new Promise<void>((done) => textOut.once('drain', () => done()));
      if (!jsonOut.write(jbuf)) await new Promise<void>((done) => jsonOut.once('drain', () => done()));
      tbuf = jbuf = '';
    }
  }
  textOut.end(tbuf);
  jsonOut.end(jbuf);
  await Promise.all([new Promise<void>((done) => textOut.on('close', () => done())), new Promise<void>((done) => jsonOut.on('close', () => done()))]);
  renameSync(`${text}.tmp`, text);
  renameSync(`${json}.tmp`, json);
  return { text, json };
}

/** A bare Node loop that only JSON.parse's each line of the file in argv[1]: the floor podpath is held to. */
export const BARE_JSON_LOOP = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'r');
const buf = Buffer.allocUnsafe(1 << 20);
const dec = new TextDecoder();
let rest = '', n = 0, x = 0;
for (;;) {
  const got = fs.readSync(fd, buf, 0, buf.length, null);
  const text = rest + (got ? dec.decode(buf.subarray(0, got), { stream: true }) : dec.decode());
  let start = 0, nl;
  while ((nl = text.indexOf('\\n', start)) >= 0) { const o = JSON.parse(text.slice(start, nl)); x += o.duration; n++; start = nl + 1; }
  rest = text.slice(start);
  if (!got) break;
}
if (rest) { JSON.parse(rest); n++; }
process.stderr.write('parsed ' + n + ' ' + x + '\\n');
`;
