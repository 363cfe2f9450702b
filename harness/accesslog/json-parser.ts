/**
 * Istio JSON access log lines (accessLogEncoding: JSON). Values may be typed (numbers, null) or
 * strings ("-" for unset, "123" for numbers): both are accepted. A user's own JSON dictionary
 * (--log-format '{"key":"%OP%",...}') maps keys through their operators.
 */
import { UsageError } from '../errors/index.ts';
import { decodeCluster } from './cluster.ts';
import { blankEntry, nullable, toInt } from './entry.ts';
import { parseOperator, type Operator } from './custom-format.ts';
import { parseFlags } from './flags.ts';
import type { AccessLogEntry, LogFormatId, SkipReason } from './types.ts';
import type { Where } from './text-parser.ts';

function str(v: unknown): string | null {
  if (typeof v === 'string') return v === '-' || v === '' ? null : v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return toInt(nullable(v));
  return null;
}

function parseObject(text: string): Record<string, unknown> | SkipReason {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text.trimEnd().endsWith('}') ? 'not-access-log' : 'truncated';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not-access-log';
  return value as Record<string, unknown>;
}

/** Parses Istio's default JSON keys starting at `p`. */
export function parseJsonAt(line: string, p: number, where: Where): AccessLogEntry | SkipReason {
  const o = parseObject(p === 0 ? line : line.slice(p));
  if (typeof o === 'string') return o;
  // pilot-agent and Envoy also log JSON (level/msg): an access log line has these.
  if (!('start_time' in o) && !('upstream_cluster' in o) && !('response_flags' in o)) return 'not-access-log';
  let upstreamCluster = str(o.upstream_cluster);
  const format: LogFormatId = 'json';
  if (upstreamCluster !== null && upstreamCluster.endsWith(';')) upstreamCluster = upstreamCluster.slice(0, -1) || null;
  const flags = o.response_flags;
  return {
    source: where.source,
    line: where.line,
    pod: where.pod,
    format,
    startTime: str(o.start_time),
    method: str(o.method),
    path: str(o.path),
    protocol: str(o.protocol),
    responseCode: num(o.response_code),
    responseFlags: typeof flags === 'string' ? parseFlags(flags) : [],
    responseCodeDetails: str(o.response_code_details),
    connectionTerminationDetails: str(o.connection_termination_details),
    upstreamTransportFailureReason: str(o.upstream_transport_failure_reason),
    bytesReceived: num(o.bytes_received),
    bytesSent: num(o.bytes_sent),
    durationMs: num(o.duration),
    upstreamServiceTimeMs: num(o.upstream_service_time),
    xForwardedFor: str(o.x_forwarded_for),
    userAgent: str(o.user_agent),
    requestId: str(o.request_id),
    authority: str(o.authority),
    upstreamHost: str(o.upstream_host),
    upstreamCluster,
    upstreamLocalAddress: str(o.upstream_local_address),
    downstreamLocalAddress: str(o.downstream_local_address),
    downstreamRemoteAddress: str(o.downstream_remote_address),
    requestedServerName: str(o.requested_server_name),
    routeName: str(o.route_name),
    cluster: decodeCluster(upstreamCluster),
    raw: where.raw,
  };
}

export interface JsonDictionary { keys: [string, Operator][] }

/** Compiles a user's JSON dictionary format (`{"key": "%OP%", ...}`); values that are not one operator are kept raw. */
export function compileJsonDictionary(format: string): JsonDictionary {
  let value: unknown;
  try {
    value = JSON.parse(format);
  } catch (error) {
    throw new UsageError('--log-format: starts with { but is not valid JSON', { hint: 'Give the JSON dictionary exactly as in meshConfig.accessLogFormat.', cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--log-format: a JSON format must be an object of key → "%OPERATOR%"');
  const keys: [string, Operator][] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const op = typeof v === 'string' ? parseOperator(v.trim()) : null;
    keys.push([key, op ?? { text: key, name: key, argument: null, field: null }]);
  }
  return { keys };
}

export function parseJsonWithDictionary(dictionary: JsonDictionary, line: string, p: number, where: Where): AccessLogEntry | SkipReason {
  const o = parseObject(p === 0 ? line : line.slice(p));
  if (typeof o === 'string') return o;
  let hits = 0;
  const entry = blankEntry(where.source, where.line, where.pod, 'custom', where.raw, decodeCluster(null));
  for (const [key, op] of dictionary.keys) {
    if (!(key in o)) continue;
    hits++;
    const v = o[key];
    const field = op.field;
    if (field === null) (entry.extra ??= {})[op.text] = str(v);
    else if (field === 'responseFlags') entry.responseFlags = typeof v === 'string' ? parseFlags(v) : [];
    else if (field === 'responseCode' || field === 'bytesReceived' || field === 'bytesSent' || field === 'durationMs' || field === 'upstreamServiceTimeMs') entry[field] = num(v);
    else entry[field] = str(v);
  }
  if (hits === 0) return 'not-access-log';
  if (entry.upstreamCluster !== null && entry.upstreamCluster.endsWith(';')) entry.upstreamCluster = entry.upstreamCluster.slice(0, -1) || null;
  entry.cluster = decodeCluster(entry.upstreamCluster);
  return entry;
}
