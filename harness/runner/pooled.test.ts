import test from 'ava';
import { envoyAddress, MtlsHistory, passthroughHosts } from './pooled.ts';

// The shape of Envoy admin /clusters text: cluster-wide lines, then CLUSTER::HOST::STAT::VALUE per host.
const CLUSTERS = [
  'PassthroughCluster::observability_name::PassthroughCluster',
  'PassthroughCluster::default_priority::max_connections::4294967295',
  'PassthroughCluster::added_via_api::true',
  'PassthroughCluster::10.244.0.12:8080::cx_active::1',
  'PassthroughCluster::10.244.0.12:8080::rq_total::3',
  'PassthroughCluster::[fd00::c]:8080::cx_active::0',
  'outbound|8080||app.app.svc.cluster.local::10.244.0.13:8080::cx_active::1',
  'InboundPassthroughCluster::10.244.0.6:8080::cx_active::1',
].join('\n');

test('PassthroughCluster hosts are read from the host lines only, once each', (t) => {
  t.deepEqual(passthroughHosts(CLUSTERS), ['10.244.0.12:8080', '[fd00::c]:8080']);
  t.deepEqual(passthroughHosts(''), []);
  t.deepEqual(passthroughHosts('{"configs": []}'), [], 'not /clusters text: no hosts');
});

test('mTLS history: drain when the mode changes or was never seen on the bed', (t) => {
  const h = new MtlsHistory();
  t.deepEqual(h.switchTo('PERMISSIVE'), { drain: true, from: 'unknown' });
  t.deepEqual(h.switchTo('PERMISSIVE'), { drain: false, from: 'PERMISSIVE' });
  t.deepEqual(h.switchTo('STRICT'), { drain: true, from: 'PERMISSIVE' });
  t.deepEqual(h.switchTo('PERMISSIVE'), { drain: true, from: 'STRICT' });
});

test('addresses are compared the way Envoy prints them', (t) => {
  t.is(envoyAddress('10.244.0.12', 8080), '10.244.0.12:8080');
  t.is(envoyAddress('fd00::c', 8080), '[fd00::c]:8080');
  t.true(passthroughHosts(CLUSTERS).includes(envoyAddress('fd00::c', 8080)));
});

test('mTLS history: a failed drain is forgotten, so the next probes check again', (t) => {
  const h = new MtlsHistory();
  h.switchTo('STRICT');
  h.forget();
  t.deepEqual(h.switchTo('STRICT'), { drain: true, from: 'unknown' });
});
