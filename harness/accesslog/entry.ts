import type { AccessLogEntry, ClusterRef, LogFormatId } from './types.ts';

/** Envoy prints `-` for unset values; an empty quoted value is unset too. */
export function nullable(text: string): string | null {
  return text === '-' || text === '' ? null : text;
}

/** Digits only, else null: no Number() surprises ('1e3', ' 12', '0x1f'). */
export function toInt(text: string | null): number | null {
  if (text === null) return null;
  const n = text.length;
  if (n === 0 || n > 15) return null;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    value = value * 10 + c;
  }
  return value;
}

/** A fresh entry with every field unset, keys in contract order (one hidden class for all entries). */
export function blankEntry(source: string, line: number, pod: string | null, format: LogFormatId, raw: string, cluster: ClusterRef): AccessLogEntry {
  return {
    source, line, pod, format,
    startTime: null, method: null, path: null, protocol: null, responseCode: null, responseFlags: [],
    responseCodeDetails: null, connectionTerminationDetails: null, upstreamTransportFailureReason: null,
    bytesReceived: null, bytesSent: null, durationMs: null, upstreamServiceTimeMs: null, xForwardedFor: null,
    userAgent: null, requestId: null, authority: null, upstreamHost: null, upstreamCluster: null,
    upstreamLocalAddress: null, downstreamLocalAddress: null, downstreamRemoteAddress: null,
    requestedServerName: null, routeName: null, cluster, raw,
  };
}

/** `10.244.1.5:5701` → `10.244.1.5`, `[fd00::5]:80` → `fd00::5`, `tcp://1.2.3.4:80` → `1.2.3.4`. */
export function hostOf(address: string | null): string | null {
  if (address === null) return null;
  let a = address;
  const scheme = a.indexOf('://');
  if (scheme >= 0) a = a.slice(scheme + 3);
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(1, end) : a;
  }
  const colon = a.lastIndexOf(':');
  return colon > 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
}
