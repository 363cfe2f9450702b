/**
 * podpath logs --json on mixed input, all measured in this run:
 * every Istio TEXT era (1.6, 1.8, 1.9, 1.23) crossed with every prefix style (none, kubectl
 * --timestamps, kubectl --prefix with and without --timestamps, stern with and without namespace,
 * stern with ANSI colours), interleaved in one generated file of N = 400,000 x BENCH_SCALE lines.
 * Rows, each single-threaded (PODPATH_LOGS_WORKERS=0) and with the default workers:
 *  - vs a bare Node loop that only JSON.parse's the same entries as Istio JSON lines (target >= 1.0x)
 *  - vs `jq -c .` over that JSON file (target >= 5x; skipped with a reason when jq is absent)
 * The explain dump case (5,000 listeners x 10 filter chains, 20,000 clusters) is explain.bench.ts.
 * Inputs are generated once into bench/.data/. Each contender's time is its best of BENCH_REPEAT
 * (default 3) rounds, the contenders taking turns within a round.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { printRatio } from './lib.ts';
import { blankEntry, compileFormat, decodeCluster, ISTIO_TEXT_FORMATS, renderEntry, type AccessLogEntry, type TextEra } from '../harness/accesslog/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'bench', '.data');
const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const N = Math.max(1000, Math.round(400_000 * scale));

// Deterministic pseudo-random (xorshift) so the file is identical across runs.
let seed = 0x2545f491;
function rand(n: number): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];

const ERAS: TextEra[] = ['text-1.6', 'text-1.8', 'text-1.9', 'text-1.23'];
const COMPILED = Object.fromEntries(ERAS.map((e) => [e, compileFormat(ISTIO_TEXT_FORMATS[e])])) as Record<TextEra, ReturnType<typeof compileFormat>>;
const CLUSTERS = [
  'outbound|5701||manager.manager.svc.cluster.local', 'outbound|8080||app.app.svc.cluster.local', 'PassthroughCluster',
  'inbound|5701||', 'inbound|8080||', 'InboundPassthroughClusterIpv4', 'BlackHoleCluster', 'outbound|5701||app-ext.app.svc.cluster.local',
];
const FLAGS = [[], [], [], [], ['UF', 'URX'], ['UH'], ['NR'], ['UC'], ['DC']];
const PODS = ['manager-7948dffbdd-p44xx', 'app-5c6d7f8b9-k2v7q', 'sleep-7f9c8d6b5-x2x4q'];
const ip = (): string => `10.244.${rand(4)}.${2 + rand(250)}`;

function makeEntry(i: number): AccessLogEntry {
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

// kubectl logs [--timestamps] [--prefix] and stern's default, namespaced and coloured templates.
function prefix(line: string): string {
  const pod = pick(PODS);
  switch (rand(7)) {
    case 0: return line;
    case 1: return `2026-11-23T10:00:00.123456789Z ${line}`;
    case 2: return `[pod/${pod}/istio-proxy] ${line}`;
    case 3: return `[pod/${pod}/istio-proxy] 2026-11-23T10:00:00.123456789Z ${line}`;
    case 4: return `${pod} istio-proxy ${line}`;
    case 5: return `default ${pod} istio-proxy ${line}`;
    default: return `\x1b[32m${pod}\x1b[0m \x1b[34mistio-proxy\x1b[0m ${line}`;
  }
}

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

async function generate(count: number): Promise<{ text: string; json: string }> {
  mkdirSync(dataDir, { recursive: true });
  const text = join(dataDir, `logs-mixed-${count}.txt`);
  const json = join(dataDir, `logs-mixed-${count}.json`);
  if (existsSync(text) && existsSync(json)) return { text, json };
  const textOut = createWriteStream(`${text}.tmp`);
  const jsonOut = createWriteStream(`${json}.tmp`);
  let tbuf = '';
  let jbuf = '';
  for (let i = 0; i < count; i++) {
    const e = makeEntry(i);
    tbuf += prefix(renderEntry(COMPILED[pick(ERAS)], e)) + '\n';
    jbuf += istioJson(e) + '\n';
    if (tbuf.length > 1 << 20) {
      if (!textOut.write(tbuf)) await new Promise<void>((r) => textOut.once('drain', () => r()));
      if (!jsonOut.write(jbuf)) await new Promise<void>((r) => jsonOut.once('drain', () => r()));
      tbuf = jbuf = '';
    }
  }
  textOut.end(tbuf);
  jsonOut.end(jbuf);
  await Promise.all([new Promise<void>((r) => textOut.on('close', () => r())), new Promise<void>((r) => jsonOut.on('close', () => r()))]);
  renameSync(`${text}.tmp`, text);
  renameSync(`${json}.tmp`, json);
  return { text, json };
}

/** Runs a command with stdout to /dev/null and returns its wall time. */
async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; code: number | null; stderr: string }> {
  const start = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { ms: performance.now() - start, code, stderr };
}

const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? '3'));

interface Contender { label: string; argv: string[]; env?: NodeJS.ProcessEnv; ms: number }
/**
 * Best of REPEAT rounds, each round running every contender once in turn: the machine is shared and
 * its load drifts over minutes, so podpath and its references take turns instead of each getting a
 * run of several minutes of its own. Noise only ever makes a run slower.
 */
async function rounds(contenders: Contender[]): Promise<void> {
  for (let i = 0; i < REPEAT; i++) {
    for (const c of contenders) {
      const r = await run(c.argv, c.env);
      if (r.code !== 0) throw new Error(`${c.label} exited ${r.code}: ${r.stderr}`);
      c.ms = Math.min(c.ms, r.ms);
    }
  }
}

const node = process.execPath;
const podpath = join(root, 'harness', 'cli', 'podpath.ts');
const BARE_JSON_LOOP = `
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
const rate = (ms: number): string => `${Math.round(N / (ms / 1000)).toLocaleString('en-US')} lines/s`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const { text, json } = await generate(N);
console.log(`inputs: ${N.toLocaleString('en-US')} mixed lines (${(statSync(text).size / 1e6).toFixed(0)} MB text, ${(statSync(json).size / 1e6).toFixed(0)} MB JSON)`);

const jq = spawnSync('jq', ['--version'], { encoding: 'utf8' });
const hasJq = !(jq.error || jq.status !== 0);
const ours: Contender[] = [
  { label: 'single-threaded (PODPATH_LOGS_WORKERS=0)', argv: [node, podpath, 'logs', '--json', text], env: { ...process.env, PODPATH_LOGS_WORKERS: '0' }, ms: Infinity },
  { label: 'default workers', argv: [node, podpath, 'logs', '--json', text], env: { ...process.env, PODPATH_LOGS_WORKERS: undefined }, ms: Infinity },
];
const bare: Contender = { label: 'bare JSON.parse loop', argv: [node, '-e', BARE_JSON_LOOP, json], ms: Infinity };
const jqRun: Contender = { label: 'jq -c .', argv: ['jq', '-c', '.', json], ms: Infinity };
await rounds([...ours, bare, ...(hasJq ? [jqRun] : [])]);

for (const o of ours) {
  printRatio({
    name: `podpath logs --json (mixed TEXT, ${o.label}) vs a bare Node JSON.parse loop over the same entries as JSON`,
    measured: `${N} mixed TEXT lines in ${secs(o.ms)} (${rate(o.ms)})`,
    reference: `${N} JSON lines in ${secs(bare.ms)} (${rate(bare.ms)})`,
    ratio: bare.ms / o.ms,
    target: { min: 1.0 },
  });
}

if (!hasJq) {
  console.log('jq rows SKIPPED: jq is not installed (apt-get install -y jq), so the podpath-vs-jq ratio was not measured');
} else {
  for (const o of ours) {
    printRatio({
      name: `podpath logs --json (mixed TEXT, ${o.label}) vs ${jq.stdout.trim()} -c . over the same entries as JSON`,
      measured: `${N} mixed TEXT lines in ${secs(o.ms)} (${rate(o.ms)})`,
      reference: `${N} JSON lines in ${secs(jqRun.ms)} (${rate(jqRun.ms)})`,
      ratio: jqRun.ms / o.ms,
      target: { min: 5 },
    });
  }
}
