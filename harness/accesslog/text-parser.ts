/** Istio TEXT access log lines of every era → entries, via the shared scanner (text-scan.ts). */
import { decodeCluster } from './cluster.ts';
import { toInt } from './entry.ts';
import { parseFlags } from './flags.ts';
import {
  F_AUTHORITY, F_CLUSTER, F_CODE, F_DETAILS, F_DOWNSTREAM_LOCAL, F_DOWNSTREAM_REMOTE, F_DURATION, F_FLAGS, F_METHOD,
  F_PATH, F_PROTOCOL, F_RECEIVED, F_REQUEST_ID, F_ROUTE, F_SENT, F_SERVICE_TIME, F_SNI, F_START, F_TERMINATION,
  F_TRANSPORT, F_UA, F_UPSTREAM_HOST, F_UPSTREAM_LOCAL, F_XFF, interpret, newScan, tokenizeString, type Chars,
} from './text-scan.ts';
import type { AccessLogEntry, SkipReason } from './types.ts';

export interface Where { source: string; line: number; pod: string | null; raw: string }

const scan = newScan();
let current = '';
const chars: Chars = { at: (i) => current.charCodeAt(i) };

function field(line: string, f: Int32Array, k: number): string | null {
  const start = f[k * 2];
  if (start < 0) return null;
  const end = f[k * 2 + 1];
  // `-` is unset; so is an empty quoted value (the seed's "").
  if (end === start || (end - start === 1 && line.charCodeAt(start) === 45)) return null;
  return line.slice(start, end);
}

/** Parses the access log part of a line starting at `p` (after any prefix). */
export function parseTextAt(line: string, p: number, where: Where): AccessLogEntry | SkipReason {
  const skip = tokenizeString(line, p, scan);
  if (skip !== null) return skip;
  current = line;
  const why = interpret(chars, scan);
  current = '';
  if (why !== null) return why;
  const f = scan.fields;
  const upstreamCluster = field(line, f, F_CLUSTER);
  return {
    source: where.source,
    line: where.line,
    pod: where.pod,
    format: scan.format,
    startTime: field(line, f, F_START),
    method: field(line, f, F_METHOD),
    path: field(line, f, F_PATH),
    protocol: field(line, f, F_PROTOCOL),
    responseCode: toInt(field(line, f, F_CODE)),
    responseFlags: parseFlags(field(line, f, F_FLAGS)),
    responseCodeDetails: field(line, f, F_DETAILS),
    connectionTerminationDetails: field(line, f, F_TERMINATION),
    upstreamTransportFailureReason: field(line, f, F_TRANSPORT),
    bytesReceived: toInt(field(line, f, F_RECEIVED)),
    bytesSent: toInt(field(line, f, F_SENT)),
    durationMs: toInt(field(line, f, F_DURATION)),
    upstreamServiceTimeMs: toInt(field(line, f, F_SERVICE_TIME)),
    xForwardedFor: field(line, f, F_XFF),
    userAgent: field(line, f, F_UA),
    requestId: field(line, f, F_REQUEST_ID),
    authority: field(line, f, F_AUTHORITY),
    upstreamHost: field(line, f, F_UPSTREAM_HOST),
    upstreamCluster,
    upstreamLocalAddress: field(line, f, F_UPSTREAM_LOCAL),
    downstreamLocalAddress: field(line, f, F_DOWNSTREAM_LOCAL),
    downstreamRemoteAddress: field(line, f, F_DOWNSTREAM_REMOTE),
    requestedServerName: field(line, f, F_SNI),
    routeName: field(line, f, F_ROUTE),
    cluster: decodeCluster(upstreamCluster),
    raw: where.raw,
  };
}
