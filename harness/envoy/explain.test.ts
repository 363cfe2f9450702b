import test from 'ava';
import { readFileSync } from 'node:fs';
import { advise, explain, loadConfigDump, type ExplainQuery } from './index.ts';
import { camelize, chain, cluster, configDump, exactMap, inputs, ipTrie, listener, nested, toChain } from './testing/builders.ts';
import { FQDN, healthySidecar, POD, seedBrokenSidecar, VIP, virtualInbound, virtualOutbound } from './testing/istio.ts';
import type { Json } from './json.ts';

const EXT = `outbound|5701||${FQDN.appExt}`;

function run(json: Json, query: ExplainQuery) {
  return explain(loadConfigDump(json), query);
}

test('healthy sidecar: a pod IP on 5701 stays on virtualOutbound and passes through', (t) => {
  const e = run(healthySidecar().build(), { dst: `${POD.managerB}:5701` });
  t.is(e.verdict, 'passthrough');
  t.is(e.listener, 'virtualOutbound');
  t.is(e.filterChain?.name, 'virtualOutbound-catchall-tcp');
  t.is(e.cluster?.name, 'PassthroughCluster');
  t.deepEqual(e.missing, []);
});

test('seed: the 0.0.0.0_5701 catch-all sends a pod IP to the ExternalName STRICT_DNS cluster (captured)', (t) => {
  const e = run(seedBrokenSidecar().build(), { dst: `${POD.managerB}:5701` });
  t.is(e.verdict, 'captured');
  t.is(e.listener, '0.0.0.0_5701');
  t.deepEqual(e.cluster, { name: EXT, type: 'STRICT_DNS', endpoints: [`${FQDN.idle}:5701`] });
  t.is(e.route, null);
  t.is(e.steps.at(-1), `verdict: captured (${POD.managerB} is not an endpoint)`);
  t.true(e.steps.some((s) => s === `cluster ${EXT} (STRICT_DNS ${FQDN.idle}:5701)`));
});

test('seed: a Service VIP with its own listener is still a service call', (t) => {
  const e = run(seedBrokenSidecar().build(), { dst: `${VIP.manager}:5701` });
  t.is(e.verdict, 'service');
  t.is(e.listener, `${VIP.manager}_5701`);
});

test('Istio 1.3–1.5: the own-pod-IP chain of the catch-all listener goes to BlackHoleCluster', (t) => {
  const dump = seedBrokenSidecar({ ownIpBlackhole: true }).build();
  const own = run(dump, { dst: `${POD.managerA}:5701` });
  t.is(own.verdict, 'blackhole');
  t.is(own.filterChain?.index, 0);
  t.deepEqual(own.filterChain?.match, { prefixRanges: [`${POD.managerA}/32`] });
  // The other pod falls to the less specific (catch-all) chain, index 1.
  const other = run(dump, { dst: `${POD.managerB}:5701` });
  t.is(other.verdict, 'captured');
  t.is(other.filterChain?.index, 1);
  t.true(other.steps.includes('filter chain 1 (no destination match: catch-all)'));
});

test('hand-written 1.6 istioctl dump (camelCase, v2 filter names) reproduces the seed', (t) => {
  const json = JSON.parse(readFileSync(new URL('./fixtures/seed-1.6-istioctl-all.json', import.meta.url), 'utf8')) as Json;
  const dump = loadConfigDump(json);
  t.is(dump.node.podIp, '10.244.1.5');
  t.is(dump.node.istioVersion, '1.6.5');
  const e = explain(dump, { dst: '10.244.1.7:5701' });
  t.is(e.verdict, 'captured');
  t.is(e.filterChain?.index, 1);
  t.is(e.cluster?.name, EXT);
  // The VIP listener, and the pod's own IP taken by its inbound listener.
  t.is(explain(dump, { dst: '10.96.20.20:5701' }).verdict, 'service');
  const own = explain(dump, { dst: '10.244.1.5:5701' });
  t.is(own.listener, '10.244.1.5_5701');
  t.is(own.verdict, 'service');
  // No EndpointsConfigDump: not needed for these answers.
  t.deepEqual(e.missing, []);
});

test('HTTP 8080: a pod-IP Host matches no service domain and falls to allow_any (passthrough)', (t) => {
  const e = run(healthySidecar().build(), { dst: `${POD.app}:8080` });
  t.is(e.verdict, 'passthrough');
  t.deepEqual(e.route, { config: '8080', virtualHost: 'allow_any', route: 'allow_any' });
  t.true(e.steps.includes(`virtual host allow_any (domain "*": no other domain matches ${POD.app}:8080)`));
});

test('HTTP 8080: Host of a service goes to its EDS cluster; the endpoint decides service', (t) => {
  const json = healthySidecar().build();
  const byName = run(json, { dst: `${VIP.app}:8080`, host: `${FQDN.app}:8080` });
  t.is(byName.verdict, 'service');
  t.is(byName.route?.virtualHost, `${FQDN.app}:8080`);
  t.deepEqual(byName.cluster?.endpoints, [`${POD.app}:8080`]);
  // A pod IP dialled with a service Host: the service owns the pod, so it is a service call.
  t.is(run(json, { dst: `${POD.app}:8080`, host: FQDN.app }).verdict, 'service');
  // ...but a pod of another service, dialled with app's Host, is captured by app's cluster.
  t.is(run(json, { dst: `${POD.idle}:8080`, host: FQDN.app }).verdict, 'captured');
});

test('HTTP 8080 with a headless Service: its "*" fallback keeps pod-IP calls on a service cluster', (t) => {
  const e = run(healthySidecar({ headless: true }).build(), { dst: `${POD.managerB}:8080` });
  t.is(e.verdict, 'service');
  t.is(e.route?.virtualHost, `${FQDN.managerHeadless}:8080`);
  t.is(e.cluster?.type, 'ORIGINAL_DST');
  const perPod = run(healthySidecar({ headless: true }).build(), { dst: `${POD.managerB}:8080`, host: `manager-0.${FQDN.managerHeadless}:8080` });
  t.true(perPod.steps.some((s) => s.includes(`exact domain "manager-0.${FQDN.managerHeadless}:8080"`)));
});

test('inbound: plaintext to a STRICT port is rejected (filter_chain_not_found); PERMISSIVE accepts it', (t) => {
  const strict = run(healthySidecar({ inbound: 'STRICT' }).build(), { dst: `${POD.managerA}:5701`, inbound: true });
  t.is(strict.direction, 'inbound');
  t.is(strict.verdict, 'rejected');
  t.is(strict.filterChain, null);
  t.regex(strict.steps.at(-1) ?? '', /plaintext refused.*filter_chain_not_found/);
  const permissive = run(healthySidecar({ inbound: 'PERMISSIVE' }).build(), { dst: `${POD.managerA}:5701`, inbound: true });
  t.is(permissive.verdict, 'service');
  t.is(permissive.cluster?.name, 'inbound|5701||');
  t.deepEqual(permissive.filterChain?.match, { destinationPort: 5701, transportProtocol: 'raw_buffer' });
  const mtls = run(healthySidecar({ inbound: 'STRICT' }).build(), { dst: `${POD.managerA}:5701`, inbound: true, transport: 'tls' });
  t.is(mtls.verdict, 'service');
  t.deepEqual(mtls.filterChain?.match, { destinationPort: 5701, transportProtocol: 'tls' });
});

test('inbound HTTP goes through the inline route config; an undeclared port uses the passthrough chain', (t) => {
  const json = healthySidecar().build();
  const http = run(json, { dst: `${POD.managerA}:8080`, inbound: true });
  t.is(http.verdict, 'service');
  t.deepEqual(http.route, { config: 'inbound|8080||', virtualHost: 'inbound|http|8080', route: 'default' });
  const undeclared = run(json, { dst: `${POD.managerA}:9999`, inbound: true });
  t.is(undeclared.verdict, 'passthrough');
  t.is(undeclared.filterChain?.name, 'virtualInbound-catchall-raw_buffer');
  const strictUndeclared = run(healthySidecar({ inbound: 'STRICT' }).build(), { dst: `${POD.managerA}:9999`, inbound: true });
  t.is(strictUndeclared.verdict, 'rejected');
});

test('IPv6: [::]_PORT is the wildcard for IPv6 destinations; dual-stack lists :: as an additional address', (t) => {
  const v6 = configDump()
    .listener(virtualOutbound('ALLOW_ANY', '::'))
    .listener(listener('[::]_5701', '::', 5701).chain(chain().tcpProxy(EXT)))
    .cluster(cluster(EXT).strictDns(FQDN.idle, 5701))
    .build();
  const e = run(v6, { dst: '[fd00:10:244::7]:5701' });
  t.is(e.listener, '[::]_5701');
  t.is(e.verdict, 'captured');
  t.is(e.dst, '[fd00:10:244::7]:5701');
  t.is(run(v6, { dst: '[fd00:10:244::7]:5702' }).verdict, 'passthrough');
  // An IPv4 destination does not use the IPv6 wildcard.
  t.is(run(v6, { dst: '10.244.1.7:5701' }).listener, 'virtualOutbound');

  const dual = configDump()
    .listener(virtualOutbound().additionalAddress('::', 15001))
    .listener(listener('0.0.0.0_5701', '0.0.0.0', 5701).additionalAddress('::', 5701).chain(chain().destinationPrefix('fd00:10:244::5', 128).tcpProxy('BlackHoleCluster')).chain(chain().tcpProxy(EXT)))
    .cluster(cluster(EXT).strictDns(FQDN.idle, 5701))
    .build();
  t.is(run(dual, { dst: '[fd00:10:244::7]:5701' }).listener, '0.0.0.0_5701');
  t.is(run(dual, { dst: '[fd00:10:244:0::5]:5701' }).verdict, 'blackhole');
});

test('filter_chain_matcher: port → destination IP trie → chain, on_no_match to passthrough', (t) => {
  const json = configDump()
    .listener(
      virtualOutbound()
        .chain(chain().name('to-app').tcpProxy(`outbound|5701||${FQDN.app}`))
        .filterChainMatcher(
          exactMap(
            inputs.port,
            {
              '5701': nested(ipTrie(inputs.ip, [{ cidr: `${VIP.app}/32`, onMatch: toChain('to-app') }, { cidr: '10.244.0.0/16', onMatch: toChain('virtualOutbound-blackhole') }], toChain('virtualOutbound-catchall-tcp'))),
            },
            toChain('virtualOutbound-catchall-tcp'),
          ),
        ),
    )
    .cluster(cluster(`outbound|5701||${FQDN.app}`).eds())
    .endpoint(`outbound|5701||${FQDN.app}`, `${POD.app}:5701`)
    .build();
  const vip = run(json, { dst: `${VIP.app}:5701` });
  t.is(vip.filterChain?.name, 'to-app');
  t.is(vip.verdict, 'service');
  t.deepEqual(vip.filterChain?.match, { filterChainMatcher: ['port=5701', `ip ${VIP.app}/32`] });
  // filter_chain_match on the chains is ignored when a matcher exists: 10.244/16 → blackhole chain.
  t.is(run(json, { dst: `${POD.app}:5701` }).verdict, 'blackhole');
  t.is(run(json, { dst: '192.168.1.1:5701' }).verdict, 'passthrough');
  t.is(run(json, { dst: `${POD.app}:9000` }).filterChain?.name, 'virtualOutbound-catchall-tcp');
});

test('snake_case admin dump and camelCase istioctl dump give identical explanations', (t) => {
  const snake = seedBrokenSidecar({ ownIpBlackhole: true }).build();
  const camel = camelize(snake);
  t.not(JSON.stringify(snake), JSON.stringify(camel));
  t.true(JSON.stringify(camel).includes('"filterChains"'));
  const queries: ExplainQuery[] = [
    { dst: `${POD.managerB}:5701` },
    { dst: `${POD.managerA}:5701` },
    { dst: `${POD.app}:8080` },
    { dst: `${VIP.app}:8080`, host: FQDN.app },
    { dst: `${POD.managerA}:5701`, inbound: true },
  ];
  for (const q of queries) t.deepEqual(run(camel, q), run(snake, q), JSON.stringify(q));
});

test('missing sections lower certainty instead of crashing', (t) => {
  // `istioctl proxy-config listeners -o json`: listeners only.
  const listenersOnly = seedBrokenSidecar().buildListenerArray();
  const e = run(listenersOnly, { dst: `${POD.managerB}:5701` });
  t.is(e.verdict, 'unknown');
  t.is(e.cluster?.name, EXT);
  t.true(e.missing.some((m) => m.includes('ClustersConfigDump')));
  // PassthroughCluster needs no cluster definition.
  t.is(run(healthySidecar().buildListenerArray(), { dst: `${POD.managerB}:5701` }).verdict, 'passthrough');
  // HTTP without the RoutesConfigDump.
  const noRoutes = run(healthySidecar().without('routes').build(), { dst: `${POD.app}:8080` });
  t.is(noRoutes.verdict, 'unknown');
  t.true(noRoutes.missing.some((m) => m.includes('RoutesConfigDump')));
  // No listeners at all.
  const noListeners = run(healthySidecar().without('listeners').build(), { dst: `${POD.app}:8080` });
  t.is(noListeners.verdict, 'unknown');
  t.true(noListeners.missing.some((m) => m.includes('ListenersConfigDump')));
});

test('EDS without the EndpointsConfigDump: unknown, and says to fetch it', (t) => {
  const json = configDump()
    .listener(virtualOutbound())
    .listener(listener('0.0.0.0_5701', '0.0.0.0', 5701).chain(chain().tcpProxy(`outbound|5701||${FQDN.app}`)))
    .cluster(cluster(`outbound|5701||${FQDN.app}`).eds())
    .build();
  const e = run(json, { dst: `${POD.managerB}:5701` });
  t.is(e.verdict, 'unknown');
  t.true(e.missing.some((m) => m.includes('EndpointsConfigDump')));
});

test('a filtered listener array without virtualOutbound cannot explain an unknown port', (t) => {
  const json = configDump().listener(listener('0.0.0.0_8080', '0.0.0.0', 8080).chain(chain().httpRds('8080'))).buildListenerArray();
  const e = run(json, { dst: `${POD.app}:5701` });
  t.is(e.verdict, 'unknown');
  t.true(e.missing.some((m) => m.includes('virtualOutbound')));
});

test('REGISTRY_ONLY: unknown destinations go to BlackHoleCluster', (t) => {
  const json = configDump().listener(virtualOutbound('REGISTRY_ONLY')).build();
  t.is(run(json, { dst: `${POD.app}:5701` }).verdict, 'blackhole');
});

test('weighted clusters: the heaviest decides and every weight is listed', (t) => {
  const json = configDump()
    .listener(virtualOutbound())
    .listener(listener(`${VIP.app}_5701`, VIP.app, 5701).chain(chain().weightedTcpProxy([{ name: 'PassthroughCluster', weight: 10 }, { name: 'BlackHoleCluster', weight: 90 }])))
    .build();
  const e = run(json, { dst: `${VIP.app}:5701` });
  t.is(e.cluster?.name, 'BlackHoleCluster');
  t.true(e.steps.some((s) => s.includes('PassthroughCluster (10)') && s.includes('BlackHoleCluster (90)')));
});

test('a listener with no matching chain and no default rejects; default_filter_chain catches the rest', (t) => {
  const only = configDump().listener(virtualOutbound()).listener(listener('0.0.0.0_443', '0.0.0.0', 443).listenerFilters('envoy.filters.listener.tls_inspector').chain(chain().serverNames('api.example.com').tcpProxy('PassthroughCluster')));
  t.is(run(only.build(), { dst: '1.2.3.4:443' }).verdict, 'rejected');
  t.is(run(only.build(), { dst: '1.2.3.4:443', sni: 'api.example.com' }).verdict, 'passthrough');
  const withDefault = configDump().listener(listener('0.0.0.0_443', '0.0.0.0', 443).chain(chain().serverNames('api.example.com').tcpProxy('PassthroughCluster')).defaultFilterChain(chain().tcpProxy('BlackHoleCluster')));
  const e = run(withDefault.build(), { dst: '1.2.3.4:443' });
  t.is(e.verdict, 'blackhole');
  t.is(e.filterChain?.index, -1);
});

test('a bad --dst is a UsageError naming the value', (t) => {
  const dump = loadConfigDump(healthySidecar().build());
  for (const dst of ['10.244.1.7', 'pod:5701', '10.244.1.7:0', '10.244.1.7:70000', '::1:80', '']) {
    const error = t.throws(() => explain(dump, { dst }));
    t.is(error?.name, 'UsageError');
    t.true(error?.message.includes(`'${dst}'`));
  }
});

test('warming listeners are reported as missing certainty', (t) => {
  const json = healthySidecar().warmingListener(listener('0.0.0.0_5701', '0.0.0.0', 5701).chain(chain().tcpProxy(EXT))).build();
  const dump = loadConfigDump(json);
  t.deepEqual(dump.warmingListeners, ['0.0.0.0_5701']);
  const e = explain(dump, { dst: `${POD.managerB}:5701` });
  t.is(e.verdict, 'passthrough');
  t.true(e.missing.some((m) => m.includes('warming')));
});

test('the inbound fixture builder keeps one tls and one raw_buffer chain per port under PERMISSIVE', (t) => {
  const raw = virtualInbound('PERMISSIVE', [{ port: 5701, http: false }]).build();
  const chains = raw.filter_chains as Json[];
  t.is(chains.length, 1 + 2 + 2);
});

test('hand-written 1.24 STRICT server dump: plaintext refused, mTLS delivered, HTTP needs the istio-http ALPN', (t) => {
  const dump = loadConfigDump(JSON.parse(readFileSync(new URL('./fixtures/inbound-strict-1.24-admin.json', import.meta.url), 'utf8')) as Json);
  const plain = explain(dump, { dst: '10.244.1.7:5701', inbound: true });
  t.is(plain.verdict, 'rejected');
  t.regex(plain.steps.at(-1) ?? '', /plaintext refused/);
  const tcp = explain(dump, { dst: '10.244.1.7:5701', inbound: true, transport: 'tls' });
  t.is(tcp.verdict, 'service');
  t.is(tcp.filterChain?.name, '0.0.0.0_5701');
  // Without --protocol, the TCP ALPN finds no chain on 8080 and the HTTP one does: explain says it assumed HTTP.
  const http = explain(dump, { dst: '10.244.1.7:8080', inbound: true, transport: 'tls' });
  t.is(http.verdict, 'service');
  t.is(http.filterChain?.name, '0.0.0.0_8080');
  t.true(http.steps.some((s) => s.includes('assumed HTTP')));
  t.deepEqual(http.route, { config: 'inbound|8080||', virtualHost: 'inbound|http|8080', route: 'default' });
  t.is(explain(dump, { dst: '10.244.1.7:8080', inbound: true, transport: 'raw_buffer', protocol: 'http' }).verdict, 'rejected');
  // An undeclared port over mTLS takes the passthrough chain.
  t.is(explain(dump, { dst: '10.244.1.7:9090', inbound: true, transport: 'tls' }).verdict, 'passthrough');
});

test('a sniffed port: TCP and HTTP take different chains and explain says which one it assumed', (t) => {
  const json = configDump()
    .listener(virtualOutbound())
    .listener(
      listener('0.0.0.0_9000', '0.0.0.0', 9000)
        .listenerFilters('envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector')
        .chain(chain().name('http').alpn('http/1.1', 'h2c').httpRds('9000'))
        .chain(chain().name('tcp').tcpProxy('PassthroughCluster')),
    )
    .build();
  const tcp = run(json, { dst: `${POD.app}:9000` });
  t.is(tcp.filterChain?.name, 'tcp');
  t.true(tcp.missing.some((m) => m.startsWith('application protocol: HTTP would take filter chain 0 "http"')));
  t.is(run(json, { dst: `${POD.app}:9000`, protocol: 'http' }).filterChain?.name, 'http');
});

test('advice: captured over HTTP explains Host routing; unknown lists what is missing', (t) => {
  const captured = run(healthySidecar().build(), { dst: `${POD.idle}:8080`, host: FQDN.app });
  t.regex(advise(captured).fixes[0], /routed by Host, not by the dialled IP/);
  const unknown = run(seedBrokenSidecar().buildListenerArray(), { dst: `${POD.managerB}:5701` });
  t.regex(advise(unknown).meaning, /ClustersConfigDump/);
  const seed = run(seedBrokenSidecar().build(), { dst: `${POD.managerB}:5701` });
  t.regex(advise(seed).meaning, /This is the seed incident/);
  t.true(advise(seed).fixes.some((f) => f.includes('exportTo')));
});

test('TLS on a listener without tls_inspector is detected as raw_buffer, and explain says so', (t) => {
  const json = configDump()
    .listener(virtualOutbound())
    .listener(listener('0.0.0.0_443', '0.0.0.0', 443).chain(chain().transport('tls').tcpProxy('PassthroughCluster')).chain(chain().transport('raw_buffer').tcpProxy('BlackHoleCluster')))
    .build();
  const e = run(json, { dst: '1.2.3.4:443', transport: 'tls' });
  t.is(e.verdict, 'blackhole');
  t.true(e.missing.some((m) => m.includes('no tls_inspector')));
});
