/**
 * NDJSON for `podpath logs --json`: exactly the contract keys minus `raw` (and minus `extra`),
 * built by concatenation; strings are escaped by JSON.stringify only when they need it.
 */
import type { AccessLogEntry, ClusterRef } from './types.ts';

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

export function jsonString(value: string | null): string {
  if (value === null) return 'null';
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function jsonNumber(value: number | null): string {
  return value === null ? 'null' : String(value);
}

const flagCache = new Map<string, string>();

function jsonFlags(flags: string[]): string {
  if (flags.length === 0) return '[]';
  const key = flags.join(',');
  let out = flagCache.get(key);
  if (out === undefined) {
    out = JSON.stringify(flags);
    if (flagCache.size < 4096) flagCache.set(key, out);
  }
  return out;
}

export function clusterJson(c: ClusterRef): string {
  return `{"kind":"${c.kind}","direction":${c.direction === null ? 'null' : `"${c.direction}"`},"port":${jsonNumber(c.port)},"subset":${jsonString(c.subset)},"service":${jsonString(c.service)}}`;
}

export const OUTPUT_KEYS: readonly string[] = [
  'source', 'line', 'pod', 'format', 'startTime', 'method', 'path', 'protocol', 'responseCode', 'responseFlags',
  'responseCodeDetails', 'connectionTerminationDetails', 'upstreamTransportFailureReason', 'bytesReceived', 'bytesSent',
  'durationMs', 'upstreamServiceTimeMs', 'xForwardedFor', 'userAgent', 'requestId', 'authority', 'upstreamHost',
  'upstreamCluster', 'upstreamLocalAddress', 'downstreamLocalAddress', 'downstreamRemoteAddress', 'requestedServerName',
  'routeName', 'cluster',
];

/** One NDJSON object (no trailing newline). `sourceJson` lets a caller escape the file name once. */
export function entryToJson(e: AccessLogEntry, sourceJson: string = jsonString(e.source)): string {
  return '{"source":' + sourceJson +
    ',"line":' + e.line +
    ',"pod":' + jsonString(e.pod) +
    ',"format":"' + e.format +
    '","startTime":' + jsonString(e.startTime) +
    ',"method":' + jsonString(e.method) +
    ',"path":' + jsonString(e.path) +
    ',"protocol":' + jsonString(e.protocol) +
    ',"responseCode":' + jsonNumber(e.responseCode) +
    ',"responseFlags":' + jsonFlags(e.responseFlags) +
    ',"responseCodeDetails":' + jsonString(e.responseCodeDetails) +
    ',"connectionTerminationDetails":' + jsonString(e.connectionTerminationDetails) +
    ',"upstreamTransportFailureReason":' + jsonString(e.upstreamTransportFailureReason) +
    ',"bytesReceived":' + jsonNumber(e.bytesReceived) +
    ',"bytesSent":' + jsonNumber(e.bytesSent) +
    ',"durationMs":' + jsonNumber(e.durationMs) +
    ',"upstreamServiceTimeMs":' + jsonNumber(e.upstreamServiceTimeMs) +
    ',"xForwardedFor":' + jsonString(e.xForwardedFor) +
    ',"userAgent":' + jsonString(e.userAgent) +
    ',"requestId":' + jsonString(e.requestId) +
    ',"authority":' + jsonString(e.authority) +
    ',"upstreamHost":' + jsonString(e.upstreamHost) +
    ',"upstreamCluster":' + jsonString(e.upstreamCluster) +
    ',"upstreamLocalAddress":' + jsonString(e.upstreamLocalAddress) +
    ',"downstreamLocalAddress":' + jsonString(e.downstreamLocalAddress) +
    ',"downstreamRemoteAddress":' + jsonString(e.downstreamRemoteAddress) +
    ',"requestedServerName":' + jsonString(e.requestedServerName) +
    ',"routeName":' + jsonString(e.routeName) +
    ',"cluster":' + clusterJson(e.cluster) + '}';
}

/** The output object (for callers that want a value, not text). */
export function entryToOutput(e: AccessLogEntry): Record<string, unknown> {
  return JSON.parse(entryToJson(e)) as Record<string, unknown>;
}
