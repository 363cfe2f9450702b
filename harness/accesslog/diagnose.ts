/**
 * Known failure signatures in sidecar access logs. Streaming: `Diagnoser.add` per entry keeps a
 * count and a few evidence entries per signature, so a million lines cost constant memory.
 */
import { hostOf } from './entry.ts';
import { isKnownFlag } from './flags.ts';
import { findService, isEndpointOf, loadInventory, resolveIp, type Inventory } from './inventory.ts';
import type { AccessLogEntry, Diagnosis } from './types.ts';

export const EVIDENCE_LIMIT = 20;

export interface Signature { id: string; severity: Diagnosis['severity']; title: string; meaning: string; fixes: string[] }

export const SIGNATURES: readonly Signature[] = [
  {
    id: 'pod-ip-captured-by-service-listener',
    severity: 'error',
    title: 'Pod-IP connection captured by a service listener (the seed incident)',
    meaning:
      'The app connected to an address on a TCP port, and the client sidecar sent it to outbound|PORT||X although that ' +
      'address is not an endpoint of X: a listener 0.0.0.0_PORT built for another service on the same port (an ExternalName ' +
      'Service, or a ServiceEntry with resolution DNS and a TCP port) catches every unknown IP on that port. X\'s upstream did ' +
      'not answer (UF/URX/UH), so the app saw its connection accepted and then closed. Before X existed the same traffic went ' +
      'to PassthroughCluster.',
    fixes: [
      'Drop the colliding TCP port from the ExternalName Service (no listener on that port; pod-IP traffic goes back to PassthroughCluster)',
      'Use a VirtualService to redirect the traffic instead of an ExternalName Service',
      'Annotate the Service with networking.istio.io/exportTo: "." so other namespaces do not get its listener',
      'Add a Sidecar resource in the client namespace limiting egress hosts to what it needs',
      'Give different TCP services distinct ports',
      'Use TLS with SNI so the sidecar can route TCP by server name',
    ],
  },
  {
    id: 'passthrough',
    severity: 'info',
    title: 'Traffic bypassed mesh routing (PassthroughCluster)',
    meaning:
      'The destination (typically a pod IP, or a host unknown to the mesh) matched no service listener, so the sidecar ' +
      'forwarded it to the original destination: no mesh routing, no load balancing, no mTLS from this sidecar, and a ' +
      'STRICT mTLS server will reject it.',
    fixes: [
      'Address the workload by a service name (a headless Service gives per-pod names and keeps mTLS)',
      'If passthrough is intended, nothing to do; with outboundTrafficPolicy REGISTRY_ONLY it would be BlackHoleCluster instead',
    ],
  },
  {
    id: 'blackhole',
    severity: 'error',
    title: 'Traffic dropped (BlackHoleCluster)',
    meaning:
      'The sidecar dropped the connection: the destination is not in the mesh registry while outboundTrafficPolicy is ' +
      'REGISTRY_ONLY, or (Istio 1.3-1.5 listeners) the pod connected to its own IP through a service port.',
    fixes: [
      'Add a ServiceEntry for the destination, or set outboundTrafficPolicy.mode ALLOW_ANY',
      'If the destination is the pod itself, connect to localhost instead of the pod IP',
    ],
  },
  {
    id: 'plaintext-to-strict-mtls',
    severity: 'error',
    title: 'Connection rejected by the server sidecar (NR filter_chain_not_found)',
    meaning:
      'No filter chain of the inbound listener matched: typically plaintext arriving at a STRICT mTLS workload (the client ' +
      'had no sidecar, or its sidecar sent it through PassthroughCluster without mTLS).',
    fixes: [
      'Send the traffic from a pod with a sidecar, addressed by a service name so the client sidecar originates mTLS',
      'Or relax PeerAuthentication for that port/workload to PERMISSIVE',
    ],
  },
  {
    id: 'upstream-reset-before-response',
    severity: 'warning',
    title: 'HTTP upstream reset or retries exhausted before a response (UC/URX)',
    meaning:
      'The upstream connection was terminated (UC) or the retry limit was reached (URX) before the upstream sent a response: ' +
      'the server closed idle keep-alive connections, crashed, or is not speaking HTTP on that port.',
    fixes: [
      'Check the server app and its sidecar log for the matching inbound entry (--follow-from)',
      'Check the port protocol (appProtocol / port name): HTTP declared on a non-HTTP port fails this way',
      'Align idle timeouts (DestinationRule connectionPool.http.idleTimeout below the server\'s keep-alive timeout)',
    ],
  },
  {
    id: 'no-healthy-upstream',
    severity: 'error',
    title: 'No healthy upstream (UH)',
    meaning: 'The cluster had no healthy endpoint: the service has no ready pods, every endpoint was ejected by outlier detection, or the cluster resolves to nothing.',
    fixes: [
      'kubectl get endpointslices for the service: are there ready endpoints?',
      'Check readiness probes and outlier detection (DestinationRule trafficPolicy.outlierDetection)',
    ],
  },
  {
    id: 'no-route',
    severity: 'warning',
    title: 'No route for an HTTP request (NR)',
    meaning: 'The request\'s Host / path matched no route on that port: a Host that is a pod IP or unknown name, or a VirtualService that does not cover it.',
    fixes: [
      'Use a Host that a Service or VirtualService declares (or a headless Service for per-pod names)',
      'Check the VirtualService hosts and match rules for that port',
    ],
  },
  {
    id: 'unknown-response-flag',
    severity: 'info',
    title: 'Response flag unknown to podpath',
    meaning: 'Envoy printed a response flag podpath does not know (a newer Envoy, or a custom flag); it is kept as printed.',
    fixes: ['Look the flag up in the Envoy access log documentation for the proxy\'s version'],
  },
];

export const SIGNATURE_IDS: readonly string[] = SIGNATURES.map((s) => s.id);

const has = (e: AccessLogEntry, flag: string): boolean => e.responseFlags.includes(flag);
const isHttp = (e: AccessLogEntry): boolean => e.method !== null || (e.protocol !== null && e.protocol.startsWith('HTTP'));

/** 'exact' or 'inferred' when the entry has the signature, null when not. */
type Match = 'exact' | 'inferred' | null;

function capturedByServiceListener(e: AccessLogEntry, inventory: Inventory | null): Match {
  if (e.cluster.kind !== 'outbound' || isHttp(e)) return null;
  if (!has(e, 'UF') && !has(e, 'URX') && !has(e, 'UH')) return null;
  const dst = hostOf(e.downstreamLocalAddress);
  const service = e.cluster.service;
  if (inventory !== null && dst !== null && service !== null) {
    const belongs = isEndpointOf(inventory, dst, service);
    if (belongs === true) return null;
    if (belongs === false) return 'exact';
    return 'inferred';
  }
  // Without an inventory: Envoy tried exactly the address the app asked for, so nothing was captured.
  if (dst !== null && dst === hostOf(e.upstreamHost)) return null;
  return 'inferred';
}

function match(id: string, e: AccessLogEntry, inventory: Inventory | null): Match {
  switch (id) {
    case 'pod-ip-captured-by-service-listener':
      return capturedByServiceListener(e, inventory);
    case 'passthrough':
      return e.cluster.kind === 'passthrough' ? 'exact' : null;
    case 'blackhole':
      return e.cluster.kind === 'blackhole' ? 'exact' : null;
    case 'plaintext-to-strict-mtls': {
      if (!has(e, 'NR') || e.cluster.direction === 'outbound' || isHttp(e)) return null;
      if (e.responseCodeDetails === 'filter_chain_not_found' || e.connectionTerminationDetails === 'filter_chain_not_found') return 'exact';
      // Eras before 1.9 print no details: a TCP-level NR without a cluster is the same reject, less certain.
      return e.upstreamCluster === null && e.responseCodeDetails === null ? 'inferred' : null;
    }
    case 'upstream-reset-before-response':
      return isHttp(e) && (has(e, 'UC') || has(e, 'URX')) ? 'exact' : null;
    case 'no-healthy-upstream':
      return has(e, 'UH') ? 'exact' : null;
    case 'no-route':
      return has(e, 'NR') && isHttp(e) ? 'exact' : null;
    case 'unknown-response-flag':
      return e.responseFlags.some((f) => !isKnownFlag(f)) ? 'exact' : null;
    default:
      return null;
  }
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
      const m = match(signature.id, entry, this.inventory);
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
        severity: signature.severity,
        title: signature.title,
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
    let meaning = signature.meaning;
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
    if (state.exact === 0) {
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
