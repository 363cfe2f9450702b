/**
 * How Istio decides a port's protocol (pkg/config/kube/conversion.go and
 * pkg/config/protocol/instance.go in istio/istio, checked with the search tool):
 * appProtocol wins over the name; the name is `<protocol>[-<suffix>]`, case-insensitive, with
 * `grpc-web` matched as a whole prefix; UDP in `protocol:` is UDP whatever the name says;
 * anything else is unknown and sniffed, except the well-known ports 25, 53, 3306, 27017 (TCP).
 */
export type IstioProtocol = 'http' | 'http2' | 'http_proxy' | 'https' | 'grpc' | 'grpc-web' | 'tcp' | 'tls' | 'udp' | 'mongo' | 'mysql' | 'redis' | 'unknown';

/** The protocol prefixes Istio recognises in port names (protocol selection docs, every version since 1.4). */
export const PROTOCOL_PREFIXES: readonly IstioProtocol[] = ['http', 'http2', 'http_proxy', 'https', 'grpc', 'grpc-web', 'tcp', 'tls', 'udp', 'mongo', 'mysql', 'redis'];

const KNOWN = new Set<string>(PROTOCOL_PREFIXES);
const WELL_KNOWN_TCP = new Set([25, 53, 3306, 27017]);

function parseProtocol(value: string): IstioProtocol {
  const lower = value.toLowerCase();
  return KNOWN.has(lower) ? (lower as IstioProtocol) : 'unknown';
}

/** Protocol named by a port name alone (`tcp-hazelcast` → tcp, `hazelcast` → unknown). */
export function protocolFromName(name: string | null): IstioProtocol {
  if (!name) return 'unknown';
  if (name.length >= 8 && name.slice(0, 8).toLowerCase() === 'grpc-web') return 'grpc-web';
  const dash = name.indexOf('-');
  return parseProtocol(dash >= 0 ? name.slice(0, dash) : name);
}

function protocolFromAppProtocol(appProtocol: string): IstioProtocol {
  // Kubernetes' standard appProtocol values, mapped the way istiod maps them.
  if (appProtocol === 'kubernetes.io/h2c') return 'http2';
  if (appProtocol === 'kubernetes.io/ws') return 'http';
  if (appProtocol === 'kubernetes.io/wss') return 'https';
  return parseProtocol(appProtocol);
}

export interface PortProtocolInput {
  port: number;
  name: string | null;
  /** Kubernetes `protocol:` (TCP, UDP, SCTP); null means TCP. */
  transport: string | null;
  appProtocol: string | null;
}

/** The protocol istiod assigns to a Kubernetes Service port. */
export function servicePortProtocol(p: PortProtocolInput): IstioProtocol {
  if (p.transport !== null && p.transport.toUpperCase() === 'UDP') return 'udp';
  if (p.appProtocol) {
    const fromApp = protocolFromAppProtocol(p.appProtocol);
    if (fromApp !== 'unknown') return fromApp;
  }
  const fromName = protocolFromName(p.name);
  if (fromName === 'udp') return 'tcp'; // a "udp-" name on a TCP port is not UDP in istiod
  if (fromName === 'unknown' && WELL_KNOWN_TCP.has(p.port)) return 'tcp';
  return fromName;
}

/** Ports routed by Host header: a pod-IP Host falls through to passthrough, never to a catch-all cluster. */
export function isHttpProtocol(p: IstioProtocol): boolean {
  return p === 'http' || p === 'http2' || p === 'http_proxy' || p === 'grpc' || p === 'grpc-web';
}

/** TLS ports match on SNI, so other destinations do not fall into their chain. */
export function isSniProtocol(p: IstioProtocol): boolean {
  return p === 'tls' || p === 'https';
}

/**
 * Ports whose outbound chain, without a VIP of its own, matches every destination IP on the port:
 * opaque TCP, and unknown (sniffed) ports whose non-HTTP traffic takes the TCP chain.
 */
export function isCatchAllProtocol(p: IstioProtocol): boolean {
  return !isHttpProtocol(p) && !isSniProtocol(p) && p !== 'udp';
}
