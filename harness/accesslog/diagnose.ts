/**
 * Known failure signatures in sidecar access logs. Streaming: `Diagnoser.add` per entry keeps a
 * count and a few evidence entries per signature, so a million lines cost constant memory.
 */
import { hostOf } from './entry.ts';
import { isKnownFlag } from './flags.ts';
import { findService, isEndpointOf, loadInventory, resolveIp, type Inventory } from './inventory.ts';
import type { AccessLogEntry, Diagnosis } from './types.ts';

export const EVIDENCE_LIMIT = 20;

/** 'exact' or 'inferred' when the entry has the signature, null when not. */
export type Match = 'exact' | 'inferred' | null;

/**
 * One signature, one record: its id, its readable name (a diagnosis's title), its severity, what
 * it means (a diagnosis's meaning, before the first case is described), the usual fixes, and the
 * check of one entry (with the inventory when given). docs/logs.md's table is tested against these.
 */
export interface Signature {
  id: string;
  name: string;
  severity: Diagnosis['severity'];
  summary: string;
  fixes: string[];
  match: (entry: AccessLogEntry, inventory: Inventory | null) => Match;
}

const CAPTURE_FIXES: string[] = [
  'Drop the colliding TCP port from the ExternalName Service (no listener on that port; pod-IP traffic goes back to PassthroughCluster)',
  'Use a VirtualService to redirect the traffic instead of an ExternalName Service',
  'Annotate the Service with networking.istio.io/exportTo: "." so other namespaces do not get its listener',
  'Add a Sidecar resource in the client namespace limiting egress hosts to what it needs',
  'Give different TCP services distinct ports',
  'Use TLS with SNI so the sidecar can route TCP by server name',
];

export const SIGNATURES: readonly Signature[] = [
  {
    id: 'pod-ip-captured-by-service-listener',
    severity: 'error',
    name: 'Pod-IP connection captured by a service listener (the seed incident)',
    summary:
      'The app connected to a pod IP on a TCP port, and the client sidecar sent it to outbound|PORT||X although that ' +
      'pod is not an endpoint of X: a listener 0.0.0.0_PORT built for another service on the same port (an ExternalName ' +
      'Service, or a ServiceEntry with resolution DNS and a TCP port) catches every unknown IP on that port. X\'s upstream did ' +
      'not answer (UF/URX/UH), so the app saw its connection accepted and then closed. Before X existed the same traffic went ' +
      'to PassthroughCluster. Confirmed by the inventory: the original destination is a pod, and X is not its Service.',
    fixes: CAPTURE_FIXES,
    match: (e, inventory) => (captureEvidence(e, inventory) === 'confirmed' ? 'exact' : null),
  },
  {
    id: 'pod-ip-capture-possible',
    severity: 'warning',
    name: 'Possibly a pod-IP connection captured by a service listener',
    summary:
      'A TCP connection to outbound|PORT||X failed (UF/URX/UH) and the log alone cannot say whether its original destination ' +
      'was X (its ClusterIP) or a pod IP that a port-wide listener of X caught (an ExternalName Service, or a ServiceEntry ' +
      'with resolution DNS/STATIC/NONE and a TCP port). Not a finding yet: confirm or rule it out with the inventory.',
    fixes: [
      'Give --inventory (kubectl get pods,services,endpointslices -A -o json): a pod IP that is not an endpoint of X confirms it',
      'podpath explain on the client sidecar\'s config dump says which listener and filter chain took the address',
      ...CAPTURE_FIXES.slice(0, 2),
    ],
    match: (e, inventory) => (captureEvidence(e, inventory) === 'possible' ? 'inferred' : null),
  },
  {
    id: 'app-not-listening',
    severity: 'error',
    name: 'The server sidecar could not connect to its own app (inbound UF)',
    summary:
      'The connection reached the server pod\'s sidecar, which then failed to connect to the app on the target port ' +
      '(inbound|PORT|| with UF). The app is not listening on that port, listens on 127.0.0.1 only while the sidecar ' +
      'connects to the pod IP (Istio 1.10 and later), or was restarting. delayed_connect_error:_111 is ECONNREFUSED.',
    fixes: [
      'kubectl exec into the app container: is anything listening on that port (ss -ltn)? Check the Service targetPort',
      'If the app binds 127.0.0.1 or localhost only, bind 0.0.0.0 (or the pod IP) instead',
      'If it happens only around restarts, check the app\'s readiness probe and holdApplicationUntilProxyStarts',
    ],
    match: (e) => (e.cluster.kind === 'inbound' && has(e, 'UF') ? 'exact' : null),
  },
  {
    id: 'passthrough-connect-failed',
    severity: 'warning',
    name: 'Passthrough connection refused or timed out (UF/URX on a passthrough cluster)',
    summary:
      'No service listener matched, so the sidecar connected to the original destination itself (PassthroughCluster ' +
      'outbound, InboundPassthroughCluster inbound), and that connection failed: refused (short duration, connect error 111), ' +
      'or no answer within the connect timeout (duration near connectTimeout, 10s by default).',
    fixes: [
      'Check that the destination address and port accept connections from this pod (firewall, NetworkPolicy, the app itself)',
      'For timeouts: meshConfig.connectTimeout (default 10s) or a DestinationRule trafficPolicy.connectionPool.tcp.connectTimeout bounds the wait',
      'For InboundPassthroughCluster: the app in this pod does not accept on that port, or the port belongs to no Service',
    ],
    match: (e) => ((e.cluster.kind === 'passthrough' || e.cluster.kind === 'inbound-passthrough') && connectFailed(e) ? 'exact' : null),
  },
  {
    id: 'upstream-connect-failed',
    severity: 'warning',
    name: 'Upstream connection failed (UF/URX to a service endpoint)',
    summary:
      'The client sidecar picked an endpoint of the service and could not connect to it (UF; URX: the connect attempts ' +
      'ran out). When the upstream host is the address the app dialled, the cluster forwards to the original destination ' +
      '(a headless Service): that pod refused or did not answer.',
    fixes: [
      'Check the endpoint pod: is it ready, and is the app listening on that port? (its sidecar log has the inbound side)',
      'kubectl get endpointslices for the service: stale endpoints point at pods that are gone',
      'Check NetworkPolicies between the two pods',
    ],
    match: (e, inventory) => {
      if (e.cluster.kind !== 'outbound' || !(has(e, 'UF') || (has(e, 'URX') && !isHttp(e)))) return null;
      return captureEvidence(e, inventory) === 'confirmed' ? null : 'exact';
    },
  },
  {
    id: 'passthrough',
    severity: 'info',
    name: 'Traffic bypassed mesh routing (PassthroughCluster)',
    summary:
      'The destination (typically a pod IP, or a host unknown to the mesh) matched no service listener, so the sidecar ' +
      'forwarded it to the original destination: no mesh routing, no load balancing, no mTLS from this sidecar, and a ' +
      'STRICT mTLS server will reject it.',
    fixes: [
      'Address the workload by a service name (a headless Service gives per-pod names and keeps mTLS)',
      'If passthrough is intended, nothing to do; with outboundTrafficPolicy REGISTRY_ONLY it would be BlackHoleCluster instead',
    ],
    match: (e) => (e.cluster.kind === 'passthrough' ? 'exact' : null),
  },
  {
    id: 'blackhole',
    severity: 'error',
    name: 'Traffic dropped (BlackHoleCluster)',
    summary:
      'The sidecar dropped the connection: the destination is not in the mesh registry while outboundTrafficPolicy is ' +
      'REGISTRY_ONLY, or (Istio 1.3-1.5 listeners) the pod connected to its own IP through a service port. BlackHoleCluster ' +
      'has no endpoints, so these lines also carry UH: that is the drop, not a service without ready pods.',
    fixes: [
      'Add a ServiceEntry for the destination, or set outboundTrafficPolicy.mode ALLOW_ANY',
      'If the destination is the pod itself, connect to localhost instead of the pod IP',
    ],
    match: (e) => (e.cluster.kind === 'blackhole' ? 'exact' : blackholeWithoutName(e) ? 'inferred' : null),
  },
  {
    id: 'plaintext-to-strict-mtls',
    severity: 'error',
    name: 'Connection rejected by the server sidecar (NR filter_chain_not_found)',
    summary:
      'No filter chain of the inbound listener matched: typically plaintext arriving at a STRICT mTLS workload (the client ' +
      'had no sidecar, or its sidecar sent it through PassthroughCluster without mTLS). The app never saw the connection.',
    fixes: [
      'Send the traffic from a pod with a sidecar, addressed by a service name so the client sidecar originates mTLS',
      'Or relax PeerAuthentication for that port/workload to PERMISSIVE',
    ],
    match: (e) => {
      if (!has(e, 'NR') || e.cluster.direction === 'outbound' || isHttp(e)) return null;
      if (e.responseCodeDetails === 'filter_chain_not_found' || e.connectionTerminationDetails === 'filter_chain_not_found') return 'exact';
      // Eras before 1.9 print no details: a TCP-level NR without a cluster is the same reject, less certain.
      return e.upstreamCluster === null && e.responseCodeDetails === null ? 'inferred' : null;
    },
  },
  {
    id: 'upstream-reset-before-response',
    severity: 'warning',
    name: 'HTTP upstream reset or retries exhausted before a response (UC/URX)',
    summary:
      'The upstream connection was terminated (UC) or the retry limit was reached (URX) before the upstream sent a response: ' +
      'the server closed idle keep-alive connections, crashed, or is not speaking HTTP on that port.',
    fixes: [
      'Check the server app and its sidecar log for the matching inbound entry (--follow-from)',
      'Check the port protocol (appProtocol / port name): HTTP declared on a non-HTTP port fails this way',
      'Align idle timeouts (DestinationRule connectionPool.http.idleTimeout below the server\'s keep-alive timeout)',
    ],
    match: (e) => (isHttp(e) && !has(e, 'UF') && (has(e, 'UC') || has(e, 'URX')) ? 'exact' : null),
  },
  {
    id: 'no-healthy-upstream',
    severity: 'error',
    name: 'No healthy upstream (UH)',
    summary: 'The cluster had no healthy endpoint: the service has no ready pods, every endpoint was ejected by outlier detection, or the cluster resolves to nothing.',
    fixes: [
      'kubectl get endpointslices for the service: are there ready endpoints?',
      'Check readiness probes and outlier detection (DestinationRule trafficPolicy.outlierDetection)',
    ],
    match: (e) => (has(e, 'UH') && e.cluster.kind !== 'blackhole' && !blackholeWithoutName(e) ? 'exact' : null),
  },
  {
    id: 'no-route',
    severity: 'warning',
    name: 'No route for an HTTP request (NR)',
    summary: 'The request\'s Host / path matched no route on that port: a Host that is a pod IP or unknown name, or a VirtualService that does not cover it.',
    fixes: [
      'Use a Host that a Service or VirtualService declares (or a headless Service for per-pod names)',
      'Check the VirtualService hosts and match rules for that port',
    ],
    match: (e) => (has(e, 'NR') && isHttp(e) ? 'exact' : null),
  },
  {
    id: 'unknown-response-flag',
    severity: 'info',
    name: 'Response flag unknown to podpath',
    summary: 'Envoy printed a response flag podpath does not know (a newer Envoy, or a custom flag); it is kept as printed.',
    fixes: ['Look the flag up in the Envoy access log documentation for the proxy\'s version'],
    match: (e) => (e.responseFlags.some((f) => !isKnownFlag(f)) ? 'exact' : null),
  },
];

export const SIGNATURE_IDS: readonly string[] = SIGNATURES.map((s) => s.id);

const has = (e: AccessLogEntry, flag: string): boolean => e.responseFlags.includes(flag);
const isHttp = (e: AccessLogEntry): boolean => e.method !== null || (e.protocol !== null && e.protocol.startsWith('HTTP'));
const connectFailed = (e: AccessLogEntry): boolean => has(e, 'UF') || has(e, 'URX');

function portOf(address: string | null): number | null {
  if (address === null) return null;
  const colon = address.lastIndexOf(':');
  const port = colon < 0 ? NaN : Number(address.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

/**
 * Whether a failed TCP connection was a pod IP caught by a port-wide service listener:
 * 'confirmed' only when the inventory shows a pod that is not X's, behind a cluster X that
 * builds such a listener; 'possible' when the log fits but nothing confirms it.
 */
export function captureEvidence(e: AccessLogEntry, inventory: Inventory | null): 'confirmed' | 'possible' | null {
  if (e.cluster.kind !== 'outbound' || isHttp(e)) return null;
  if (!connectFailed(e) && !has(e, 'UH')) return null;
  // A subset is a DestinationRule route a VirtualService chose (an egress gateway, say), not a catch-all.
  if (e.cluster.subset !== null) return null;
  // With an SNI the listener matched the server name (TLS routing), not the port alone.
  if (e.requestedServerName !== null) return null;
  const dst = hostOf(e.downstreamLocalAddress);
  // Envoy connected to exactly the address the app dialled (original-destination, headless): nothing was redirected.
  if (dst !== null && dst === hostOf(e.upstreamHost)) return null;
  // The catch-all 0.0.0.0_PORT sends PORT to outbound|PORT||X: another original port is some other listener's doing.
  const dstPort = portOf(e.downstreamLocalAddress);
  if (dstPort !== null && e.cluster.port !== null && dstPort !== e.cluster.port) return null;
  const service = e.cluster.service;
  if (inventory === null || dst === null || service === null) return 'possible';
  if (isEndpointOf(inventory, dst, service) === true) return null;
  if (!inventory.podsByIp.has(dst)) return 'possible';
  const info = findService(inventory, service);
  // ServiceEntry hosts are not Services; a Service name the inventory lacks may just be outside it.
  if (info === null) return service.includes('.svc.') ? 'possible' : 'confirmed';
  // Port-wide listeners come from ExternalName and headless Services; a ClusterIP Service listens on its IP only.
  return info.type === 'ExternalName' || info.clusterIPs.length === 0 ? 'confirmed' : 'possible';
}

/** RFC 1918, CGNAT (100.64/10, which some clouds use for pods), loopback, link-local: addresses a Service may live on. */
function isPrivateIpv4(host: string | null): boolean {
  const m = host === null ? null : /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
}

/**
 * A TCP UH with no cluster to a public address: what BlackHoleCluster (no hosts) logged under
 * REGISTRY_ONLY before Envoy printed the cluster of a connection without a host. To a private
 * address it may as well be a Service without ready pods, so it stays no-healthy-upstream.
 */
const blackholeWithoutName = (e: AccessLogEntry): boolean => {
  if (!has(e, 'UH') || e.upstreamCluster !== null || isHttp(e)) return false;
  const dst = hostOf(e.downstreamLocalAddress);
  return dst !== null && dst.includes('.') && !isPrivateIpv4(dst);
};

/** What the first evidence entry says about a failed connect: refused, timed out, or unknown. */
function connectOutcome(e: AccessLogEntry): string {
  const reason = `${e.upstreamTransportFailureReason ?? ''} ${e.responseCodeDetails ?? ''}`;
  if (/_111\b|error: 111|refused/i.test(reason)) return 'refused (connect error 111, ECONNREFUSED)';
  if (/_113\b|error: 113/.test(reason)) return 'no route to host (connect error 113)';
  if (e.durationMs !== null && e.durationMs >= 9000) return `no answer for ${e.durationMs} ms: the connect timeout (connectTimeout, 10s by default) expired`;
  if (e.durationMs !== null && e.durationMs < 1000) return `failed after ${e.durationMs} ms: refused or reset, not a timeout`;
  return e.durationMs === null ? 'failed' : `failed after ${e.durationMs} ms`;
}

interface State { count: number; exact: number; evidence: AccessLogEntry[] }

export class Diagnoser {
  readonly inventory: Inventory | null;
  private readonly states = new Map<string, State>();

  constructor(options: { inventory?: unknown } = {}) {
    const inv = options.inventory;
    this.inventory = inv === undefined || inv === null ? null : isInventory(inv) ? inv : loadInventory(inv);
  }

  add(entry: AccessLogEntry): void {
    // Fast exit for the common healthy line: no flags, a service cluster.
    if (entry.responseFlags.length === 0 && entry.cluster.kind !== 'passthrough' && entry.cluster.kind !== 'blackhole') return;
    for (const signature of SIGNATURES) {
      const m = signature.match(entry, this.inventory);
      if (m === null) continue;
      let state = this.states.get(signature.id);
      if (!state) this.states.set(signature.id, (state = { count: 0, exact: 0, evidence: [] }));
      state.count++;
      if (m === 'exact') state.exact++;
      // A structured clone owns its strings: evidence must not pin the 1 MiB input chunks its fields slice.
      if (state.evidence.length < EVIDENCE_LIMIT) state.evidence.push(structuredClone(entry));
    }
  }

  results(): Diagnosis[] {
    const out: Diagnosis[] = [];
    for (const signature of SIGNATURES) {
      const state = this.states.get(signature.id);
      if (!state) continue;
      out.push({
        id: signature.id,
        // A possible capture with nothing but the log to go on is a lead, not a warning.
        severity: signature.id === 'pod-ip-capture-possible' && this.inventory === null ? 'info' : signature.severity,
        title: signature.name,
        meaning: this.explain(signature, state),
        evidence: state.evidence,
        fixes: signature.fixes,
        inferred: state.exact === 0,
        count: state.count,
      });
    }
    return out;
  }

  private explain(signature: Signature, state: State): string {
    let meaning = signature.summary;
    const first = state.evidence[0];
    if (signature.id === 'app-not-listening') {
      const host = hostOf(first.upstreamHost);
      const port = first.cluster.port ?? portOf(first.upstreamHost);
      const target = host === null ? 'the app' : host.startsWith('127.') || host === '::1' ? `${first.upstreamHost} (loopback: nothing listens on ${port ?? 'that port'})` : `${first.upstreamHost} (the pod IP: an app bound to 127.0.0.1 only refuses it)`;
      meaning += ` First case: ${first.upstreamCluster} to ${target}, ${connectOutcome(first)}.`;
    } else if (signature.id === 'passthrough-connect-failed' || signature.id === 'upstream-connect-failed') {
      const direct = first.upstreamHost !== null && hostOf(first.upstreamHost) === hostOf(first.downstreamLocalAddress);
      meaning += ` First case: ${first.upstreamCluster} to ${first.upstreamHost ?? first.downstreamLocalAddress ?? 'an unlogged address'}` +
        `${signature.id === 'upstream-connect-failed' && direct ? ' (the address the app dialled: an original-destination cluster, as a headless Service builds)' : ''}, ${connectOutcome(first)}.`;
    } else if (signature.id === 'pod-ip-capture-possible') {
      meaning += ` First case: ${first.downstreamLocalAddress ?? 'an unlogged original destination'} sent to ${first.upstreamCluster ?? 'an unnamed cluster'} with ${first.responseFlags.join(',')}.`;
    }
    if (signature.id === 'pod-ip-captured-by-service-listener') {
      const e = state.evidence[0];
      const dst = hostOf(e.downstreamLocalAddress);
      const where = dst === null ? 'the original destination was not logged' : `original destination ${e.downstreamLocalAddress}${this.inventory ? ` (${resolveIp(this.inventory, dst) ?? 'unknown to the inventory'})` : ''}`;
      const svc = e.cluster.service === null ? 'a service whose name is not in the log' : e.cluster.service;
      meaning += ` First case: ${where} sent to ${e.upstreamCluster} (${svc}) with ${e.responseFlags.join(',')}.`;
      if (this.inventory && e.cluster.service && findService(this.inventory, e.cluster.service)?.type === 'ExternalName') {
        meaning += ` ${e.cluster.service} is an ExternalName Service.`;
      }
    }
    if (signature.id === 'no-healthy-upstream' && first.upstreamCluster === null && !isHttp(first)) {
      meaning += ' The entry names no cluster (Envoy before ~1.20 printed none when no host was picked): with outboundTrafficPolicy REGISTRY_ONLY it may also be BlackHoleCluster dropping an address the mesh does not know.';
    }
    if (signature.id === 'blackhole' && state.exact === 0) {
      meaning += ' Inferred: a TCP entry with UH, no cluster name and a public destination is what BlackHoleCluster logged before Envoy printed its name; it is not a Service without ready pods.';
    } else if (signature.id === 'pod-ip-capture-possible') {
      meaning += this.inventory ? ' The inventory does not settle it (see above).' : ' Give --inventory to settle it.';
    } else if (state.exact === 0) {
      meaning += this.inventory
        ? ' Inferred: the inventory does not have what is needed to confirm it.'
        : ' Inferred from the log alone: give --inventory (kubectl get pods,services,endpointslices -A -o json) to confirm it exactly.';
    }
    return meaning;
  }
}

function isInventory(value: unknown): value is Inventory {
  return value !== null && typeof value === 'object' && (value as Inventory).podsByIp instanceof Map;
}

/** The contract's batch form of Diagnoser. `inventory` is the kubectl JSON or a loaded Inventory. */
export function diagnose(entries: Iterable<AccessLogEntry>, options: { inventory?: unknown } = {}): Diagnosis[] {
  const diagnoser = new Diagnoser(options);
  for (const entry of entries) diagnoser.add(entry);
  return diagnoser.results();
}
