/**
 * Accepts every shape a user is likely to have: the admin `/config_dump` (snake_case, v3 or
 * v2alpha), `istioctl proxy-config all -o json` (the same dump, camelCase from older istioctl),
 * and the bare arrays `istioctl proxy-config listeners|clusters|routes -o json` print.
 * Loading only indexes resources by name and address; each one is normalised on first use.
 */
import { UsageError } from '../errors/index.ts';
import { parseIp } from './ip.ts';
import { get, getArray, getObject, getString, isObject, typeUrl, type JsonObject } from './json.ts';
import {
  cluster as normaliseCluster,
  clusterLoadAssignment,
  listener as normaliseListener,
  listenerAddresses,
  routeConfig as normaliseRouteConfig,
  type Cluster,
  type Endpoint,
  type Listener,
  type RouteConfig,
} from './model.ts';

export type Section = 'listeners' | 'clusters' | 'routes' | 'endpoints';

export const SECTION_SOURCES: Record<Section, string> = {
  listeners: 'listeners (ListenersConfigDump)',
  clusters: 'clusters (ClustersConfigDump)',
  routes: 'route configs (RoutesConfigDump)',
  endpoints: 'endpoints (EndpointsConfigDump: fetch the dump with ?include_eds or `istioctl proxy-config all`)',
};

export interface ConfigDump {
  /** Which input shape this came from. */
  readonly shape: 'admin-config-dump' | 'resource-array' | 'single-listener';
  /** Sections present in the input; absent ones lower the certainty of an explanation. */
  readonly sections: ReadonlySet<Section>;
  /**
   * The proxy's own pod IP and Istio version, from the bootstrap node, when present; `type` is
   * the node id's first field: sidecar, router (gateways), waypoint or ztunnel.
   */
  readonly node: { podIp: string | null; podName: string | null; istioVersion: string | null; type: string | null };
  /** Listeners only present in warming_state (not yet serving). */
  readonly warmingListeners: readonly string[];
  /** Listeners Envoy rejected (error_state): `active` says whether an older version still serves. */
  readonly rejectedListeners: readonly { name: string; details: string | null; active: boolean }[];
  /** EDS clusters that list this IP (canonical text) among their endpoints. */
  clustersWithEndpoint(ip: string): string[];
  listenerNames(): string[];
  clusterNames(): string[];
  /** Cheap presence checks (no normalisation), for convergence polling. */
  containsListener(name: string): boolean;
  containsCluster(name: string): boolean;
  listener(name: string): Listener | undefined;
  /** Listener names bound to exactly this address (canonical IP text) and port. */
  listenersAt(ip: string, port: number): string[];
  /** The listener that owns original-destination redirection (Istio's virtualOutbound). */
  virtualOutbound(): Listener | undefined;
  virtualInbound(): Listener | undefined;
  cluster(name: string): Cluster | undefined;
  routeConfig(name: string): RouteConfig | undefined;
  /** EDS endpoints by cluster (or eds service) name; undefined when not in the dump. */
  edsEndpoints(name: string): Endpoint[] | undefined;
}

const LISTENER_KEYS = ['filter_chains', 'filterChains', 'listener_filters', 'listenerFilters', 'default_filter_chain', 'defaultFilterChain', 'filter_chain_matcher', 'filterChainMatcher', 'traffic_direction', 'trafficDirection', 'use_original_dst', 'useOriginalDst', 'api_listener', 'apiListener', 'internal_listener', 'internalListener'];
const CLUSTER_KEYS = ['connect_timeout', 'connectTimeout', 'load_assignment', 'loadAssignment', 'eds_cluster_config', 'edsClusterConfig', 'lb_policy', 'lbPolicy', 'cluster_type', 'clusterType', 'circuit_breakers', 'circuitBreakers'];

function hasAny(value: JsonObject, keys: string[]): boolean {
  return keys.some((k) => value[k] !== undefined);
}

class Index implements ConfigDump {
  shape: ConfigDump['shape'] = 'admin-config-dump';
  sections = new Set<Section>();
  node: ConfigDump['node'] = { podIp: null, podName: null, istioVersion: null, type: null };
  warmingListeners: string[] = [];
  rejectedListeners: { name: string; details: string | null; active: boolean }[] = [];
  private rawListeners = new Map<string, JsonObject>();
  private byAddress = new Map<string, string[]>();
  private rawClusters = new Map<string, JsonObject>();
  private rawRoutes = new Map<string, JsonObject>();
  private rawEndpoints = new Map<string, JsonObject>();
  private listeners = new Map<string, Listener>();
  private clusters = new Map<string, Cluster>();
  private routes = new Map<string, RouteConfig>();
  private endpoints = new Map<string, Endpoint[]>();
  private outboundName: string | null = null;
  private inboundName: string | null = null;
  private anonymous = 0;

  addListener(raw: JsonObject): void {
    let name = getString(raw, 'name');
    // Static listeners may be nameless; give them a stable, readable name.
    if (!name) name = `(unnamed listener ${this.anonymous++})`;
    if (this.rawListeners.has(name)) return;
    this.rawListeners.set(name, raw);
    const addresses = listenerAddresses(raw);
    for (const addr of addresses) {
      if (!addr.ip || addr.port === null) continue;
      const key = `${addr.ip.text}_${addr.port}`;
      const list = this.byAddress.get(key);
      if (list) list.push(name);
      else this.byAddress.set(key, [name]);
    }
    const useOriginalDst = get(raw, 'use_original_dst');
    const port = addresses[0]?.port;
    if (name === 'virtualOutbound' || (this.outboundName === null && (useOriginalDst === true || (isObject(useOriginalDst) && useOriginalDst.value === true)))) this.outboundName = name;
    if (name === 'virtualInbound' || (this.inboundName === null && port === 15006)) this.inboundName = name;
  }

  addCluster(raw: JsonObject): void {
    const name = getString(raw, 'name');
    if (name && !this.rawClusters.has(name)) this.rawClusters.set(name, raw);
  }

  addRoute(raw: JsonObject): void {
    const name = getString(raw, 'name');
    if (name !== undefined && !this.rawRoutes.has(name)) this.rawRoutes.set(name, raw);
  }

  addEndpoints(raw: JsonObject): void {
    const name = getString(raw, 'cluster_name');
    if (name && !this.rawEndpoints.has(name)) this.rawEndpoints.set(name, raw);
  }

  listenerNames(): string[] {
    return [...this.rawListeners.keys()];
  }

  clusterNames(): string[] {
    return [...this.rawClusters.keys()];
  }

  containsListener(name: string): boolean {
    return this.rawListeners.has(name);
  }

  containsCluster(name: string): boolean {
    return this.rawClusters.has(name);
  }

  listener(name: string): Listener | undefined {
    let l = this.listeners.get(name);
    if (!l) {
      const raw = this.rawListeners.get(name);
      if (!raw) return undefined;
      l = { ...normaliseListener(raw), name };
      this.listeners.set(name, l);
    }
    return l;
  }

  listenersAt(ip: string, port: number): string[] {
    const canonical = parseIp(ip)?.text ?? ip;
    return this.byAddress.get(`${canonical}_${port}`) ?? [];
  }

  virtualOutbound(): Listener | undefined {
    return this.outboundName === null ? undefined : this.listener(this.outboundName);
  }

  virtualInbound(): Listener | undefined {
    return this.inboundName === null ? undefined : this.listener(this.inboundName);
  }

  cluster(name: string): Cluster | undefined {
    let c = this.clusters.get(name);
    if (!c) {
      const raw = this.rawClusters.get(name);
      if (!raw) return undefined;
      c = normaliseCluster(raw);
      this.clusters.set(name, c);
    }
    return c;
  }

  routeConfig(name: string): RouteConfig | undefined {
    let r = this.routes.get(name);
    if (!r) {
      const raw = this.rawRoutes.get(name);
      if (!raw) return undefined;
      r = normaliseRouteConfig(raw);
      this.routes.set(name, r);
    }
    return r;
  }

  edsEndpoints(name: string): Endpoint[] | undefined {
    let e = this.endpoints.get(name);
    if (!e) {
      const raw = this.rawEndpoints.get(name);
      if (!raw) return undefined;
      e = clusterLoadAssignment(raw).endpoints;
      this.endpoints.set(name, e);
    }
    return e;
  }

  readListenersDump(dump: JsonObject): void {
    this.sections.add('listeners');
    for (const wrapper of getArray(dump, 'static_listeners')) {
      const l = getObject(wrapper, 'listener');
      if (l) this.addListener(l);
    }
    for (const wrapper of getArray(dump, 'dynamic_listeners')) this.readDynamicListener(wrapper);
    // Envoy < 1.12 (Istio ≤ 1.4) split dynamic listeners by state at the top level.
    for (const wrapper of getArray(dump, 'dynamic_active_listeners')) {
      const l = getObject(wrapper, 'listener');
      if (l) this.addListener(l);
    }
    for (const wrapper of getArray(dump, 'dynamic_warming_listeners')) {
      const name = getString(getObject(wrapper, 'listener'), 'name');
      if (name) this.warmingListeners.push(name);
    }
  }

  readDynamicListener(wrapper: unknown): void {
    const active = getObject(getObject(wrapper, 'active_state'), 'listener');
    // Envoy keeps a rejected update in error_state (NACKed: a bad filter, say); without active_state it has no such listener.
    const error = getObject(wrapper, 'error_state');
    if (error) {
      const failed = getObject(error, 'failed_configuration');
      const name = getString(wrapper, 'name') ?? getString(active, 'name') ?? getString(failed, 'name');
      if (name) this.rejectedListeners.push({ name, details: getString(error, 'details') ?? null, active: active !== undefined });
    }
    if (active) {
      this.addListener(active);
      return;
    }
    const warming = getObject(getObject(wrapper, 'warming_state'), 'listener');
    const name = getString(wrapper, 'name') ?? getString(warming, 'name');
    if (name) this.warmingListeners.push(name);
  }

  readClustersDump(dump: JsonObject): void {
    this.sections.add('clusters');
    for (const field of ['static_clusters', 'dynamic_active_clusters']) {
      for (const wrapper of getArray(dump, field)) {
        const c = getObject(wrapper, 'cluster');
        if (c) this.addCluster(c);
      }
    }
  }

  readRoutesDump(dump: JsonObject): void {
    this.sections.add('routes');
    for (const field of ['static_route_configs', 'dynamic_route_configs']) {
      for (const wrapper of getArray(dump, field)) {
        const r = getObject(wrapper, 'route_config');
        if (r) this.addRoute(r);
      }
    }
  }

  readEndpointsDump(dump: JsonObject): void {
    this.sections.add('endpoints');
    for (const field of ['static_endpoint_configs', 'dynamic_endpoint_configs']) {
      for (const wrapper of getArray(dump, field)) {
        const e = getObject(wrapper, 'endpoint_config');
        if (e) this.addEndpoints(e);
      }
    }
  }

  readBootstrap(dump: JsonObject): void {
    const node = getObject(getObject(dump, 'bootstrap'), 'node');
    const id = getString(node, 'id') ?? '';
    // Istio node ids: "sidecar~10.244.1.7~manager-7948dffbdd-p44xx.manager~manager.svc.cluster.local".
    const parts = id.split('~');
    const ip = parts.length >= 3 ? parts[1] : '';
    const version = getString(getObject(node, 'metadata'), 'ISTIO_VERSION');
    this.node = { podIp: parseIp(ip) ? ip : null, podName: parts.length >= 3 ? parts[2] : null, istioVersion: version ?? null, type: parts.length >= 3 ? parts[0] : null };
  }

  clustersWithEndpoint(ip: string): string[] {
    const out: string[] = [];
    for (const name of this.rawEndpoints.keys()) {
      if ((this.edsEndpoints(name) ?? []).some((e) => e.ip !== null && e.ip.text === ip)) out.push(name);
    }
    return out;
  }

  /** Classifies one element of a bare array; false when it is none of the known resources. */
  readArrayElement(item: unknown): boolean {
    if (!isObject(item)) return false;
    if (get(item, 'active_state') !== undefined || get(item, 'warming_state') !== undefined) {
      this.sections.add('listeners');
      this.readDynamicListener(item);
      return true;
    }
    const wrapped = getObject(item, 'listener') ?? getObject(item, 'cluster') ?? getObject(item, 'route_config') ?? getObject(item, 'endpoint_config');
    if (wrapped && getObject(item, 'listener')) {
      this.sections.add('listeners');
      this.addListener(wrapped);
      return true;
    }
    if (wrapped && getObject(item, 'cluster')) {
      this.sections.add('clusters');
      this.addCluster(wrapped);
      return true;
    }
    if (wrapped && getObject(item, 'route_config')) {
      this.sections.add('routes');
      this.addRoute(wrapped);
      return true;
    }
    if (wrapped) {
      this.sections.add('endpoints');
      this.addEndpoints(wrapped);
      return true;
    }
    const url = typeUrl(item);
    if (url.endsWith('.Listener') || hasAny(item, LISTENER_KEYS)) {
      this.sections.add('listeners');
      this.addListener(item);
      return true;
    }
    if (url.endsWith('.RouteConfiguration') || get(item, 'virtual_hosts') !== undefined) {
      this.sections.add('routes');
      this.addRoute(item);
      return true;
    }
    if (url.endsWith('.ClusterLoadAssignment') || (get(item, 'cluster_name') !== undefined && get(item, 'endpoints') !== undefined)) {
      this.sections.add('endpoints');
      this.addEndpoints(item);
      return true;
    }
    if (url.endsWith('.Cluster') || hasAny(item, CLUSTER_KEYS) || (typeof get(item, 'type') === 'string' && typeof get(item, 'name') === 'string')) {
      this.sections.add('clusters');
      this.addCluster(item);
      return true;
    }
    return false;
  }
}

const NOT_A_DUMP_HINT =
  "Give the output of `istioctl proxy-config all POD.NS -o json`, `kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump`, or the array `istioctl proxy-config listeners POD.NS -o json` prints.";

/** Builds the index over a parsed dump; throws UsageError when the JSON is not an Envoy config dump. */
export function loadConfigDump(json: unknown): ConfigDump {
  const index = new Index();
  if (isObject(json) && Array.isArray(json.configs)) {
    let known = 0;
    for (const config of json.configs) {
      const url = typeUrl(config);
      if (!isObject(config)) continue;
      const kind = url.slice(url.lastIndexOf('.') + 1);
      if (kind === 'ListenersConfigDump') index.readListenersDump(config);
      else if (kind === 'ClustersConfigDump') index.readClustersDump(config);
      else if (kind === 'RoutesConfigDump') index.readRoutesDump(config);
      else if (kind === 'EndpointsConfigDump') index.readEndpointsDump(config);
      else if (kind === 'BootstrapConfigDump') index.readBootstrap(config);
      else continue;
      known++;
    }
    if (known === 0) {
      throw new UsageError('not an Envoy config dump: "configs" holds no Listeners/Clusters/Routes/Endpoints/Bootstrap config dump (checked each "@type")', { hint: NOT_A_DUMP_HINT });
    }
    return index;
  }
  if (Array.isArray(json)) {
    if (json.length === 0) {
      throw new UsageError('the input is an empty JSON array: no listeners, clusters or routes to explain', { hint: 'Did the istioctl filter (--port/--address) match nothing? ' + NOT_A_DUMP_HINT });
    }
    index.shape = 'resource-array';
    const unknown = json.filter((item) => !index.readArrayElement(item)).length;
    if (unknown === json.length) {
      throw new UsageError('not an Envoy config dump: none of the array elements is a listener, cluster, route configuration or endpoint assignment', { hint: NOT_A_DUMP_HINT });
    }
    return index;
  }
  if (isObject(json) && (typeUrl(json).endsWith('.Listener') || hasAny(json, LISTENER_KEYS))) {
    index.shape = 'single-listener';
    index.readArrayElement(json);
    return index;
  }
  const what = json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json === 'object' ? `an object with keys ${Object.keys(json).slice(0, 5).join(', ') || '(none)'}` : `a ${typeof json}`;
  throw new UsageError(`not an Envoy config dump: expected {"configs": [...]} or an array of listeners, got ${what}`, { hint: NOT_A_DUMP_HINT });
}

export function hasListener(dump: ConfigDump, name: string): boolean {
  return dump.containsListener(name);
}

export function hasCluster(dump: ConfigDump, name: string): boolean {
  return dump.containsCluster(name);
}
