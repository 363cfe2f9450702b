/**
 * Whether a server sidecar's inbound entry shows the connection reaching the app, and the
 * Envoy details each hop printed: a chain of hops may only go as far as its evidence.
 */
import type { AccessLogEntry } from './types.ts';

const has = (e: AccessLogEntry, flag: string): boolean => e.responseFlags.includes(flag);

/** Why the server sidecar's entry is the last hop (the app never saw the connection), or null when it reached the app. */
export function serverStop(server: AccessLogEntry): string | null {
  const details = server.responseCodeDetails ?? server.connectionTerminationDetails;
  const said = details === null ? '' : ` ${details}`;
  if (has(server, 'NR')) return `the server sidecar rejected the connection (NR${said}): the app never saw it`;
  if (has(server, 'UAEX') || (details !== null && details.startsWith('rbac_access_denied'))) {
    return `the server sidecar's authorization denied it (${server.responseFlags.join(',') || '-'}${said}): the app never saw it`;
  }
  if (has(server, 'UF') || has(server, 'UH') || has(server, 'URX')) {
    return `the server sidecar could not connect to the app (${server.responseFlags.join(',')}${said}${server.upstreamHost === null ? '' : ` to ${server.upstreamHost}`})`;
  }
  if (server.upstreamHost === null && server.responseFlags.length > 0) {
    return `the server sidecar ended it before the app (${server.responseFlags.join(',')}${said}); no upstream host was logged`;
  }
  return null;
}

/** `response_code_details=… connection_termination_details=… upstream_transport_failure_reason=…`, only those printed. */
export function hopDetails(e: AccessLogEntry): string {
  const parts: string[] = [];
  if (e.responseCodeDetails !== null) parts.push(`response_code_details=${e.responseCodeDetails}`);
  if (e.connectionTerminationDetails !== null) parts.push(`connection_termination_details=${e.connectionTerminationDetails}`);
  if (e.upstreamTransportFailureReason !== null) parts.push(`upstream_transport_failure_reason=${e.upstreamTransportFailureReason}`);
  return parts.join(' ');
}
