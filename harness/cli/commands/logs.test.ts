import test from 'ava';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { defaultLogsWorkers } from './logs.ts';

const fixtures = fileURLToPath(new URL('../../accesslog/fixtures/', import.meta.url));
const fx = (name: string) => join(fixtures, name);
const dir = mkdtempSync(join(tmpdir(), 'podpath-logs-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

async function logs(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  const cap = captureIo({ stdin: options.stdin, env: options.env });
  const code = await main(['logs', ...args], cap.io);
  return { code, stdout: cap.stdout, stderr: cap.stderr };
}

// The keys docs/logs.md promises for --json, in order; `raw` is deliberately not among them.
const KEYS = ['source', 'line', 'pod', 'format', 'startTime', 'method', 'path', 'protocol', 'responseCode', 'responseFlags', 'responseCodeDetails',
  'connectionTerminationDetails', 'upstreamTransportFailureReason', 'bytesReceived', 'bytesSent', 'durationMs', 'upstreamServiceTimeMs', 'xForwardedFor',
  'userAgent', 'requestId', 'authority', 'upstreamHost', 'upstreamCluster', 'upstreamLocalAddress', 'downstreamLocalAddress', 'downstreamRemoteAddress',
  'requestedServerName', 'routeName', 'cluster'];
const ndjson = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('the 3 a.m. use: the seed log gives a table, a summary by (cluster, flags) and the diagnosis', async (t) => {
  const r = await logs([fx('seed.log')]);
  t.is(r.code, 0);
  t.regex(r.stdout, /^TIME\s+POD\s+DIR\s+CODE\s+FLAGS\s+CLUSTER/m);
  t.regex(r.stdout, /2020-07-23T14:47:24\.040Z\s+manager-7948dffbdd-p44xx\s+out\s+0\s+UF,URX\s+outbound\|5701\|\|/);
  t.regex(r.stdout, /Summary by \(cluster, flags\): 7 entries/);
  t.regex(r.stdout, /^\s+3\s+inbound\s+inbound\|5701\|tcp-hazelcast\|manager\.manager\.svc\.cluster\.local\s+-$/m);
  t.regex(r.stdout, /UF: upstream connection failure; URX: retry limit/);
  // The log alone cannot confirm the capture: a lead at info, and no error for --fail-on to trip on.
  t.regex(r.stdout, /\[INFO\] pod-ip-capture-possible: .* \(1 entry, inferred\)/);
  t.notRegex(r.stdout, /\[ERROR\]/);
  t.regex(r.stdout, /seed\.log:7 {2}manager-7948dffbdd-p44xx istio-proxy \[2020-07-23T14:47:24\.040Z\]/);
  t.regex(r.stdout, /\[INFO\] passthrough/);
  t.regex(r.stdout, /7 access log entries from 7 lines in 1 input/);
  t.notRegex(r.stdout, /\u001b\[/, 'no colour when NO_COLOR is set / not a TTY');
});

test('--json: NDJSON with exactly the contract keys, numbers as numbers, the decoded cluster, no raw', async (t) => {
  const r = await logs(['--json', fx('istio-1.9.log'), fx('istio-json.log')]);
  t.is(r.code, 0);
  const rows = ndjson(r.stdout);
  t.is(rows.length, 10);
  for (const row of rows) t.deepEqual(Object.keys(row), KEYS);
  t.deepEqual(rows[4], {
    source: fx('istio-1.9.log'), line: 5, pod: null, format: 'text-1.9', startTime: '2023-03-10T08:19:00.000Z', method: 'POST', path: '/upload',
    protocol: 'HTTP/1.1', responseCode: 503, responseFlags: ['UC'], responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}',
    connectionTerminationDetails: null, upstreamTransportFailureReason: null, bytesReceived: 2048, bytesSent: 95, durationMs: 12, upstreamServiceTimeMs: null,
    xForwardedFor: null, userAgent: 'python-requests/2.31.0', requestId: '0f1e2d3c-4b5a-4968-8776-655443322110', authority: 'app.app.svc.cluster.local:8080',
    upstreamHost: '10.244.1.7:8080', upstreamCluster: 'outbound|8080||app.app.svc.cluster.local', upstreamLocalAddress: '10.244.0.8:49000',
    downstreamLocalAddress: '10.96.20.30:8080', downstreamRemoteAddress: '10.244.0.8:48990', requestedServerName: null, routeName: 'default',
    cluster: { kind: 'outbound', direction: 'outbound', port: 8080, subset: null, service: 'app.app.svc.cluster.local' },
  });
  t.is(rows[7].format, 'json');
  t.deepEqual(rows[7].responseFlags, ['UF', 'URX']);
  t.regex(r.stderr, /10 access log entries from 11 lines in 2 inputs; 1 skipped \(1 not access log lines\)/);
});

test('--json is the same whether it takes the byte fast path or the entry path', async (t) => {
  const files = ['istio-1.6.log', 'istio-1.8.log', 'istio-1.9.log', 'istio-1.23.log', 'istio-json.log', 'seed.log', 'prefixes.log'].map(fx);
  const fast = await logs(['--json', ...files]);
  // --fail-on needs diagnoses, so entries are built as objects: the other path.
  const slow = await logs(['--json', '--fail-on', 'blackhole', ...files]);
  t.is(slow.code, 1);
  t.is(fast.stdout, slow.stdout);
  t.true(fast.stdout.length > 1000);
});

test('--summary and --diagnose, alone and with --json', async (t) => {
  const summary = await logs(['--summary', '--json', fx('client.log'), fx('server.log')]);
  const rows = ndjson(summary.stdout);
  t.is(rows.length, 5);
  t.like(rows.find((r) => r.cluster === 'PassthroughCluster'), { kind: 'passthrough', direction: 'outbound', count: 1, flags: [] });
  const human = await logs(['--summary', fx('client.log')]);
  t.notRegex(human.stdout, /^TIME/m);
  t.notRegex(human.stdout, /Diagnoses/);
  const diag = await logs(['--diagnose', '--json', '--inventory', fx('inventory.json'), fx('client.log'), fx('server.log')]);
  const ds = ndjson(diag.stdout);
  t.deepEqual(ds.map((d) => d.id).sort(), ['passthrough', 'plaintext-to-strict-mtls', 'pod-ip-captured-by-service-listener']);
  const captured = ds.find((d) => d.id === 'pod-ip-captured-by-service-listener');
  t.is(captured?.inferred, false);
  t.deepEqual((captured?.evidence as { line: number }[]).map((e) => e.line), [2]);
});

test('--fail-on exits 1 when a listed signature is found, 0 when not, 2 for an unknown id', async (t) => {
  const hit = await logs(['--fail-on', 'pod-ip-captured-by-service-listener,blackhole', '--inventory', fx('inventory.json'), fx('client.log')]);
  t.is(hit.code, 1);
  t.regex(hit.stderr, /failing on pod-ip-captured-by-service-listener \(1\)/);
  // Without the inventory the same signature is only possible: CI must not fail on it.
  t.is((await logs(['--fail-on', 'pod-ip-captured-by-service-listener', fx('client.log')])).code, 0);
  t.is((await logs(['--fail-on', 'blackhole', fx('seed.log')])).code, 0);
  const bad = await logs(['--fail-on', 'nope', fx('seed.log')]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /unknown signature nope/);
});

test('--follow-from follows one connection across the client and the server log', async (t) => {
  const human = await logs(['--follow-from', '10.244.1.5:43210', fx('client.log'), fx('server.log')]);
  t.is(human.code, 0);
  t.regex(human.stdout, /→ client sidecar .*outbound\|5701\|\|manager\.manager\.svc\.cluster\.local .*client\.log:1\]/);
  t.regex(human.stdout, /→ server sidecar .*inbound\|5701\|\| .*server\.log:1\]\n {2}→ server app/);
  const stopped = await logs(['--json', '--follow-from', '10.244.1.5:43300', fx('client.log'), fx('server.log')]);
  const [hops] = ndjson(stopped.stdout);
  t.is((hops.client as { line: number }).line, 2);
  t.is(hops.server, null);
  t.regex(String(hops.stoppedAt), /UF,URX/);
  t.is((await logs(['--follow-from', 'not-an-address', fx('client.log')])).code, 2);
});

test('--follow-from finds the server entry when its log comes first (files: second pass; stdin: spooled)', async (t) => {
  const serverFirst = ndjson((await logs(['--json', '--follow-from', '10.244.1.5:43210', fx('server.log'), fx('client.log')])).stdout)[0];
  t.is((serverFirst.client as { source: string }).source, fx('client.log'));
  t.is((serverFirst.server as { source: string; line: number }).source, fx('server.log'));
  t.is(serverFirst.stoppedAt, null);
  const stdin = readFileSync(fx('server.log'), 'utf8') + readFileSync(fx('client.log'), 'utf8');
  const piped = ndjson((await logs(['--json', '--follow-from', '10.244.1.5:43210', '-'], { stdin })).stdout)[0];
  t.is((piped.server as { line: number }).line, 1);
  t.is((piped.client as { line: number }).line, 3);
});

test('stdin (- or piped), .gz, several files', async (t) => {
  const seed = readFileSync(fx('seed.log'), 'utf8');
  const piped = await logs(['--json', '-'], { stdin: seed });
  t.is(ndjson(piped.stdout).length, 7);
  t.is(ndjson(piped.stdout)[0].source, '-');
  t.is(ndjson((await logs(['--json'], { stdin: seed })).stdout).length, 7);
  const gz = tmp('seed.log.gz', gzipSync(seed));
  const fromGz = ndjson((await logs(['--json', gz, fx('istio-1.8.log')])).stdout);
  t.is(fromGz.length, 11);
  t.deepEqual(fromGz[6].responseFlags, ['UF', 'URX']);
});

test('bad input: empty file, directory, missing file, non-gzip .gz, truncated gzip', async (t) => {
  const empty = await logs([tmp('empty.log', '')]);
  t.is(empty.code, 0);
  t.regex(empty.stdout, /0 access log entries from 0 lines/);
  mkdirSync(join(dir, 'adir'), { recursive: true });
  const isDir = await logs([join(dir, 'adir')]);
  t.is(isDir.code, 2);
  t.regex(isDir.stderr, /adir: is a directory/);
  const missing = await logs([join(dir, 'nope.log')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /nope\.log: no such file/);
  const fake = await logs(['--json', tmp('plain.log.gz', readFileSync(fx('seed.log')))]);
  t.is(fake.code, 0);
  t.regex(fake.stderr, /not gzip data \(no gzip header\); reading it as plain text/);
  t.is(ndjson(fake.stdout).length, 7);
  const whole = gzipSync(readFileSync(fx('istio-1.9.log')));
  const cut = await logs([tmp('cut.log.gz', whole.subarray(0, whole.length - 12))]);
  t.is(cut.code, 2);
  t.regex(cut.stderr, /gzip data is corrupt or truncated/);
  for (const r of [empty, isDir, missing, fake, cut]) t.notRegex(r.stderr, /internal error|\n\s+at /);
});

test('bad input: binary garbage, invalid UTF-8, a 5 MB line without newline, truncated lines', async (t) => {
  const good = readFileSync(fx('istio-1.9.log'), 'utf8').split('\n')[0];
  const garbage = Buffer.concat([
    Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x00, 0x0a]), Buffer.from('\xc3\x28 invalid utf-8 \xa0\xa1\n', 'latin1'),
    Buffer.from(`${good.slice(0, 90)}\n${good}\n`), Buffer.alloc(5 * 1024 * 1024, 0x41),
  ]);
  // A scan that went quadratic on the 5 MB line would not finish at all: ava's timeout guards that, not a wall-clock bound a busy machine can break.
  for (const json of [false, true]) {
    const r = await logs([...(json ? ['--json'] : []), tmp(`garbage-${json}.log`, garbage)]);
    t.is(r.code, 0, r.stderr);
    t.regex(json ? r.stderr : r.stdout, /1 access log entry from 5 lines in 1 input; 4 skipped \(.*1 longer than 1 MiB.*\)/);
    t.notRegex(r.stderr, /internal error/);
  }
});

test('a file with no access log line says where to look, and only then', async (t) => {
  const app = await logs([tmp('app-container.log', 'Started application in 2.1 s\nlistening on :8080\n')]);
  t.is(app.code, 0);
  t.regex(app.stderr, /no access log line found: give the istio-proxy container's log/);
  const seed = await logs([fx('seed.log')]);
  t.notRegex(seed.stderr, /no access log line found/);
  const empty = await logs([tmp('nothing.log', '')]);
  t.notRegex(empty.stderr, /no access log line found/, 'an empty file has nothing to explain');
});

test('usage errors exit 2 with a hint: bad --format, bad --log-format, bad --inventory', async (t) => {
  const format = await logs(['--format', 'xml', fx('seed.log')]);
  t.is(format.code, 2);
  t.regex(format.stderr, /--format must be text, json or auto/);
  const custom = await logs(['--log-format', '%START_TIME%%UPSTREAM_CLUSTER%', fx('seed.log')]);
  t.is(custom.code, 2);
  t.regex(custom.stderr, /no text between them/);
  const inv = await logs(['--inventory', fx('seed.log'), fx('seed.log')]);
  t.is(inv.code, 2);
  t.regex(inv.stderr, /--inventory: .* is not JSON\nCreate it with: kubectl get pods,services,endpointslices -A -o json/);
});

test('workers by default only while a core is idle beside the main thread', (t) => {
  t.is(defaultLogsWorkers(2, 0.2), 2);
  // About one busy core is usually this very run reading its input.
  t.is(defaultLogsWorkers(2, 1.2), 2);
  // Two busy cores: the workers would share them with the main thread and each other.
  t.is(defaultLogsWorkers(2, 1.5), 0);
  t.is(defaultLogsWorkers(2, 14), 0);
  t.is(defaultLogsWorkers(8, 3), 2);
  t.is(defaultLogsWorkers(8, 7.5), 0);
  t.is(defaultLogsWorkers(1, 0), 0);
  // loadavg() on Windows.
  t.is(defaultLogsWorkers(4, 0), 2);
});

test('big stdin is peeked and goes through the worker threads, with the same output as one thread', async (t) => {
  const lines = readFileSync(fx('istio-1.9.log'), 'utf8') + readFileSync(fx('seed.log'), 'utf8');
  const stdin = lines.repeat(Math.ceil((9 << 20) / lines.length));
  const parallel = await logs(['--json', '-'], { stdin, env: { PODPATH_LOGS_WORKERS: '2' } });
  const single = await logs(['--json', '-'], { stdin, env: { PODPATH_LOGS_WORKERS: '0' } });
  t.is(parallel.code, 0);
  t.true(parallel.stdout.length > 9 << 20);
  t.true(parallel.stdout === single.stdout, 'same NDJSON');
  t.is(parallel.stderr, single.stderr);
});

test('oversized lines are skipped the same way by the worker threads and by one thread', async (t) => {
  const good = readFileSync(fx('istio-1.9.log'), 'utf8');
  const block = good.repeat(Math.ceil((5 << 20) / good.length));
  const content = Buffer.concat([Buffer.from(block), Buffer.alloc(5 << 20, 0x41), Buffer.from(`\n${block}`), Buffer.alloc((1 << 20) + 100_000, 0x42), Buffer.from(`\n${good}`), Buffer.alloc(2 << 20, 0x43)]);
  const path = tmp('oversized.log', content);
  const parallel = await logs(['--json', path], { env: { PODPATH_LOGS_WORKERS: '2' } });
  const single = await logs(['--json', path], { env: { PODPATH_LOGS_WORKERS: '0' } });
  t.is(parallel.code, 0);
  t.regex(single.stderr, /; 3 skipped \(3 longer than 1 MiB\)/);
  t.is(parallel.stderr, single.stderr);
  t.true(parallel.stdout === single.stdout, 'same NDJSON');
});

test('as a child process: big inputs go through the worker threads and give the same bytes as one thread', async (t) => {
  const lines = readFileSync(fx('istio-1.9.log'), 'utf8') + readFileSync(fx('seed.log'), 'utf8') + readFileSync(fx('prefixes.log'), 'utf8');
  // > 8 MiB so the parallel path is taken; odd piece boundaries are the point.
  const big = tmp('big.log', lines.repeat(Math.ceil((9 << 20) / lines.length)));
  const cli = fileURLToPath(new URL('../../../bin/podpath.ts', import.meta.url));
  const run = (env: Record<string, string>) => execa(process.execPath, [cli, 'logs', '--json', big], { env, reject: false, stripFinalNewline: false, maxBuffer: 1 << 30 });
  const [parallel, single] = await Promise.all([run({ PODPATH_LOGS_WORKERS: '2' }), run({ PODPATH_LOGS_WORKERS: '0' })]);
  t.is(parallel.exitCode, 0);
  t.is(single.exitCode, 0);
  t.true(parallel.stdout.length > 9 << 20);
  t.is(parallel.stdout, single.stdout);
  t.is(parallel.stderr, single.stderr);
  const last = ndjson(parallel.stdout.slice(parallel.stdout.lastIndexOf('\n', parallel.stdout.length - 2)));
  // prefixes.log ends with four lines that are not entries.
  t.is(last[0].line, lines.repeat(Math.ceil((9 << 20) / lines.length)).split('\n').length - 1 - 4);
});

const real = (name: string) => fx(`real/${name}`);

test('--follow-from stops at a server-side NR filter_chain_not_found: no "server app" hop, details on each hop', async (t) => {
  const r = await logs(['--follow-from', '10.1.2.182:41872', real('follow-client.log'), real('strict-mtls-nr.log')]);
  t.is(r.code, 0);
  t.regex(r.stdout, /→ client sidecar .*PassthroughCluster/);
  t.regex(r.stdout, /→ server sidecar .*strict-mtls-nr\.log:2\]\n {4}response_code_details=filter_chain_not_found\n/);
  t.notRegex(r.stdout, /server app/);
  t.regex(r.stdout, /✗ stopped: the server sidecar rejected the connection \(NR filter_chain_not_found\): the app never saw it/);
  const [hops] = ndjson((await logs(['--json', '--follow-from', '10.1.2.182:41872', real('follow-client.log'), real('strict-mtls-nr.log')])).stdout);
  t.regex(String(hops.stoppedAt), /rejected the connection/);
});

test('a wrapped k9s line is one entry, and the tally says it was joined', async (t) => {
  const r = await logs([real('egress-gateway-k9s-wrapped.log')]);
  t.is(r.code, 0);
  t.regex(r.stdout, /1 access log entry from 2 lines in 1 input; 1 entry joined from 2 wrapped lines/);
  t.notRegex(r.stdout, /skipped/);
  t.regex(r.stdout, /egress-gateway-k9s-wrapped\.log:1 \(joined from 2 lines\)/);
  t.notRegex(r.stdout, /\[ERROR\]/);
  // The --json fast path hands the fragments to the same parser: same entry.
  const json = ndjson((await logs(['--json', real('egress-gateway-k9s-wrapped.log')])).stdout);
  t.is(json.length, 1);
  t.is(json[0].downstreamLocalAddress, '142.250.203.132:443');
});

test('--fail-on over every real fixture fails only on errors a reader of the line would agree with', async (t) => {
  const ids = 'pod-ip-captured-by-service-listener,no-healthy-upstream,upstream-reset-before-response';
  for (const name of readdirSync(fx('real')).filter((f) => f.endsWith('.log'))) {
    t.is((await logs(['--fail-on', ids, real(name)])).code, 0, name);
  }
});

test('wrapped lines are joined by the worker threads too, and the tally says so', async (t) => {
  const pair = readFileSync(real('egress-gateway-k9s-wrapped.log'), 'utf8');
  const pairs = Math.ceil((9 << 20) / pair.length);
  const path = tmp('wrapped-big.log', pair.repeat(pairs));
  const parallel = await logs(['--json', path], { env: { PODPATH_LOGS_WORKERS: '2' } });
  const single = await logs(['--json', path], { env: { PODPATH_LOGS_WORKERS: '0' } });
  t.is(single.stdout.trim().split('\n').length, pairs);
  t.regex(single.stderr, new RegExp(`${pairs} access log entries from ${pairs * 2} lines in 1 input; ${pairs} entries joined from ${pairs * 2} wrapped lines\\n`));
  // A pair that straddles two workers' pieces stays two fragments: at most one per piece boundary.
  const joined = Number(/; (\d+) entries joined/.exec(parallel.stderr)?.[1]);
  t.true(joined > pairs - 64 && joined <= pairs, parallel.stderr);
});

test('when every access log line was cut, the hint says so instead of "no access log line found"', async (t) => {
  const r = await logs([real('wrapped-sni.log')]);
  t.is(r.code, 0);
  t.regex(r.stderr, /the access log lines found were cut short/);
  t.notRegex(r.stderr, /no access log line found/);
});

// Serial: it reads this process's heap, which the file's other tests, run concurrently, would also grow.
test.serial('--follow-from on stdin keeps memory flat: entries that stream by are not kept', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const line = (i: number) =>
    `[2024-09-01T12:00:00.000Z] "- - -" 0 - - - "-" 12 12 3 - "-" "-" "-" "-" "10.244.1.9:5701" outbound|5701||s${i}.ns.svc.cluster.local 10.244.${i >> 16 & 255}.${i >> 8 & 255}:${10000 + (i & 255)} 10.96.14.20:5701 10.245.${i >> 16 & 255}.${i >> 8 & 255}:${20000 + (i & 255)} - -\n`;
  let grown = 0;
  const lines = 120_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  const stdin = Readable.from((function* () {
    for (let i = 0; i < lines; i += 1000) yield Array.from({ length: 1000 }, (_, k) => line(i + k)).join('');
    // Everything has been handed over: whatever the command still holds now is what it keeps.
    gc();
    grown = process.memoryUsage().heapUsed - before;
  })());
  const cap = captureIo();
  t.is(await main(['logs', '--json', '--follow-from', '10.245.0.0:20000', '-'], { ...cap.io, stdin }), 0);
  t.is((ndjson(cap.stdout)[0].client as { line: number }).line, 1);
  // 120k entries held as parsed entries cost about 95 MiB; a spooled stdin keeps a few chunks.
  t.true(grown < 32 << 20, `heap grew ${Math.round(grown / (1 << 20))} MiB while reading ${lines} lines`);
});

test('--summary is bounded: distinct (cluster, flags) pairs beyond --summary-rows count as one "other" row', async (t) => {
  const line = (i: number) =>
    `[2024-09-01T12:00:00.000Z] "- - -" 0 - - - "-" 12 12 3 - "-" "-" "-" "-" "10.244.1.9:5701" outbound|5701||s${i}.ns.svc.cluster.local 10.244.1.5:44444 10.96.14.20:5701 10.244.1.5:43210 - -\n`;
  // s0 three times, then 9 more distinct clusters once each.
  const stdin = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(line).join('');
  const json = ndjson((await logs(['--summary', '--json', '--summary-rows', '3', '-'], { stdin })).stdout);
  t.deepEqual(json.map((r) => [r.cluster, r.count]), [
    ['outbound|5701||s0.ns.svc.cluster.local', 3], ['outbound|5701||s1.ns.svc.cluster.local', 1], ['outbound|5701||s2.ns.svc.cluster.local', 1], [null, 7],
  ]);
  t.is(json[3].kind, 'other');
  const human = await logs(['--summary', '--summary-rows', '3', '-'], { stdin });
  t.regex(human.stdout, /Summary by \(cluster, flags\): 12 entries/);
  t.regex(human.stdout, /^ {7}7 {2}other .*first 3 distinct/m);
  t.is((await logs(['--summary', '--summary-rows', '0', '-'], { stdin })).code, 2);
});

test('terminal escapes from a log (user agent, path, cluster) are shown escaped in human output, kept in --json', async (t) => {
  const evil = '[2023-03-10T08:15:30.123Z] "GET /\x1b[2J HTTP/1.1" 503 UF,URX - - "-" 0 135 4 3 "-" "\x1b]0;pwned\x07curl" "id-1" "httpbin:8000" "10.244.0.9:80" outbound|8000||\x1b[31mhttpbin.default.svc.cluster.local 10.244.0.8:36922 10.96.120.5:8000 10.244.0.8:47436 - default\n';
  const human = await logs(['-'], { stdin: evil });
  t.is(human.code, 0, human.stderr);
  t.false(human.stdout.includes('\x1b'), JSON.stringify(human.stdout));
  t.false(human.stdout.includes('\x07'));
  t.true(human.stdout.includes('\\x1b[31mhttpbin'));
  const json = await logs(['--json', '-'], { stdin: evil });
  t.is((ndjson(json.stdout)[0] as { userAgent: string }).userAgent, '\x1b]0;pwned\x07curl', 'JSON carries the exact value (escaped by JSON itself)');
});
