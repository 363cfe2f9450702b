import test from 'ava';
import { readFileSync } from 'node:fs';
import { ConnectionFollower, correlate, parseLogText, type AccessLogEntry } from './index.ts';

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
