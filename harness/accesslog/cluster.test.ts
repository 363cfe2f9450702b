import test from 'ava';
import { decodeCluster, describeFlag, isKnownFlag, parseFlags } from './index.ts';

test('decodeCluster: every Istio cluster name form', (t) => {
  t.deepEqual(decodeCluster('PassthroughCluster'), { kind: 'passthrough', direction: 'outbound', port: null, subset: null, service: null });
  t.deepEqual(decodeCluster('BlackHoleCluster'), { kind: 'blackhole', direction: 'outbound', port: null, subset: null, service: null });
  for (const name of ['InboundPassthroughClusterIpv4', 'InboundPassthroughClusterIpv6', 'InboundPassthroughCluster']) {
    t.deepEqual(decodeCluster(name), { kind: 'inbound-passthrough', direction: 'inbound', port: null, subset: null, service: null }, name);
  }
  t.deepEqual(decodeCluster('outbound|5701||manager.manager.svc.cluster.local'), { kind: 'outbound', direction: 'outbound', port: 5701, subset: null, service: 'manager.manager.svc.cluster.local' });
  t.deepEqual(decodeCluster('outbound|8080|v2|app.app.svc.cluster.local'), { kind: 'outbound', direction: 'outbound', port: 8080, subset: 'v2', service: 'app.app.svc.cluster.local' });
  t.deepEqual(decodeCluster('outbound|5701||'), { kind: 'outbound', direction: 'outbound', port: 5701, subset: null, service: null });
  t.deepEqual(decodeCluster('inbound|8080||'), { kind: 'inbound', direction: 'inbound', port: 8080, subset: null, service: null });
  t.deepEqual(decodeCluster('inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local'), { kind: 'inbound', direction: 'inbound', port: 5701, subset: null, service: 'manager.manager.svc.cluster.local' });
  for (const other of [null, '-', '', 'xds-grpc', 'prometheus_stats', 'outbound_.5701_._.manager.manager.svc.cluster.local']) {
    t.is(decodeCluster(other).kind, 'other', String(other));
  }
  t.is(decodeCluster('outbound|abc||a.b').port, null);
});

test('decodeCluster hands out copies (a caller mutating one does not poison the cache)', (t) => {
  const a = decodeCluster('outbound|80||a.b.svc.cluster.local');
  a.port = 1;
  t.is(decodeCluster('outbound|80||a.b.svc.cluster.local').port, 80);
});

test('parseFlags: - is none, codes split, long names mapped, unknown kept', (t) => {
  t.deepEqual(parseFlags('-'), []);
  t.deepEqual(parseFlags(null), []);
  t.deepEqual(parseFlags('UF,URX'), ['UF', 'URX']);
  t.deepEqual(parseFlags('UpstreamConnectionFailure,NoRouteFound'), ['UF', 'NR']);
  t.deepEqual(parseFlags('DPE,XYZ'), ['DPE', 'XYZ']);
  const first = parseFlags('UH');
  first.push('mutated');
  t.deepEqual(parseFlags('UH'), ['UH']);
  t.true(isKnownFlag('UMSDR'));
  t.true(isKnownFlag('DF'));
  t.false(isKnownFlag('XYZ'));
  t.regex(describeFlag('UF'), /upstream connection failure/);
  t.regex(describeFlag('XYZ'), /unknown/);
});
