/**
 * explain: which listener, filter chain, route and cluster a connection takes in one sidecar,
 * computed from its config dump alone (a pure function of the loaded dump and the query).
 *
 * Outbound, as Envoy and Istio's iptables do it:
 *   1. iptables redirects the app's connection to virtualOutbound (15001, use_original_dst).
 *      Envoy hands it to the listener bound to exactly DST_IP:PORT, else to the wildcard
 *      listener of the same family (0.0.0.0_PORT for IPv4, [::]_PORT for IPv6; dual-stack
 *      Istio lists `::` as an additional address of 0.0.0.0_PORT), else it stays on
 *      virtualOutbound and its own chains decide (PassthroughCluster or BlackHoleCluster).
 *   2. In the listener, filter_chain_matcher if present, else filter_chain_match selection
 *      (see filter-chain.ts and matcher.ts), else default_filter_chain, else closed.
 *   3. The chain's terminal filter: tcp_proxy → cluster / weighted_clusters; or the HTTP
 *      connection manager → route config (RDS by name, or inline) → virtual host by Host →
 *      first matching route → cluster (see routes.ts).
 *   4. The cluster's type and endpoints: ORIGINAL_DST keeps the dialled address; STATIC,
 *      STRICT_DNS and LOGICAL_DNS carry load_assignment; EDS endpoints come from the
 *      EndpointsConfigDump when the dump has it.
 * Inbound: the same on virtualInbound (15006), by destination port and transport protocol.
 */
import { UsageError } from '../errors/index.ts';
import type { Connection, ChainDecision } from './connection.ts';
import { selectByFilterChainMatch } from './filter-chain.ts';
import { cidrContains, parseDestination, parseIp, sameIp, type Destination, type Ip } from './ip.ts';
import { SECTION_SOURCES, type ConfigDump } from './load.ts';
import { selectByMatcher } from './matcher.ts';
import type { ChainMatch, ClusterSpec, Endpoint, FilterChain, Listener } from './model.ts';
import { describePath, selectRoute, selectVirtualHost } from './routes.ts';

export type Verdict = 'passthrough' | 'service' | 'captured' | 'blackhole' | 'rejected' | 'no-healthy-upstream' | 'unknown';

export interface ExplainQuery {
  /** "IP:PORT" or "[IPv6]:PORT" the application dials. */
  dst: string;
  /** HTTP Host; default: the dst itself, which is what a client dialling a pod IP sends. */
  host?: string;
  /** TLS SNI the client sends (implies transport tls outbound). */
  sni?: string;
  inbound?: boolean;
  /** Transport protocol the listener detects; default raw_buffer (plaintext). */
  transport?: 'tls' | 'raw_buffer';
  /** Application protocol; default http when --host is given, else tcp. */
  protocol?: 'tcp' | 'http';
  /** HTTP request path for route matching; default "/". */
  path?: string;
  /** Client IP, only needed when chains match on source. */
  src?: string;
  /** ALPN offered; default derived from transport/protocol (Istio's mTLS ALPN for inbound tls). */
  alpn?: string[];
}

export interface Explanation {
  dst: string;
  direction: 'outbound' | 'inbound';
  listener: string | null;
  filterChain: { index: number; name: string | null; match: unknown } | null;
  route: { config: string; virtualHost: string; route: string | null } | null;
  cluster: { name: string; type: string | null; endpoints: string[] } | null;
  verdict: Verdict;
  steps: string[];
  missing: string[];
  /** Set when the dump is not one explain can walk (a gateway, a waypoint): says what it is instead. */
  unsupported?: string;
  /** Clusters whose EDS endpoints include the destination IP (set for passthrough): the mesh knows the pod. */
  endpointOf?: string[];
  /** Set when the dump is a gateway's (router~ node): the walk is listener by port, route by Host and path. */
  proxy?: 'gateway';
}

const PASSTHROUGH = /^(PassthroughCluster|InboundPassthroughCluster(Ipv4|Ipv6)?)$/;
const BLACKHOLE = 'BlackHoleCluster';
const HTTP_INSPECTOR = new Set(['envoy.filters.listener.http_inspector', 'envoy.listener.http_inspector']);
const TLS_INSPECTOR = new Set(['envoy.filters.listener.tls_inspector', 'envoy.listener.tls_inspector']);

class Walk {
  steps: string[] = [];
  missing: string[] = [];
  listener: string | null = null;
  filterChain: Explanation['filterChain'] = null;
  route: Explanation['route'] = null;
  cluster: Explanation['cluster'] = null;
  /** The dialled address is the service's own address (VIP listener, /32 chain or exact IP domain). */
  vip = false;
  vipWhy = '';
  private readonly direction: 'outbound' | 'inbound';
  private readonly dst: Destination;

  constructor(dst: Destination, direction: 'outbound' | 'inbound') {
    this.dst = dst;
    this.direction = direction;
  }

  need(what: string): void {
    if (!this.missing.includes(what)) this.missing.push(what);
  }

  unsupported: string | undefined;
  endpointOf: string[] | undefined;
  /** A gateway routes what it accepts to the cluster its route names: the dialled address is the gateway's own. */
  gateway = false;

  finish(verdict: Verdict, why: string): Explanation {
    this.steps.push(`verdict: ${verdict}${why ? ` (${why})` : ''}`);
    const out: Explanation = {
      dst: this.dst.text,
      direction: this.direction,
      listener: this.listener,
      filterChain: this.filterChain,
      route: this.route,
      cluster: this.cluster,
      verdict,
      steps: this.steps,
      missing: this.missing,
    };
    if (this.unsupported !== undefined) out.unsupported = this.unsupported;
    if (this.gateway) out.proxy = 'gateway';
    if (this.endpointOf !== undefined) out.endpointOf = this.endpointOf;
    return out;
  }
}

/** The filter_chain_match as plain JSON (camelCase, only the fields set), for --json. */
function matchJson(m: ChainMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.destinationPort !== null) out.destinationPort = m.destinationPort;
  if (m.prefixRanges.length) out.prefixRanges = m.prefixRanges.map((r) => r.text);
  if (m.serverNames.length) out.serverNames = m.serverNames;
  if (m.transportProtocol) out.transportProtocol = m.transportProtocol;
  if (m.applicationProtocols.length) out.applicationProtocols = m.applicationProtocols;
  if (m.directSourcePrefixRanges.length) out.directSourcePrefixRanges = m.directSourcePrefixRanges.map((r) => r.text);
  if (m.sourceType !== 'ANY') out.sourceType = m.sourceType;
  if (m.sourcePrefixRanges.length) out.sourcePrefixRanges = m.sourcePrefixRanges.map((r) => r.text);
  if (m.sourcePorts.length) out.sourcePorts = m.sourcePorts;
  return out;
}

function connectionFor(listener: Listener, dst: Destination, query: ExplainQuery, inbound: boolean): Connection {
  const protocol = query.protocol ?? (query.host !== undefined || query.path !== undefined ? 'http' : 'tcp');
  let transport: string = query.transport ?? (query.sni ? 'tls' : 'raw_buffer');
  // Without a tls_inspector nothing detects TLS; Envoy then reports raw_buffer.
  if (transport === 'tls' && !listener.listenerFilters.some((f) => TLS_INSPECTOR.has(f))) transport = 'raw_buffer';
  let alpn = query.alpn;
  if (!alpn) {
    if (transport === 'tls') alpn = inbound ? (protocol === 'http' ? ['istio-http/1.1', 'istio'] : ['istio-peer-exchange', 'istio']) : [];
    else alpn = protocol === 'http' && listener.listenerFilters.some((f) => HTTP_INSPECTOR.has(f)) ? ['http/1.1'] : [];
  }
  const src = query.src ? parseIp(query.src) : null;
  return { dst: dst.ip, port: dst.port, src, srcPort: null, serverName: transport === 'tls' ? (query.sni ?? '') : '', transportProtocol: transport, applicationProtocols: alpn };
}

function selectChain(listener: Listener, conn: Connection): ChainDecision<FilterChain> {
  return listener.matcher
    ? selectByMatcher(listener.matcher, listener.filterChains, listener.defaultFilterChain, conn)
    : selectByFilterChainMatch(listener.filterChains, listener.defaultFilterChain, conn);
}

function chainLabel(chain: FilterChain): string {
  if (chain.index < 0) return `default_filter_chain${chain.name ? ` "${chain.name}"` : ''}`;
  return `filter chain ${chain.index}${chain.name ? ` "${chain.name}"` : ''}`;
}

function endpointList(endpoints: Endpoint[]): string {
  if (endpoints.length === 0) return 'no endpoints';
  const shown = endpoints.slice(0, 4).map((e) => e.text).join(', ');
  return endpoints.length > 4 ? `${shown}, … ${endpoints.length} in all` : shown;
}

/** The IP in a domain or Host ("10.96.0.1", "10.96.0.1:8080", "[fd00::1]:8080", "fd00::1"), if any. */
function hostIp(host: string): Ip | null {
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(host);
  if (bracketed) return parseIp(bracketed[1]);
  return parseIp(host) ?? parseIp(host.replace(/:\d+$/, ''));
}

/** The cluster the chain's terminal filter sends to, following HTTP routes when needed. */
function clusterTarget(dump: ConfigDump, chain: FilterChain, dst: Destination, query: ExplainQuery, walk: Walk): ClusterSpec | Explanation {
  // Terminal filters come last; earlier ones (metadata exchange, RBAC, stats) only observe.
  const terminal = [...chain.filters].reverse().find((f) => f.kind !== 'other');
  if (!terminal) {
    walk.steps.push(`filters: ${chain.filters.map((f) => f.name).join(', ') || 'none'}`);
    walk.need(`a tcp_proxy or http_connection_manager in ${chainLabel(chain)}`);
    return walk.finish('unknown', 'the chain has no tcp_proxy or HTTP connection manager explain understands');
  }
  if (terminal.kind === 'tcp_proxy') {
    walk.steps.push('tcp_proxy');
    if (!terminal.target && terminal.v1Routes.length > 0) {
      // Istio 1.0: one tcp_proxy holds the clusters per destination (deprecated_v1 routes), first match wins.
      const route = terminal.v1Routes.find((r) =>
        (r.destinationIps.length === 0 || r.destinationIps.some((c) => cidrContains(c, dst.ip))) && portListHas(r.destinationPorts, dst.port));
      if (!route) {
        walk.steps.push(`deprecated_v1 route config: none of ${terminal.v1Routes.length} routes matches ${dst.text}`);
        return walk.finish('rejected', 'no deprecated_v1 tcp_proxy route matches: Envoy closes the connection');
      }
      walk.steps.push(`deprecated_v1 route to ${route.cluster}${route.destinationIps.length ? ` (destination ${route.destinationIps.map((c) => c.text).join(', ')})` : ''}`);
      return { kind: 'cluster', name: route.cluster };
    }
    if (!terminal.target) {
      walk.need('the tcp_proxy cluster (neither cluster nor weighted_clusters is set)');
      return walk.finish('unknown', 'tcp_proxy without a cluster');
    }
    return terminal.target;
  }
  const configName = terminal.rds;
  const config = terminal.routeConfig ?? (configName !== null ? dump.routeConfig(configName) : undefined);
  walk.steps.push(`http_connection_manager (${terminal.routeConfig ? 'inline route config' : `RDS route config "${configName ?? '?'}"`})`);
  if (!config) {
    if (!dump.sections.has('routes')) walk.need(SECTION_SOURCES.routes);
    else walk.need(`route config "${configName ?? '?'}" (not in the RoutesConfigDump)`);
    return walk.finish('unknown', `route config "${configName ?? '?'}" is not in the dump`);
  }
  const host = query.host ?? dst.text;
  const vh = selectVirtualHost(config, host);
  if (!vh) {
    walk.route = { config: config.name || configName || '', virtualHost: '', route: null };
    walk.steps.push(`no virtual host matches Host ${host}`);
    return walk.finish('rejected', `no virtual host for Host ${host}: Envoy answers 404 (NR route_not_found)`);
  }
  const domainWhy = vh.kind === 'default' ? `domain "*": no other domain matches ${host}` : `${vh.kind} domain "${vh.domain}"`;
  walk.steps.push(`virtual host ${vh.virtualHost.name} (${domainWhy})`);
  // Istio lists a service's VIP among its domains: dialling that VIP is a service call whatever the Host.
  const ownsDst = vh.virtualHost.domains.some((d) => {
    const ip = hostIp(d);
    return ip !== null && sameIp(ip, dst.ip);
  });
  if (ownsDst && !walk.vip) {
    walk.vip = true;
    walk.vipWhy = `${dst.ip.text} is the VIP of ${vh.virtualHost.name}`;
  }
  const path = query.path ?? '/';
  const picked = selectRoute(vh.virtualHost, path);
  for (const u of picked.uncertain) walk.need(u);
  walk.route = { config: config.name || configName || '', virtualHost: vh.virtualHost.name, route: picked.route?.name ?? null };
  if (!picked.route) {
    walk.steps.push(`no route matches path ${path}`);
    return walk.finish('rejected', `no route for ${path} in ${vh.virtualHost.name}: Envoy answers 404 (NR route_not_found)`);
  }
  const r = picked.route;
  walk.steps.push(`route ${r.name ? `"${r.name}"` : `#${r.index}`} (${describePath(r)})`);
  switch (r.action.kind) {
    case 'cluster':
      return r.action.target;
    case 'direct_response':
      return walk.finish('blackhole', `the route answers ${r.action.status ?? '?'} itself (direct_response); nothing leaves the sidecar`);
    case 'redirect':
      walk.need('the redirect target (the route answers with a redirect)');
      return walk.finish('unknown', 'the route redirects; follow the Location header');
    case 'cluster_header':
      walk.need(`the value of header ${r.action.header} (cluster_header route)`);
      return walk.finish('unknown', `the cluster comes from request header ${r.action.header}`);
    case 'other':
      walk.need(`the route's action (${r.action.detail})`);
      return walk.finish('unknown', r.action.detail);
  }
}

/** A v1 `destination_ports` list ("80,443,8000-9000"); null is any port. */
function portListHas(list: string | null, port: number): boolean {
  if (list === null || list.trim() === '') return true;
  return list.split(',').some((part) => {
    const [lo, hi] = part.trim().split('-').map(Number);
    return hi === undefined ? lo === port : port >= lo && port <= hi;
  });
}

// Istio's chains that drop connections addressed to the capture ports themselves (pilot/pkg/model, VirtualOutboundBlackholeFilterChainName).
const LOOP_CHAINS = new Set(['virtualOutbound-blackhole', 'virtualInbound-blackhole']);

function explainCluster(dump: ConfigDump, spec: ClusterSpec, dst: Destination, inbound: boolean, walk: Walk): Explanation {
  let name: string;
  if (spec.kind === 'weighted') {
    const sorted = [...spec.clusters].sort((a, b) => b.weight - a.weight);
    name = sorted[0]?.name ?? '';
    walk.steps.push(`weighted clusters ${spec.clusters.map((c) => `${c.name} (${c.weight})`).join(', ')}: explaining the heaviest`);
  } else {
    name = spec.name;
  }
  if (PASSTHROUGH.test(name)) {
    walk.cluster = { name, type: dump.cluster(name)?.type ?? 'ORIGINAL_DST', endpoints: [dst.text] };
    walk.steps.push(`cluster ${name} (ORIGINAL_DST: connects to ${dst.text} as dialled)`);
    if (inbound) return walk.finish('passthrough', `original destination ${dst.text} kept, delivered to the app without an inbound service cluster`);
    // A pod of some service is known to the mesh: passthrough then means no listener routes its IP on this port.
    const owners = dump.clustersWithEndpoint(dst.ip.text);
    if (owners.length > 0) {
      walk.endpointOf = owners;
      walk.steps.push(`${dst.ip.text} is an EDS endpoint of ${owners.slice(0, 3).join(', ')}${owners.length > 3 ? `, … ${owners.length} in all` : ''}`);
      return walk.finish('passthrough', `original destination ${dst.text} kept: a mesh pod, but no listener routes its IP on port ${dst.port}, so no Istio mTLS`);
    }
    return walk.finish('passthrough', `original destination ${dst.text} kept, outside the mesh: no Istio mTLS`);
  }
  if (name === BLACKHOLE) {
    walk.cluster = { name, type: dump.cluster(name)?.type ?? 'STATIC', endpoints: [] };
    walk.steps.push(`cluster ${name} (no endpoints)`);
    if ((walk.filterChain?.name && LOOP_CHAINS.has(walk.filterChain.name)) || dst.port === 15001 || dst.port === 15006) {
      return walk.finish('blackhole', `loop prevention: a connection addressed to the sidecar's own capture port ${dst.port} is dropped, so redirected traffic cannot loop back into Envoy`);
    }
    return walk.finish('blackhole', 'the connection is accepted and closed: nothing leaves the sidecar');
  }
  const cluster = dump.cluster(name);
  if (!cluster) {
    walk.cluster = { name, type: null, endpoints: [] };
    walk.steps.push(`cluster ${name} (not in the dump)`);
    walk.need(dump.sections.has('clusters') ? `cluster ${name} (referenced but absent from the ClustersConfigDump: still warming?)` : SECTION_SOURCES.clusters);
    if (inbound || walk.vip) return walk.finish('service', inbound ? `inbound cluster ${name} delivers to the app` : walk.vipWhy);
    return walk.finish('unknown', `cluster ${name} is not in the dump`);
  }
  let endpoints: Endpoint[] | null = cluster.endpoints;
  let detail: string;
  if (cluster.type === 'ORIGINAL_DST') {
    endpoints = [{ address: dst.ip.text, port: dst.port, ip: dst.ip, text: dst.text }];
    detail = `ORIGINAL_DST: connects to ${dst.text} as dialled`;
  } else if (cluster.type === 'EDS') {
    const eds = dump.edsEndpoints(cluster.edsServiceName ?? name) ?? dump.edsEndpoints(name);
    if (eds) endpoints = eds;
    else if (dump.sections.has('endpoints')) endpoints = [];
    else endpoints = null;
    detail = endpoints ? `EDS ${endpointList(endpoints)}` : 'EDS, endpoints not in the dump';
  } else {
    detail = `${cluster.type} ${endpoints ? endpointList(endpoints) : 'without load_assignment'}`;
  }
  walk.cluster = { name, type: cluster.type, endpoints: (endpoints ?? []).map((e) => e.text) };
  walk.steps.push(`cluster ${name} (${detail})`);
  if (inbound) return walk.finish('service', `inbound cluster ${name} delivers to the app`);
  if (walk.gateway) {
    if (endpoints !== null && endpoints.length === 0) return walk.finish('no-healthy-upstream', `the gateway routes to ${name}, which has no endpoints: expect UH no_healthy_upstream (HTTP 503)`);
    if (endpoints === null) walk.need(SECTION_SOURCES.endpoints);
    return walk.finish('service', `the gateway routes to ${name}`);
  }
  // The service owns the address but has nowhere to send it: Envoy answers UH (no_healthy_upstream).
  if (walk.vip && endpoints !== null && endpoints.length === 0) {
    return walk.finish('no-healthy-upstream', `${walk.vipWhy}, but ${name} has no endpoints: expect UH no_healthy_upstream (TCP closed at once, HTTP 503)`);
  }
  if (walk.vip) return walk.finish('service', walk.vipWhy);
  if (!endpoints) {
    walk.need(SECTION_SOURCES.endpoints);
    return walk.finish('unknown', `cannot tell whether ${dst.ip.text} is an endpoint of ${name}`);
  }
  if (endpoints.some((e) => e.ip !== null && sameIp(e.ip, dst.ip))) return walk.finish('service', `${dst.ip.text} is an endpoint of ${name}`);
  if (endpoints.length === 0) return walk.finish('captured', `${name} has no endpoints: ${dst.ip.text} is not an endpoint (expect UH no_healthy_upstream)`);
  return walk.finish('captured', `${dst.ip.text} is not an endpoint`);
}

function explainInListener(dump: ConfigDump, listener: Listener, dst: Destination, query: ExplainQuery, inbound: boolean, walk: Walk): Explanation {
  let conn = connectionFor(listener, dst, query, inbound);
  if ((query.transport === 'tls' || (query.transport === undefined && query.sni)) && conn.transportProtocol !== 'tls') {
    walk.need(`transport: ${listener.name} has no tls_inspector listener filter, so Envoy detects raw_buffer even for TLS`);
  }
  let decision = selectChain(listener, conn);
  const protocolGiven = query.protocol !== undefined || query.host !== undefined || query.path !== undefined || query.alpn !== undefined;
  if (!protocolGiven) {
    // Chains may split one port by ALPN (Istio's protocol sniffing, istio-http/* on mTLS):
    // when the caller did not say, see whether HTTP would be treated differently.
    const httpConn = connectionFor(listener, dst, { ...query, protocol: 'http' }, inbound);
    if (httpConn.applicationProtocols.join() !== conn.applicationProtocols.join()) {
      const httpDecision = selectChain(listener, httpConn);
      if (!decision.chain && httpDecision.chain) {
        conn = httpConn;
        decision = { ...httpDecision, reason: `${httpDecision.reason}; assumed HTTP: no chain takes it as plain TCP` };
      } else if (decision.chain && httpDecision.chain && httpDecision.chain !== decision.chain) {
        walk.need(`application protocol: HTTP would take ${chainLabel(httpDecision.chain)} instead (explained as TCP; pass --protocol http or --host)`);
      }
    }
  }
  for (const u of decision.uncertain) walk.need(u);
  if (!decision.chain) {
    walk.steps.push(`no filter chain (${decision.reason})`);
    if (inbound) {
      const hasTls = listener.filterChains.some((c) => c.match.destinationPort === dst.port && c.match.transportProtocol === 'tls');
      const plaintextRefused = conn.transportProtocol === 'raw_buffer' && hasTls;
      return walk.finish(
        'rejected',
        plaintextRefused
          ? `plaintext refused: port ${dst.port} only accepts mTLS (STRICT); the server sidecar logs NR filter_chain_not_found`
          : `no chain accepts ${conn.transportProtocol} on port ${dst.port}: NR filter_chain_not_found`,
      );
    }
    return walk.finish('rejected', 'no filter chain matches: the connection is closed (NR filter_chain_not_found)');
  }
  const chain = decision.chain;
  walk.filterChain = {
    index: chain.index,
    name: chain.name,
    match: decision.matcherPath ? { filterChainMatcher: decision.matcherPath } : matchJson(chain.match),
  };
  walk.steps.push(`${chainLabel(chain)} (${decision.reason})`);
  if (decision.exactDestination && !walk.vip) {
    walk.vip = true;
    walk.vipWhy = `the chain is specific to ${dst.ip.text}`;
  }
  const target = clusterTarget(dump, chain, dst, query, walk);
  if ('verdict' in target) return target;
  return explainCluster(dump, target, dst, inbound, walk);
}

function parseQueryDestination(text: string): Destination {
  const dst = parseDestination(text);
  if (!dst) throw new UsageError(`--dst '${text}' is not IP:PORT`, { hint: 'Give the address the client dials, e.g. --dst 10.244.1.7:5701 or --dst [fd00::7]:5701.' });
  return dst;
}

/** What kind of Envoy the dump comes from, when it is not a sidecar explain can walk. */
function notASidecar(dump: ConfigDump): string | null {
  const type = dump.node.type;
  // Node ids: sidecar~, router~ (gateways), waypoint~, ztunnel~ (pilot/pkg/model/context.go NodeType).
  if (type === 'waypoint' || (type === null && dump.containsListener('connect_terminate'))) return 'an ambient waypoint: it receives HBONE from ztunnel, not connections captured from an app';
  if (type === 'ztunnel') return 'ztunnel, which is not an Envoy sidecar';
  return null;
}

/** A listener Envoy rejected and does not have at all (no older version serving). */
function rejected(dump: ConfigDump, name: string): { name: string; details: string | null } | undefined {
  return dump.rejectedListeners.find((r) => r.name === name && !r.active);
}

function rejectedWhy(r: { name: string; details: string | null }): string {
  return `Envoy rejected listener ${r.name}${r.details ? ` (${r.details.split('\n')[0]})` : ''}`;
}

/** Every listener in a resource array bound to one port: the shape `proxy-config listener --port P` prints. */
function filteredToOnePort(dump: ConfigDump): number | null {
  if (dump.shape === 'admin-config-dump') return null;
  const ports = new Set<number>();
  for (const name of dump.listenerNames()) {
    const l = dump.listener(name);
    for (const a of l?.addresses ?? []) if (a.port !== null) ports.add(a.port);
  }
  return ports.size === 1 ? [...ports][0] : null;
}

/**
 * A gateway (router~ node) has no capture: it accepts on the listener bound to the port the
 * client dialled (its own address or 0.0.0.0), and routes by SNI (TLS chains) or Host and path.
 */
function explainGateway(dump: ConfigDump, dst: Destination, query: ExplainQuery, walk: Walk): Explanation {
  walk.gateway = true;
  walk.steps.push(`proxy: gateway${dump.node.podName ? ` ${dump.node.podName}` : ''} (router~ node id): no capture, the listener on port ${dst.port}, then SNI or Host and path`);
  if (query.inbound) {
    walk.need('--inbound: a gateway has no inbound capture; explain the connection the client makes to the gateway instead');
    return walk.finish('unknown', 'a gateway has no virtualInbound');
  }
  const names = [...dump.listenersAt(dst.ip.text, dst.port), ...dump.listenersAt(dst.ip.family === 4 ? '0.0.0.0' : '::', dst.port)];
  const listener = names.length > 0 ? dump.listener(names[0]) : undefined;
  if (!listener) {
    const dead = dump.rejectedListeners.find((r) => !r.active && r.name.endsWith(`_${dst.port}`));
    if (dead) return walk.finish('rejected', `${rejectedWhy(dead)}: the gateway has no listener on port ${dst.port}, connections are refused`);
    return walk.finish('rejected', `the gateway has no listener on port ${dst.port} (no Gateway server declares it): connections are refused`);
  }
  walk.listener = listener.name;
  walk.steps.push(`listener ${listener.name} (port ${dst.port})`);
  return explainInListener(dump, listener, dst, query, false, walk);
}

export function explain(dump: ConfigDump, query: ExplainQuery): Explanation {
  const dst = parseQueryDestination(query.dst);
  const inbound = query.inbound === true;
  const walk = new Walk(dst, inbound ? 'inbound' : 'outbound');
  if (!dump.sections.has('listeners')) {
    walk.need(SECTION_SOURCES.listeners);
    return walk.finish('unknown', 'the dump has no listeners');
  }
  const other = notASidecar(dump);
  if (other !== null) {
    walk.unsupported = `This dump is from ${other}. podpath explain walks sidecar dumps only.`;
    walk.steps.push(`proxy: ${dump.node.type ?? 'waypoint'}${dump.node.podName ? ` ${dump.node.podName}` : ''}`);
    return walk.finish('unknown', 'not a sidecar: only sidecar dumps are supported');
  }
  if (dump.node.type === 'router') return explainGateway(dump, dst, query, walk);
  if (inbound) {
    const dead = rejected(dump, 'virtualInbound');
    if (!dump.virtualInbound() && dead) {
      walk.steps.push(`listener virtualInbound: ${rejectedWhy(dead)}`);
      return walk.finish('rejected', `${rejectedWhy(dead)} and has no listener on 15006: connections redirected to it are refused`);
    }
    let listener = dump.virtualInbound();
    if (!listener) {
      // Before virtualInbound took every port, inbound listeners were bound to POD_IP_PORT.
      listener = dump.listenersAt(dst.ip.text, dst.port).map((n) => dump.listener(n)).find((l) => l?.trafficDirection === 'INBOUND');
    }
    if (!listener) {
      walk.need('virtualInbound listener (port 15006)');
      return walk.finish('unknown', 'the dump has no virtualInbound listener');
    }
    walk.listener = listener.name;
    walk.steps.push(`listener ${listener.name} (inbound capture)`);
    return explainInListener(dump, listener, dst, query, true, walk);
  }
  const exact = dump.listenersAt(dst.ip.text, dst.port);
  const wildcard = dump.listenersAt(dst.ip.family === 4 ? '0.0.0.0' : '::', dst.port);
  const outbound = dump.virtualOutbound();
  const bound = `${dst.ip.family === 6 ? `[${dst.ip.text}]` : dst.ip.text}_${dst.port}`;
  for (const name of [bound, `${dst.ip.family === 4 ? '0.0.0.0' : '[::]'}_${dst.port}`]) {
    const dead = rejected(dump, name);
    if (dead) walk.steps.push(`${rejectedWhy(dead)}: Envoy does not have it`);
  }
  const deadOutbound = rejected(dump, 'virtualOutbound');
  if (!outbound && deadOutbound && exact.length === 0 && wildcard.length === 0) {
    walk.steps.push(`listener virtualOutbound: ${rejectedWhy(deadOutbound)}`);
    return walk.finish('rejected', `${rejectedWhy(deadOutbound)} and has no listener on 15001: connections the app makes to ${dst.text} are refused`);
  }
  const onePort = filteredToOnePort(dump);
  if (outbound && onePort !== null && onePort !== dst.port && exact.length === 0 && wildcard.length === 0) {
    walk.need(`the listeners for port ${dst.port}: the input only holds listeners on port ${onePort} (istioctl proxy-config listener --port ${onePort}?); give the full dump`);
    return walk.finish('unknown', `a port-filtered dump: whether a listener takes port ${dst.port} is not in it`);
  }
  let listener: Listener | undefined;
  let why: string;
  if (exact.length > 0 && exact[0] !== outbound?.name) {
    listener = dump.listener(exact[0]);
    const own = listener?.trafficDirection === 'INBOUND';
    why = own ? 'bound to the destination: the sidecar\'s own inbound listener' : 'bound to the destination';
    walk.vip = true;
    walk.vipWhy = own ? `${dst.ip.text} is this pod: its inbound listener takes it` : `${dst.ip.text} has its own listener (the service VIP)`;
  } else if (wildcard.length > 0 && wildcard[0] !== outbound?.name) {
    listener = dump.listener(wildcard[0]);
    why = `no listener bound to ${bound}; wildcard for port ${dst.port}`;
  } else if (outbound) {
    listener = outbound;
    why = `no listener for ${bound} or port ${dst.port}: the original destination stays on ${outbound.name}`;
  } else {
    walk.need('virtualOutbound listener (use_original_dst; the input may be filtered by --port: give the full dump)');
    return walk.finish('unknown', `no listener for ${bound} or port ${dst.port}, and no virtualOutbound to fall back to`);
  }
  if (!listener) return walk.finish('unknown', 'listener index is inconsistent');
  if (dump.warmingListeners.some((n) => n.endsWith(`_${dst.port}`))) {
    walk.need(`listener for port ${dst.port} is still warming (not serving yet)`);
  }
  walk.listener = listener.name;
  walk.steps.push(`listener ${listener.name} (${why})`);
  return explainInListener(dump, listener, dst, query, false, walk);
}
