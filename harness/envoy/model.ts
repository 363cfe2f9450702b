/**
 * The typed model explain works on, and the normalisers that build it from one raw (snake or
 * camel case) Envoy resource. Normalisers are pure and are called lazily, one resource at a
 * time, so a 200 MB dump is never copied: only the listeners, routes and clusters a query
 * touches are ever normalised.
 */
import { cidr, parseIp, type Cidr, type Ip } from './ip.ts';
import { UsageError } from '../errors/index.ts';
import {
  get,
  getArray,
  getBool,
  getNumber,
  getObject,
  getString,
  isObject,
  strings,
  toNumber,
  typeUrl,
  type Json,
  type JsonObject,
} from './json.ts';

export interface SocketAddress {
  address: string;
  port: number | null;
  ip: Ip | null;
}

export type SourceType = 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';

/** envoy.config.listener.v3.FilterChainMatch; empty fields mean "no criterion". */
export interface ChainMatch {
  destinationPort: number | null;
  prefixRanges: Cidr[];
  serverNames: string[];
  transportProtocol: string;
  applicationProtocols: string[];
  directSourcePrefixRanges: Cidr[];
  sourceType: SourceType;
  sourcePrefixRanges: Cidr[];
  sourcePorts: number[];
}

export type ClusterSpec =
  | { kind: 'cluster'; name: string }
  | { kind: 'weighted'; clusters: Array<{ name: string; weight: number }> };

export type NetworkFilter =
  | { kind: 'tcp_proxy'; name: string; target: ClusterSpec | null; v1Routes: TcpRouteV1[] }
  | { kind: 'http'; name: string; rds: string | null; routeConfig: RouteConfig | null }
  | { kind: 'other'; name: string };

/** Envoy v2's tcp_proxy `deprecated_v1` route (Istio 1.0 listeners): the cluster for a destination. */
export interface TcpRouteV1 {
  cluster: string;
  destinationIps: Cidr[];
  /** Ports and ranges as printed ("80,443", "8000-9000"); null when any port. */
  destinationPorts: string | null;
}

export interface FilterChain {
  /** Position in the listener's filter_chains; -1 for default_filter_chain. */
  index: number;
  name: string | null;
  match: ChainMatch;
  filters: NetworkFilter[];
}

export interface Listener {
  name: string;
  addresses: SocketAddress[];
  useOriginalDst: boolean;
  trafficDirection: string | null;
  listenerFilters: string[];
  filterChains: FilterChain[];
  defaultFilterChain: FilterChain | null;
  matcher: Matcher | null;
}

// xds.type.matcher.v3.Matcher, reduced to what filter-chain selection needs.
export type InputKind =
  | 'destination-ip'
  | 'destination-port'
  | 'source-ip'
  | 'source-port'
  | 'direct-source-ip'
  | 'source-type'
  | 'server-name'
  | 'transport-protocol'
  | 'application-protocol'
  | 'unknown';

export interface MatchInput {
  kind: InputKind;
  /** The TypedExtensionConfig name, e.g. "port" in Istio's matchers. */
  name: string;
  typeUrl: string;
}

export type OnMatch = { kind: 'action'; chain: string } | { kind: 'matcher'; matcher: Matcher } | { kind: 'unsupported'; detail: string };

export interface IpRangeMatcher {
  ranges: Cidr[];
  onMatch: OnMatch | null;
  exclusive: boolean;
}

export type StringMatch = { kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex'; value: string; ignoreCase: boolean };

export type Predicate =
  | { kind: 'single'; input: MatchInput; match: { kind: 'string'; string: StringMatch } | { kind: 'cidrs'; ranges: Cidr[] } | { kind: 'unsupported'; detail: string } }
  | { kind: 'or' | 'and'; predicates: Predicate[] }
  | { kind: 'not'; predicate: Predicate };

export type Matcher =
  | {
      kind: 'tree';
      input: MatchInput;
      tree:
        | { kind: 'exact' | 'prefix'; map: Map<string, OnMatch> }
        | { kind: 'ip'; ranges: IpRangeMatcher[] }
        | { kind: 'unsupported'; detail: string };
      onNoMatch: OnMatch | null;
    }
  | { kind: 'list'; matchers: Array<{ predicate: Predicate; onMatch: OnMatch }>; onNoMatch: OnMatch | null };

export interface Endpoint {
  /** IP or DNS name as configured. */
  address: string;
  port: number | null;
  ip: Ip | null;
  text: string;
}

export interface Cluster {
  name: string;
  /** STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST, or a custom cluster_type name. */
  type: string;
  /** From load_assignment (STATIC / STRICT_DNS / LOGICAL_DNS); null when the cluster has none. */
  endpoints: Endpoint[] | null;
  edsServiceName: string | null;
}

export interface RouteConfig {
  name: string;
  virtualHosts: VirtualHost[];
  /** Envoy picks the virtual host by the Host without its port (istiod sets this on sidecar routes). */
  ignorePortInHostMatching: boolean;
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
}

export type PathMatch =
  | { kind: 'prefix' | 'path' | 'path_separated_prefix' | 'regex'; value: string }
  | { kind: 'connect' | 'template' | 'unknown'; value: string };

export interface Route {
  index: number;
  name: string | null;
  path: PathMatch;
  caseSensitive: boolean;
  /** Header / query / gRPC / runtime conditions explain cannot evaluate without a request. */
  extraConditions: string[];
  action:
    | { kind: 'cluster'; target: ClusterSpec }
    | { kind: 'cluster_header'; header: string }
    | { kind: 'redirect' }
    | { kind: 'direct_response'; status: number | null }
    | { kind: 'other'; detail: string };
}

// ---------------------------------------------------------------- normalisers

export function socketAddress(address: unknown): SocketAddress | null {
  const socket = getObject(address, 'socket_address');
  if (!socket) return null;
  const text = getString(socket, 'address') ?? '';
  return { address: text, port: getNumber(socket, 'port_value') ?? null, ip: parseIp(text) };
}

export function listenerAddresses(raw: unknown): SocketAddress[] {
  const out: SocketAddress[] = [];
  const main = socketAddress(get(raw, 'address'));
  if (main) out.push(main);
  // Dual-stack Istio puts the IPv6 twin of 0.0.0.0_PORT in additional_addresses.
  for (const extra of getArray(raw, 'additional_addresses')) {
    const addr = socketAddress(get(extra, 'address'));
    if (addr) out.push(addr);
  }
  return out;
}

function cidrs(values: Json[]): Cidr[] {
  const out: Cidr[] = [];
  for (const v of values) {
    const range = cidr(getString(v, 'address_prefix') ?? '', getNumber(v, 'prefix_len'));
    if (range) out.push(range);
  }
  return out;
}

const SOURCE_TYPES: Record<string, SourceType> = { ANY: 'ANY', SAME_IP_OR_LOOPBACK: 'SAME_IP_OR_LOOPBACK', LOCAL: 'SAME_IP_OR_LOOPBACK', EXTERNAL: 'EXTERNAL' };

export function chainMatch(raw: unknown): ChainMatch {
  const sourceType = get(raw, 'source_type');
  return {
    destinationPort: getNumber(raw, 'destination_port') ?? null,
    prefixRanges: cidrs(getArray(raw, 'prefix_ranges')),
    serverNames: strings(getArray(raw, 'server_names')),
    transportProtocol: getString(raw, 'transport_protocol') ?? '',
    applicationProtocols: strings(getArray(raw, 'application_protocols')),
    directSourcePrefixRanges: cidrs(getArray(raw, 'direct_source_prefix_ranges')),
    sourceType: typeof sourceType === 'string' ? (SOURCE_TYPES[sourceType] ?? 'ANY') : sourceType === 1 ? 'SAME_IP_OR_LOOPBACK' : sourceType === 2 ? 'EXTERNAL' : 'ANY',
    sourcePrefixRanges: cidrs(getArray(raw, 'source_prefix_ranges')),
    sourcePorts: getArray(raw, 'source_ports').map((p) => toNumber(p)).filter((p): p is number => p !== undefined),
  };
}

/** The configuration inside a filter: typed_config, a TypedStruct's value, or the v2 `config` Struct. */
export function filterConfig(filter: unknown): { typeUrl: string; config: JsonObject | undefined } {
  const typed = getObject(filter, 'typed_config');
  if (typed) {
    const url = typeUrl(typed);
    if (url.endsWith('.TypedStruct')) return { typeUrl: getString(typed, 'type_url') ?? url, config: getObject(typed, 'value') };
    return { typeUrl: url, config: typed };
  }
  return { typeUrl: '', config: getObject(filter, 'config') };
}

function clusterSpec(config: unknown): ClusterSpec | null {
  const cluster = getString(config, 'cluster');
  if (cluster) return { kind: 'cluster', name: cluster };
  const weighted = getArray(getObject(config, 'weighted_clusters'), 'clusters');
  if (weighted.length > 0) {
    return {
      kind: 'weighted',
      clusters: weighted
        .map((c) => ({ name: getString(c, 'name') ?? '', weight: getNumber(c, 'weight') ?? 1 }))
        .filter((c) => c.name !== ''),
    };
  }
  return null;
}

const TCP_PROXY_NAMES = new Set(['envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy']);
const HCM_NAMES = new Set(['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager']);

/**
 * The v1 routes of an Istio 1.0 tcp_proxy: `deprecated_v1.routes` (v2 API), or the opaque v1 form
 * `{"deprecated_v1": true, "value": {"route_config": {"routes": [...]}}}` (envoy tcp_proxy v2 README).
 */
function tcpRoutesV1(config: unknown): TcpRouteV1[] {
  const routes = [
    ...getArray(getObject(config, 'deprecated_v1'), 'routes'),
    ...getArray(getObject(getObject(config, 'value'), 'route_config'), 'routes'),
    ...getArray(getObject(config, 'route_config'), 'routes'),
  ];
  const out: TcpRouteV1[] = [];
  for (const r of routes) {
    const cluster = getString(r, 'cluster');
    if (!cluster) continue;
    const destinationIps: Cidr[] = [];
    for (const d of getArray(r, 'destination_ip_list')) {
      // v1 JSON lists "10.0.0.1/32" strings; the v2 form lists CidrRange objects.
      const text = typeof d === 'string' ? d : null;
      const range = text !== null ? cidr(text.split('/')[0], text.includes('/') ? Number(text.split('/')[1]) : 128) : cidr(getString(d, 'address_prefix') ?? '', getNumber(d, 'prefix_len'));
      if (range) destinationIps.push(range);
    }
    out.push({ cluster, destinationIps, destinationPorts: getString(r, 'destination_ports') ?? null });
  }
  return out;
}

export function networkFilter(raw: unknown): NetworkFilter {
  const name = getString(raw, 'name') ?? '';
  const { typeUrl: url, config } = filterConfig(raw);
  if (TCP_PROXY_NAMES.has(name) || url.includes('.tcp_proxy.')) {
    return { kind: 'tcp_proxy', name, target: clusterSpec(config), v1Routes: tcpRoutesV1(config) };
  }
  if (HCM_NAMES.has(name) || url.includes('.http_connection_manager.')) {
    const rds = getString(getObject(config, 'rds'), 'route_config_name') ?? null;
    const inline = getObject(config, 'route_config');
    return { kind: 'http', name, rds, routeConfig: inline ? routeConfig(inline) : null };
  }
  return { kind: 'other', name: name || url || 'unnamed filter' };
}

export function filterChain(raw: unknown, index: number): FilterChain {
  return {
    index,
    name: getString(raw, 'name') ?? null,
    match: chainMatch(getObject(raw, 'filter_chain_match')),
    filters: getArray(raw, 'filters').map(networkFilter),
  };
}

export function listener(raw: unknown): Listener {
  const defaultChain = getObject(raw, 'default_filter_chain');
  const matcher = getObject(raw, 'filter_chain_matcher');
  return {
    name: getString(raw, 'name') ?? '',
    addresses: listenerAddresses(raw),
    useOriginalDst: getBool(raw, 'use_original_dst') ?? false,
    trafficDirection: getString(raw, 'traffic_direction') ?? null,
    listenerFilters: getArray(raw, 'listener_filters').map((f) => getString(f, 'name') ?? ''),
    filterChains: getArray(raw, 'filter_chains').map((c, i) => filterChain(c, i)),
    defaultFilterChain: defaultChain ? filterChain(defaultChain, -1) : null,
    matcher: matcher ? unifiedMatcher(matcher) : null,
  };
}

const INPUT_KINDS: Array<[string, InputKind]> = [
  ['DirectSourceIPInput', 'direct-source-ip'],
  ['DestinationIPInput', 'destination-ip'],
  ['DestinationPortInput', 'destination-port'],
  ['SourceIPInput', 'source-ip'],
  ['SourcePortInput', 'source-port'],
  ['SourceTypeInput', 'source-type'],
  ['ServerNameInput', 'server-name'],
  ['TransportProtocolInput', 'transport-protocol'],
  ['ApplicationProtocolInput', 'application-protocol'],
];

function matchInput(raw: unknown): MatchInput {
  const url = typeUrl(getObject(raw, 'typed_config'));
  const simple = url.slice(url.lastIndexOf('.') + 1);
  const kind = INPUT_KINDS.find(([suffix]) => simple === suffix)?.[1] ?? 'unknown';
  return { kind, name: getString(raw, 'name') ?? '', typeUrl: url };
}

/**
 * Envoy receives a matcher as protobuf, whose parser stops at 100 nested messages
 * (protocolbuffers/protobuf src/google/protobuf/io/coded_stream.h, default recursion limit), and
 * each matcher level is several messages: a tree deeper than this cannot come from a real proxy.
 */
export const MAX_MATCHER_DEPTH = 100;

function tooDeep(what: string): UsageError {
  return new UsageError(`filter_chain_matcher: ${what} nests more than ${MAX_MATCHER_DEPTH} levels deep, deeper than Envoy accepts`, {
    hint: 'This is not a config dump a proxy produced; capture it again with istioctl proxy-config all POD.NS -o json.',
  });
}

function onMatch(raw: unknown, depth: number): OnMatch | null {
  if (!isObject(raw)) return null;
  const nested = getObject(raw, 'matcher');
  if (nested) return { kind: 'matcher', matcher: unifiedMatcher(nested, depth + 1) };
  const action = getObject(raw, 'action');
  if (action) {
    // Envoy requires the action to be a StringValue naming the filter chain.
    const typed = getObject(action, 'typed_config');
    const value = getString(typed, 'value');
    if (value !== undefined) return { kind: 'action', chain: value };
    return { kind: 'unsupported', detail: `action ${typeUrl(typed) || getString(action, 'name') || '?'}` };
  }
  return { kind: 'unsupported', detail: 'on_match without matcher or action' };
}

function stringMatch(raw: unknown): StringMatch | null {
  const ignoreCase = getBool(raw, 'ignore_case') ?? false;
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    const value = getString(raw, kind);
    if (value !== undefined) return { kind, value, ignoreCase };
  }
  const regex = getString(getObject(raw, 'safe_regex'), 'regex');
  if (regex !== undefined) return { kind: 'regex', value: regex, ignoreCase };
  return null;
}

function predicate(raw: unknown, depth: number): Predicate {
  if (depth > MAX_MATCHER_DEPTH) throw tooDeep('a predicate');
  const single = getObject(raw, 'single_predicate');
  if (single) {
    const input = matchInput(getObject(single, 'input'));
    const value = getObject(single, 'value_match');
    if (value) {
      const sm = stringMatch(value);
      return { kind: 'single', input, match: sm ? { kind: 'string', string: sm } : { kind: 'unsupported', detail: 'string matcher' } };
    }
    const custom = getObject(getObject(single, 'custom_match'), 'typed_config');
    // envoy.matching.input_matchers.ip: a CIDR list.
    const ranges = getArray(custom, 'cidr_ranges');
    if (ranges.length > 0) return { kind: 'single', input, match: { kind: 'cidrs', ranges: cidrs(ranges) } };
    return { kind: 'single', input, match: { kind: 'unsupported', detail: `custom matcher ${typeUrl(custom)}` } };
  }
  for (const kind of ['or', 'and'] as const) {
    const list = getObject(raw, `${kind}_matcher`);
    if (list) return { kind, predicates: getArray(list, 'predicate').map((p) => predicate(p, depth + 1)) };
  }
  const not = getObject(raw, 'not_matcher');
  if (not) return { kind: 'not', predicate: predicate(not, depth + 1) };
  return { kind: 'single', input: { kind: 'unknown', name: '', typeUrl: '' }, match: { kind: 'unsupported', detail: 'empty predicate' } };
}

export function unifiedMatcher(raw: unknown, depth = 0): Matcher {
  if (depth > MAX_MATCHER_DEPTH) throw tooDeep('the matcher tree');
  const onNoMatch = onMatch(get(raw, 'on_no_match'), depth);
  const list = getObject(raw, 'matcher_list');
  if (list) {
    return {
      kind: 'list',
      matchers: getArray(list, 'matchers').map((m) => ({
        predicate: predicate(getObject(m, 'predicate'), 0),
        onMatch: onMatch(get(m, 'on_match'), depth) ?? { kind: 'unsupported', detail: 'missing on_match' },
      })),
      onNoMatch,
    };
  }
  const tree = getObject(raw, 'matcher_tree');
  const input = matchInput(getObject(tree, 'input'));
  for (const [field, kind] of [['exact_match_map', 'exact'], ['prefix_match_map', 'prefix']] as const) {
    const mapHolder = getObject(tree, field);
    if (mapHolder) {
      const map = new Map<string, OnMatch>();
      // Map keys are data, never renamed by protojson: read them as they are.
      for (const [key, value] of Object.entries(getObject(mapHolder, 'map') ?? {})) {
        const m = onMatch(value, depth);
        if (m) map.set(key, m);
      }
      return { kind: 'tree', input, tree: { kind, map }, onNoMatch };
    }
  }
  const custom = getObject(getObject(tree, 'custom_match'), 'typed_config');
  if (custom && typeUrl(custom).endsWith('.IPMatcher')) {
    const ranges = getArray(custom, 'range_matchers').map((r) => ({
      ranges: cidrs(getArray(r, 'ranges')),
      onMatch: onMatch(get(r, 'on_match'), depth),
      exclusive: getBool(r, 'exclusive') ?? false,
    }));
    return { kind: 'tree', input, tree: { kind: 'ip', ranges }, onNoMatch };
  }
  return { kind: 'tree', input, tree: { kind: 'unsupported', detail: `matcher ${typeUrl(custom) || 'without tree'}` }, onNoMatch };
}

function endpointsOf(loadAssignment: unknown): Endpoint[] {
  const out: Endpoint[] = [];
  for (const locality of getArray(loadAssignment, 'endpoints')) {
    for (const lb of getArray(locality, 'lb_endpoints')) {
      const addr = socketAddress(get(getObject(lb, 'endpoint'), 'address'));
      if (!addr) continue;
      const text = addr.port === null ? addr.address : addr.ip?.family === 6 ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
      out.push({ address: addr.address, port: addr.port, ip: addr.ip, text });
    }
  }
  return out;
}

export function cluster(raw: unknown): Cluster {
  const loadAssignment = getObject(raw, 'load_assignment');
  const customType = getString(getObject(raw, 'cluster_type'), 'name');
  // proto3 JSON omits enum zero values, and STATIC is DiscoveryType 0.
  const type = getString(raw, 'type') ?? customType ?? 'STATIC';
  // Pre-1.8 Istio still used the v2 `hosts` list on STATIC/DNS clusters.
  const legacyHosts = getArray(raw, 'hosts');
  let endpoints: Endpoint[] | null = loadAssignment ? endpointsOf(loadAssignment) : null;
  if (!endpoints && legacyHosts.length > 0) {
    endpoints = endpointsOf({ endpoints: [{ lb_endpoints: legacyHosts.map((h) => ({ endpoint: { address: h } })) }] });
  }
  return {
    name: getString(raw, 'name') ?? '',
    type,
    endpoints,
    edsServiceName: getString(getObject(raw, 'eds_cluster_config'), 'service_name') ?? null,
  };
}

export function clusterLoadAssignment(raw: unknown): { clusterName: string; endpoints: Endpoint[] } {
  return { clusterName: getString(raw, 'cluster_name') ?? '', endpoints: endpointsOf(raw) };
}

function routeAction(raw: unknown): Route['action'] {
  const action = getObject(raw, 'route');
  if (action) {
    const target = clusterSpec(action);
    if (target) return { kind: 'cluster', target };
    const header = getString(action, 'cluster_header');
    if (header) return { kind: 'cluster_header', header };
    return { kind: 'other', detail: 'route action without a cluster' };
  }
  if (getObject(raw, 'redirect')) return { kind: 'redirect' };
  const direct = getObject(raw, 'direct_response');
  if (direct) return { kind: 'direct_response', status: getNumber(direct, 'status') ?? null };
  return { kind: 'other', detail: 'no route action' };
}

function route(raw: unknown, index: number): Route {
  const match = getObject(raw, 'match');
  let path: PathMatch = { kind: 'unknown', value: '' };
  for (const kind of ['prefix', 'path', 'path_separated_prefix'] as const) {
    const value = getString(match, kind);
    if (value !== undefined) {
      path = { kind, value };
      break;
    }
  }
  const regex = getString(getObject(match, 'safe_regex'), 'regex') ?? getString(match, 'regex');
  if (regex !== undefined) path = { kind: 'regex', value: regex };
  if (getObject(match, 'connect_matcher')) path = { kind: 'connect', value: '' };
  if (getObject(match, 'path_match_policy')) path = { kind: 'template', value: '' };
  const extra: string[] = [];
  if (getArray(match, 'headers').length > 0) extra.push('headers');
  if (getArray(match, 'query_parameters').length > 0) extra.push('query parameters');
  if (getObject(match, 'grpc')) extra.push('gRPC');
  if (getObject(match, 'runtime_fraction')) extra.push('runtime fraction');
  if (getArray(match, 'dynamic_metadata').length > 0) extra.push('dynamic metadata');
  return {
    index,
    name: getString(raw, 'name') ?? null,
    path,
    caseSensitive: getBool(match, 'case_sensitive') ?? true,
    extraConditions: extra,
    action: routeAction(raw),
  };
}

export function routeConfig(raw: unknown): RouteConfig {
  return {
    name: getString(raw, 'name') ?? '',
    ignorePortInHostMatching: getBool(raw, 'ignore_port_in_host_matching') === true,
    virtualHosts: getArray(raw, 'virtual_hosts').map((vh) => ({
      name: getString(vh, 'name') ?? '',
      domains: strings(getArray(vh, 'domains')),
      routes: getArray(vh, 'routes').map((r, i) => route(r, i)),
    })),
  };
}
