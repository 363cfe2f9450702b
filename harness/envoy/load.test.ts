import test from 'ava';
import { gzipSync } from 'node:zlib';
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DUMP_LIMITS, hasCluster, hasListener, loadConfigDump, parseConfigDump, readConfigDump } from './index.ts';
import { cidr, cidrContains, parseDestination, parseIp } from './ip.ts';
import { camelize, chain, cluster, configDump, listener } from './testing/builders.ts';
import { FQDN, healthySidecar, seedBrokenSidecar } from './testing/istio.ts';

test('admin dump: sections, node, presence checks', (t) => {
  const dump = loadConfigDump(seedBrokenSidecar().build());
  t.is(dump.shape, 'admin-config-dump');
  t.deepEqual([...dump.sections].sort(), ['clusters', 'endpoints', 'listeners', 'routes']);
  t.deepEqual(dump.node, { podIp: '10.244.1.5', podName: 'manager-7948dffbdd-p44xx.manager', istioVersion: '1.24.3', type: 'sidecar' });
  t.true(hasListener(dump, '0.0.0.0_5701'));
  t.false(hasListener(dump, '0.0.0.0_5702'));
  t.true(hasCluster(dump, `outbound|5701||${FQDN.appExt}`));
  t.false(hasCluster(dump, 'outbound|5701||nope'));
  t.deepEqual(dump.listenersAt('0.0.0.0', 5701), ['0.0.0.0_5701']);
  t.is(dump.virtualOutbound()?.name, 'virtualOutbound');
  t.is(dump.virtualInbound()?.name, 'virtualInbound');
});

test('camelCase dump: same index', (t) => {
  const dump = loadConfigDump(camelize(seedBrokenSidecar().build()));
  t.true(hasListener(dump, '0.0.0.0_5701'));
  t.is(dump.cluster(`outbound|5701||${FQDN.appExt}`)?.type, 'STRICT_DNS');
  t.deepEqual(dump.edsEndpoints(`outbound|5701||${FQDN.app}`)?.map((e) => e.text), ['10.244.2.9:5701']);
});

test('bare arrays: listeners, clusters, and wrapped dynamic listeners', (t) => {
  const listeners = loadConfigDump(seedBrokenSidecar().buildListenerArray());
  t.is(listeners.shape, 'resource-array');
  t.deepEqual([...listeners.sections], ['listeners']);
  const clusters = loadConfigDump([cluster('outbound|80||a').strictDns('a.example.com', 80).build(), cluster('PassthroughCluster').originalDst().build()]);
  t.deepEqual([...clusters.sections], ['clusters']);
  t.is(clusters.cluster('PassthroughCluster')?.type, 'ORIGINAL_DST');
  const wrapped = loadConfigDump([{ name: 'x', active_state: { listener: listener('x', '0.0.0.0', 1).build() } }]);
  t.true(hasListener(wrapped, 'x'));
  t.is(loadConfigDump(listener('solo', '0.0.0.0', 1).chain(chain().tcpProxy('a')).build()).shape, 'single-listener');
});

test('a STATIC cluster without "type" (proto3 omits enum zero) is STATIC', (t) => {
  const dump = loadConfigDump(configDump().cluster(cluster('s').static('127.0.0.1:5701')).build());
  t.deepEqual(dump.cluster('s'), { name: 's', type: 'STATIC', endpoints: [{ address: '127.0.0.1', port: 5701, ip: parseIp('127.0.0.1'), text: '127.0.0.1:5701' }], edsServiceName: null });
});

test('not a dump: specific UsageErrors', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump' }] }, /holds no Listeners/],
    [[], /empty JSON array/],
    [[{ kind: 'Service' }], /none of the array elements/],
    [{ apiVersion: 'v1', kind: 'Pod' }, /got an object with keys apiVersion, kind/],
    ['hello', /got a string/],
    [null, /got null/],
  ];
  for (const [json, message] of cases) {
    const error = t.throws(() => loadConfigDump(json));
    t.is(error?.name, 'UsageError');
    t.regex(error?.message ?? '', message);
  }
});

test('parseConfigDump: gzip by magic number, JSON errors and .gz mislabels are UsageErrors', (t) => {
  const json = JSON.stringify(healthySidecar().build());
  t.true(hasListener(parseConfigDump(gzipSync(json), 'dump.json.gz'), 'virtualOutbound'));
  t.true(hasListener(parseConfigDump(Buffer.from(json), 'dump.json'), 'virtualOutbound'));
  t.throws(() => parseConfigDump(Buffer.from('ADDRESS PORT MATCH DESTINATION'), 'table.txt'), { name: 'UsageError', message: /^table\.txt is not JSON/ });
  t.throws(() => parseConfigDump(Buffer.from(json), 'dump.json.gz'), { name: 'UsageError', message: /named \.gz but is not gzip/ });
  t.throws(() => parseConfigDump(Buffer.alloc(0), 'empty.json'), { name: 'UsageError', message: /empty/ });
  t.throws(() => parseConfigDump(Buffer.from('{"a":1}'), 'x.json'), { name: 'UsageError', message: /^x\.json: not an Envoy config dump/ });
});

test('readConfigDump: file, stdin and a missing file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-envoy-'));
  try {
    const file = join(dir, 'dump.json');
    await writeFile(file, JSON.stringify(healthySidecar().build()));
    t.true(hasListener(await readConfigDump(file, new PassThrough()), 'virtualOutbound'));
    const stdin = new PassThrough();
    stdin.end(JSON.stringify(seedBrokenSidecar().buildListenerArray()));
    t.true(hasListener(await readConfigDump('-', stdin), '0.0.0.0_5701'));
    await t.throwsAsync(readConfigDump(join(dir, 'nope.json'), new PassThrough()), { name: 'UsageError', message: /cannot read config dump .*nope\.json: no such file/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a gzip bomb stops inflating at the cap and says too large, naming the flag', (t) => {
  // 8 MiB of zeros is 8 KiB gzipped; a 64 KiB cap stands for the 256 MiB default.
  const bomb = gzipSync(Buffer.alloc(8 << 20));
  const limits = { ...DEFAULT_DUMP_LIMITS, maxBytes: 64 << 10 };
  t.throws(() => parseConfigDump(bomb, 'bomb.json.gz', limits), { name: 'DumpTooLargeError', message: /^bomb\.json\.gz is too large: it decompresses to more than the 64 KiB cap \(--max-dump-size\)/ });
});

test('stdin is read up to the cap, never to its end: an endless stdin fails at once', async (t) => {
  let served = 0;
  const endless = new Readable({
    read() {
      served += 1 << 14;
      this.push(Buffer.alloc(1 << 14, 0x20));
    },
  });
  const limits = { ...DEFAULT_DUMP_LIMITS, maxBytes: 1 << 20 };
  await t.throwsAsync(readConfigDump('-', endless, limits), { name: 'DumpTooLargeError', message: /^stdin is too large: it holds more than the 1 MiB cap/ });
  t.true(served < 4 << 20, `read ${served} bytes for a 1 MiB cap`);
  endless.destroy();
});

test('a file over the cap is refused before it is read; a dump longer than a string can hold says too large, not "not JSON"', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-envoy-'));
  try {
    const file = join(dir, 'big.json');
    await writeFile(file, Buffer.alloc(2048, 0x20));
    await t.throwsAsync(readConfigDump(file, new PassThrough(), { ...DEFAULT_DUMP_LIMITS, maxBytes: 1024 }), { name: 'DumpTooLargeError', message: /big\.json is too large: it is 2 KiB, more than the 1 KiB cap/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const json = Buffer.from(JSON.stringify(healthySidecar().build()));
  t.throws(() => parseConfigDump(json, 'dump.json', { maxBytes: 1 << 30, maxStringLength: 100 }), { name: 'DumpTooLargeError', message: /too large to parse.*longest string JavaScript can hold/ });
});

test('IP helpers: destinations, IPv6 canonical form, CIDR containment', (t) => {
  t.deepEqual(parseDestination('10.244.1.7:5701')?.text, '10.244.1.7:5701');
  t.deepEqual(parseDestination('[FD00:0:0::7]:5701')?.text, '[fd00::7]:5701');
  t.is(parseDestination('fd00::7:5701'), null);
  t.is(parseIp('::ffff:10.0.0.1')?.text, '::ffff:a00:1');
  const range = cidr('10.244.0.0', 16);
  t.truthy(range);
  if (!range) return;
  t.true(cidrContains(range, parseIp('10.244.255.1')!));
  t.false(cidrContains(range, parseIp('10.245.0.1')!));
  t.false(cidrContains(range, parseIp('fd00::1')!));
  t.true(cidrContains(cidr('::', 0)!, parseIp('fd00::1')!));
});

test('property: malformed dumps never crash explain (a verdict, or a UsageError)', async (t) => {
  const fc = await import('fast-check');
  const { explain } = await import('./index.ts');
  const T = 'type.googleapis.com/envoy.admin.v3.';
  const junk = fc.jsonValue({ maxDepth: 4 });
  // Real field names with junk values, so the normalisers see the shapes they narrow on.
  const listenerish = fc.record(
    { name: fc.constantFrom('0.0.0.0_5701', 'virtualOutbound', 'x'), address: fc.oneof(junk, fc.constant({ socket_address: { address: '0.0.0.0', port_value: 5701 } })), filter_chains: fc.oneof(junk, fc.array(fc.record({ filter_chain_match: junk, filters: fc.oneof(junk, fc.constant([{ name: 'envoy.filters.network.tcp_proxy', typed_config: { cluster: 'c' } }])) }, { requiredKeys: [] }))), use_original_dst: junk, filter_chain_matcher: junk },
    { requiredKeys: [] },
  );
  const dump = fc.record({
    configs: fc.array(
      fc.oneof(
        fc.record({ '@type': fc.constant(`${T}ListenersConfigDump`), dynamic_listeners: fc.array(fc.record({ active_state: fc.record({ listener: listenerish }) })), static_listeners: junk }),
        fc.record({ '@type': fc.constant(`${T}ClustersConfigDump`), dynamic_active_clusters: fc.array(fc.record({ cluster: fc.record({ name: fc.constant('c'), type: junk, load_assignment: junk }) })) }),
        fc.record({ '@type': fc.constant(`${T}RoutesConfigDump`), dynamic_route_configs: junk }),
      ),
      { minLength: 1 },
    ),
  });
  fc.assert(
    fc.property(dump, fc.constantFrom('10.0.0.1:5701', '[fd00::1]:5701'), fc.boolean(), (json, dst, inbound) => {
      try {
        const e = explain(loadConfigDump(json), { dst, inbound });
        return typeof e.verdict === 'string';
      } catch (error) {
        return error instanceof Error && error.name === 'UsageError';
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});
