import test from 'ava';
import { readFileSync } from 'node:fs';
import { ConnectionFollower, correlate, parseLogText, type AccessLogEntry, type Hops } from './index.ts';

const load = (name: string, pod: string): AccessLogEntry[] =>
  parseLogText(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'), { source: name, pod }).entries;
const entries = [...load('client.log', 'manager-a'), ...load('server.log', 'manager-b')];

test('follows a connection from the client socket through both sidecars', (t) => {
  const hops = correlate(entries, '10.244.1.5:43210');
  t.is(hops.stoppedAt, null);
  t.is(hops.client?.source, 'client.log');
  t.is(hops.client?.line, 1);
  t.is(hops.client?.upstreamCluster, 'outbound|5701||manager.manager.svc.cluster.local');
  t.is(hops.server?.source, 'server.log');
  t.is(hops.server?.line, 1);
  t.is(hops.server?.cluster.kind, 'inbound');
  t.is(hops.server?.pod, 'manager-b');
});

test('the client entry is the outbound one even when an inbound entry with the same source comes first', (t) => {
  const client = correlate(entries, '10.244.1.5:43210').client!;
  const server = entries.find((e) => e.cluster.direction === 'inbound')!;
  // An inbound line whose peer happens to be the same ip:port (e.g. a reused source port in a merged log).
  const decoy: AccessLogEntry = { ...server, source: 'decoy.log', line: 1, downstreamRemoteAddress: '10.244.1.5:43210' };
  const hops = correlate([decoy, ...entries], '10.244.1.5:43210');
  t.is(hops.client, client);
  t.is(hops.client?.cluster.direction, 'outbound');
});

test('order of the logs does not matter (server entries first)', (t) => {
  const hops = correlate([...entries].reverse(), '10.244.1.5:43210');
  t.is(hops.server?.line, 1);
  t.is(hops.client?.line, 1);
});

test('stops in the client sidecar when the upstream connection failed (UF,URX)', (t) => {
  const hops = correlate(entries, '10.244.1.5:43300');
  t.is(hops.client?.line, 2);
  t.is(hops.server, null);
  t.regex(hops.stoppedAt ?? '', /connection ended in the client sidecar: UF,URX/);
});

test('passthrough to a STRICT server: the server entry is the NR filter_chain_not_found reject', (t) => {
  const hops = correlate(entries, '10.244.1.5:43400');
  t.is(hops.client?.cluster.kind, 'passthrough');
  t.deepEqual(hops.server?.responseFlags, ['NR']);
  t.is(hops.server?.responseCodeDetails, 'filter_chain_not_found');
});

test('says why when there is no client entry, or no server log', (t) => {
  t.regex(correlate(entries, '10.9.9.9:1').stoppedAt ?? '', /^no client entry/);
  t.is(correlate(entries, '10.9.9.9:1').client, null);
  const clientOnly = correlate(load('client.log', 'a'), '10.244.1.5:43210');
  t.regex(clientOnly.stoppedAt ?? '', /no server entry with downstream_remote_address 10\.244\.1\.5:44444/);
});

test('is linear: 200,000 unrelated entries are indexed, not scanned per lookup', (t) => {
  const base = entries[0];
  const many: AccessLogEntry[] = [];
  for (let i = 0; i < 200_000; i++) many.push({ ...base, downstreamRemoteAddress: `10.1.${i >> 8 & 255}.${i & 255}:${10000 + (i % 50000)}`, upstreamLocalAddress: `10.2.0.1:${i}` });
  many.push(...entries);
  let reads = 0;
  // Count property reads of downstreamRemoteAddress: O(n) means about one per entry.
  const counted = many.map((e) => new Proxy(e, { get: (target, key, receiver) => (key === 'downstreamRemoteAddress' && reads++, Reflect.get(target, key, receiver)) }));
  const hops = correlate(counted, '10.244.1.5:43210');
  t.is(hops.stoppedAt, null);
  t.true(reads < many.length * 3, `${reads} reads for ${many.length} entries`);
});

// Two HTTP requests that shared one pooled upstream connection (same upstream_local_address 10.244.1.5:46000).
const POOLED = [
  '[2024-09-01T12:00:03.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 120 3 2 "-" "podpath-agent" "req-1" "10.244.1.8:8080" "10.244.1.8:8080" PassthroughCluster 10.244.1.5:46000 10.244.1.8:8080 10.244.1.5:43500 - allow_any',
  '[2024-09-01T12:00:04.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 120 3 2 "-" "podpath-agent" "req-2" "10.244.1.8:8080" "10.244.1.8:8080" PassthroughCluster 10.244.1.5:46000 10.244.1.8:8080 10.244.1.5:43600 - allow_any',
].join('\n');
const POOLED_SERVER = [
  '[2024-09-01T12:00:03.001Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 120 1 1 "-" "podpath-agent" "req-1" "10.244.1.8:8080" "10.244.1.8:8080" inbound|8080|| 127.0.0.6:39002 10.244.1.8:8080 10.244.1.5:46000 - default',
  '[2024-09-01T12:00:04.001Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 120 1 1 "-" "podpath-agent" "req-2" "10.244.1.8:8080" "10.244.1.8:8080" inbound|8080|| 127.0.0.6:39002 10.244.1.8:8080 10.244.1.5:46000 - default',
].join('\n');

test('HTTP over a pooled upstream connection: the server entry is the one with the same x-request-id', (t) => {
  const all = [...parseLogText(POOLED, { source: 'client', pod: 'a' }).entries, ...parseLogText(POOLED_SERVER, { source: 'server', pod: 'b' }).entries];
  const second = correlate(all, '10.244.1.5:43600');
  t.is(second.client?.requestId, 'req-2');
  t.is(second.server?.requestId, 'req-2', 'not the first request on the same upstream socket');
  t.is(correlate(all, '10.244.1.5:43500').server?.requestId, 'req-1');
  // Only the other request's entry on that socket: no server entry for this request.
  const onlyFirst = [...parseLogText(POOLED, { source: 'client', pod: 'a' }).entries, ...parseLogText(POOLED_SERVER.split('\n')[0], { source: 'server', pod: 'b' }).entries];
  t.is(correlate(onlyFirst, '10.244.1.5:43600').server, null);
});

test('the streaming follower applies the same x-request-id rule', (t) => {
  const all = [...parseLogText(POOLED_SERVER, { source: 'server', pod: 'b' }).entries, ...parseLogText(POOLED, { source: 'client', pod: 'a' }).entries];
  const follower = new ConnectionFollower('10.244.1.5:43600');
  for (const e of all) follower.add(e);
  t.true(follower.wantsSecondPass, 'server entries came first');
  for (const e of all) follower.add(e);
  t.is(follower.result().server?.requestId, 'req-2');
});

// --- one table of cases for both forms: the in-memory index and the streaming follower ---------

const APP = '10.0.0.5:39000';
/** One TCP entry; `tag` is its source, so a case names entries by it. */
function hop(tag: string, cluster: string, fields: { remote: string; upstreamLocal?: string; flags?: string }): AccessLogEntry {
  const line = `[2026-11-20T10:00:00.000Z] "- - -" 0 ${fields.flags ?? '-'} - - "-" 4 60 3 - "-" "-" "-" "-" "10.0.0.9:5701" ${cluster} ${fields.upstreamLocal ?? '-'} 10.0.0.9:5701 ${fields.remote} - -`;
  const [entry] = parseLogText(line, { source: tag }).entries;
  if (!entry) throw new Error(`not an entry: ${line}`);
  return entry;
}
const out = (tag: string, upstreamLocal: string, remote = APP) => hop(tag, 'outbound|5701||manager.manager.svc.cluster.local', { remote, upstreamLocal });
const inb = (tag: string, remote: string, upstreamLocal = '127.0.0.6:41000') => hop(tag, 'inbound|5701||', { remote, upstreamLocal });

interface Case { name: string; entries: AccessLogEntry[]; client: string | null; server: string | null; stopped?: RegExp }
const CASES: Case[] = [
  { name: 'client then server', entries: [out('C', '10.0.0.5:40100'), inb('S', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'server before client', entries: [inb('S', '10.0.0.5:40100'), out('C', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'an inbound entry whose peer is the app socket is never the client', entries: [inb('I', APP), out('C', '10.0.0.5:40100'), inb('S', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'only inbound entries: no client, and it says so', entries: [inb('I', APP)], client: null, server: null, stopped: /appears only as the source of inbound entries/ },
  { name: 'InboundPassthroughCluster is inbound too', entries: [hop('P', 'InboundPassthroughClusterIpv4', { remote: APP, upstreamLocal: '10.0.0.5:40100' })], client: null, server: null },
  { name: 'outbound beats an entry of unknown direction seen first', entries: [hop('K', '-', { remote: APP, upstreamLocal: '10.0.0.5:40200' }), out('C', '10.0.0.5:40100'), inb('S', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'outbound beats an entry of unknown direction seen later', entries: [out('C', '10.0.0.5:40100'), hop('K', '-', { remote: APP, upstreamLocal: '10.0.0.5:40200' }), inb('S', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'unknown direction alone is the client', entries: [hop('K', '-', { remote: APP, upstreamLocal: '10.0.0.5:40200' }), inb('S', '10.0.0.5:40200')], client: 'K', server: 'S' },
  { name: 'the server of a client that lost is not kept', entries: [hop('K', '-', { remote: APP, upstreamLocal: '10.0.0.5:40200' }), inb('SK', '10.0.0.5:40200'), out('C', '10.0.0.5:40100'), inb('S', '10.0.0.5:40100')], client: 'C', server: 'S' },
  { name: 'the first outbound entry wins', entries: [out('C1', '10.0.0.5:40100'), out('C2', '10.0.0.5:40300'), inb('S2', '10.0.0.5:40300'), inb('S1', '10.0.0.5:40100')], client: 'C1', server: 'S1' },
  {
    name: 'the server is the entry whose downstream remote is the client\'s upstream local, not one sharing another address',
    entries: [out('C', '10.0.0.5:40100'), inb('D', '10.0.0.7:50000', '10.0.0.5:40100'), inb('S', '10.0.0.5:40100')],
    client: 'C', server: 'S',
  },
  { name: 'an outbound entry is never the server', entries: [out('C', '10.0.0.5:40100'), out('O', '10.0.0.5:40400', '10.0.0.5:40100')], client: 'C', server: null, stopped: /no server entry with downstream_remote_address 10\.0\.0\.5:40100/ },
  { name: 'a listener-level reject without a cluster is the server entry', entries: [hop('C', 'PassthroughCluster', { remote: APP, upstreamLocal: '10.0.0.5:40100' }), hop('R', '-', { remote: '10.0.0.5:40100', flags: 'NR' })], client: 'C', server: 'R', stopped: /the server sidecar rejected the connection \(NR\): the app never saw it/ },
  { name: 'no upstream connection: the chain stops in the client sidecar', entries: [hop('C', 'outbound|5701||app-ext.app.svc.cluster.local', { remote: APP, flags: 'UF,URX' }), inb('S', '-')], client: 'C', server: null, stopped: /connection ended in the client sidecar: UF,URX/ },
  { name: 'nothing from the app socket', entries: [inb('S', '10.0.0.5:40100')], client: null, server: null, stopped: /no line has downstream_remote_address 10\.0\.0\.5:39000/ },
];

function followed(entries: AccessLogEntry[], localAddress: string): Hops {
  const follower = new ConnectionFollower(localAddress);
  for (const e of entries) follower.add(e);
  // As `podpath logs --follow-from` does: a second pass when the server entry may have come first.
  if (follower.wantsSecondPass) for (const e of entries) follower.add(e);
  return follower.result();
}

for (const [form, run] of [['index', correlate], ['follower', followed]] as const) {
  test(`client and server hops (${form}): one table of cases`, (t) => {
    for (const c of CASES) {
      const hops = run(c.entries, APP);
      t.deepEqual([hops.client?.source ?? null, hops.server?.source ?? null], [c.client, c.server], c.name);
      if (hops.client) t.not(hops.client.cluster.direction, 'inbound', `${c.name}: never an inbound client`);
      if (c.stopped) t.regex(hops.stoppedAt ?? '', c.stopped, c.name);
      else if (c.server !== null) t.is(hops.stoppedAt, null, c.name);
    }
  });
}
