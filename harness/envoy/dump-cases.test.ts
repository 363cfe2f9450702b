// Dumps as people have them, beyond a healthy sidecar: a listener Envoy rejected, a service
// without endpoints, a gateway, the capture ports themselves, an Istio 1.0 tcp_proxy, a pod IP
// the mesh knows, a port-filtered listener list. fixtures/SOURCES.md cites what each is built on.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { advise, explain, loadConfigDump, renderExplanation, type ExplainQuery } from './index.ts';
import { chain, cluster, configDump, listener } from './testing/builders.ts';
import { FQDN, healthySidecar, POD, VIP, virtualOutbound } from './testing/istio.ts';
import type { Json, JsonObject } from './json.ts';

const run = (json: Json, query: ExplainQuery) => explain(loadConfigDump(json), query);
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Json;
const configs = (json: JsonObject): JsonObject[] => json.configs as JsonObject[];
const section = (json: JsonObject, kind: string): JsonObject => configs(json).find((c) => String(c['@type']).endsWith(kind)) as JsonObject;

test('virtualInbound rejected by Envoy (error_state, no active_state): connections refused, no call for a fuller dump', (t) => {
  const e = run(fixture('rejected-virtual-inbound.json'), { dst: `${POD.managerA}:8080`, inbound: true });
  t.is(e.verdict, 'rejected');
  t.regex(e.steps.join('\n'), /Envoy rejected listener virtualInbound \(Error adding\/updating listener\(s\) virtualInbound: Proto constraint validation failed \(LuaValidationError\.InlineCode/);
  const text = renderExplanation(e);
  t.regex(text, /connections are refused/);
  t.notRegex(text, /full dump|re-capture/i);
  t.deepEqual(e.missing, []);
});

test('a rejected update while the old listener still serves is not a missing listener', (t) => {
  const json = fixture('rejected-virtual-inbound.json') as JsonObject;
  const listeners = section(json, 'ListenersConfigDump');
  const healthy = section(healthySidecar().build(), 'ListenersConfigDump');
  const active = (healthy.dynamic_listeners as JsonObject[]).find((l) => l.name === 'virtualInbound') as JsonObject;
  for (const l of listeners.dynamic_listeners as JsonObject[]) if (l.name === 'virtualInbound') l.active_state = active.active_state as Json;
  t.not(run(json, { dst: `${POD.managerA}:8080`, inbound: true }).verdict, 'rejected');
});

test('a service VIP whose EDS cluster has zero endpoints is no-healthy-upstream, not a healthy service', (t) => {
  const json = configDump()
    .node(POD.managerA, 'manager-7948dffbdd-p44xx', 'manager', '1.24.3')
    .listener(virtualOutbound())
    .listener(listener(`${VIP.app}_5701`, VIP.app, 5701).chain(chain().tcpProxy(`outbound|5701||${FQDN.app}`)))
    .cluster(cluster(`outbound|5701||${FQDN.app}`).eds())
    .endpoint(`outbound|5701||${FQDN.app}`)
    .build();
  const e = run(json, { dst: `${VIP.app}:5701` });
  t.is(e.verdict, 'no-healthy-upstream');
  t.regex(advise(e).meaning, /UH \(no_healthy_upstream\)/);
  // With endpoints it is the healthy service again: the verdict depends on them.
  const withPods = configDump()
    .listener(virtualOutbound())
    .listener(listener(`${VIP.app}_5701`, VIP.app, 5701).chain(chain().tcpProxy(`outbound|5701||${FQDN.app}`)))
    .cluster(cluster(`outbound|5701||${FQDN.app}`).eds())
    .endpoint(`outbound|5701||${FQDN.app}`, `${POD.app}:5701`)
    .build();
  t.is(run(withPods, { dst: `${VIP.app}:5701` }).verdict, 'service');
});

const GATEWAY_NODE = 'router~10.244.0.12~istio-ingressgateway-5d9f7c6b8-x2kq9.istio-system~istio-system.svc.cluster.local';
const HTTPBIN = 'outbound|8000||httpbin.default.svc.cluster.local';

/** An ingress gateway: the route config is istio's own testdata for a Gateway + VirtualService (see fixtures/SOURCES.md). */
function gatewayDump(endpoints: string[]): JsonObject {
  const json = configDump()
    .listener(listener('0.0.0.0_8080', '0.0.0.0', 8080).chain(chain().httpRds('http.8080')))
    .cluster(cluster(HTTPBIN).eds())
    .endpoint(HTTPBIN, ...endpoints)
    .without('routes')
    .build();
  configs(json).unshift({ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: GATEWAY_NODE } } });
  configs(json).push(fixture('gateway-routes-istio-testdata.json') as JsonObject);
  return json;
}

test('a gateway dump (router~ node id) is walked as a gateway: listener by port, route by Host and path', (t) => {
  const e = run(gatewayDump(['10.244.2.20:8080']), { dst: '10.244.0.12:8080', host: 'httpbin.example.com', path: '/get' });
  t.is(e.verdict, 'service');
  t.is(e.proxy, 'gateway');
  t.is(e.listener, '0.0.0.0_8080');
  t.deepEqual(e.route, { config: 'http.8080', virtualHost: 'httpbin.example.com:80', route: null });
  t.is(e.cluster?.name, HTTPBIN);
  const text = renderExplanation(e);
  t.regex(text, /The gateway accepts 10\.244\.0\.12:8080 on 0\.0\.0\.0_8080, matches virtual host "httpbin\.example\.com:80"/);
  t.notRegex(text, /client sidecar|captured/);
});

test('a gateway without a route for the path, without the port, or with no endpoints says so, never "client sidecar"', (t) => {
  const noRoute = run(gatewayDump(['10.244.2.20:8080']), { dst: '10.244.0.12:8080', host: 'httpbin.example.com', path: '/headers' });
  t.is(noRoute.verdict, 'rejected');
  t.regex(advise(noRoute).meaning, /^The gateway has nowhere to send/);
  const noPort = run(gatewayDump(['10.244.2.20:8080']), { dst: '10.244.0.12:9090', host: 'httpbin.example.com' });
  t.is(noPort.verdict, 'rejected');
  t.regex(noPort.steps.at(-1) ?? '', /no listener on port 9090/);
  const empty = run(gatewayDump([]), { dst: '10.244.0.12:8080', host: 'httpbin.example.com', path: '/get' });
  t.is(empty.verdict, 'no-healthy-upstream');
  t.regex(advise(empty).meaning, /The gateway routes 10\.244\.0\.12:8080 to outbound\|8000\|\|httpbin/);
  for (const e of [noRoute, noPort, empty]) t.notRegex(renderExplanation(e), /client sidecar/);
});

test('a waypoint dump (connect_terminate listener, no node id) is not explained as a sidecar', (t) => {
  const json = configDump().listener(listener('connect_terminate', '0.0.0.0', 15008).chain(chain().tcpProxy('main_internal'))).build();
  const e = run(json, { dst: `${POD.app}:8080` });
  t.is(e.verdict, 'unknown');
  t.regex(e.unsupported ?? '', /ambient waypoint/);
});

test('the capture ports themselves hit the loop-prevention chains: explained as such, not as REGISTRY_ONLY', (t) => {
  const out = run(healthySidecar().build(), { dst: `${POD.managerB}:15001` });
  t.is(out.verdict, 'blackhole');
  t.is(out.filterChain?.name, 'virtualOutbound-blackhole');
  t.regex(advise(out).meaning, /cannot loop.*not outboundTrafficPolicy REGISTRY_ONLY/s);
  const inbound = run(healthySidecar().build(), { dst: `${POD.managerA}:15006`, inbound: true });
  t.is(inbound.filterChain?.name, 'virtualInbound-blackhole');
  t.regex(advise(inbound).meaning, /capture port/);
  // An ordinary REGISTRY_ONLY drop keeps its own advice.
  const registryOnly = configDump().listener(virtualOutbound('REGISTRY_ONLY')).build();
  t.regex(advise(run(registryOnly, { dst: '93.184.216.34:443' })).meaning, /REGISTRY_ONLY/);
});

test('Istio 1.0 tcp_proxy with deprecated_v1 routes: the cluster comes from the route config', (t) => {
  const json = fixture('istio-1.0-deprecated-v1.json');
  const vip = run(json, { dst: '10.96.10.10:5701' });
  t.is(vip.cluster?.name, `outbound|5701||${FQDN.manager}`);
  t.true(vip.steps.some((s) => s.startsWith('deprecated_v1 route to outbound|5701||')));
  t.is(run(json, { dst: '10.96.20.20:5701' }).cluster?.name, `outbound|5701||${FQDN.app}`);
  const other = run(json, { dst: '10.96.99.99:5701' });
  t.is(other.verdict, 'rejected');
  t.regex(other.steps.join('\n'), /none of 2 routes matches 10\.96\.99\.99:5701/);
});

test('a pod IP that is an EDS endpoint is described as a mesh pod, never as unknown to the mesh', (t) => {
  const e = run(healthySidecar().build(), { dst: `${POD.managerB}:9000` });
  t.is(e.verdict, 'passthrough');
  t.deepEqual(e.endpointOf, [`outbound|5701||${FQDN.manager}`, `outbound|8080||${FQDN.manager}`]);
  const meaning = advise(e).meaning;
  t.regex(meaning, /is a pod of the mesh/);
  t.notRegex(meaning, /does not know/);
  // An address no cluster lists is still outside the mesh.
  t.regex(advise(run(healthySidecar().build(), { dst: '93.184.216.34:443' })).meaning, /The mesh does not know/);
});

test('a port-filtered listener list (proxy-config listener --port) gives unknown with that reason, not a confident verdict', (t) => {
  const onlyVirtualOutbound = configDump().listener(virtualOutbound('REGISTRY_ONLY')).buildListenerArray();
  const e = run(onlyVirtualOutbound, { dst: `${POD.app}:5701` });
  t.is(e.verdict, 'unknown');
  t.true(e.missing.some((m) => /only holds listeners on port 15001.*--port 15001/.test(m)));
  // The listener istio/istio#31555 posted from `--port 12950`: other destinations are not decidable from it.
  const posted = run(fixture('port-filtered-12950.json'), { dst: '10.244.0.31:8080' });
  t.is(posted.verdict, 'unknown');
});
