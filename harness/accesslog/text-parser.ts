/**
 * Istio TEXT access log lines of every era, read by one left-to-right scan (indexOf + slice, no
 * regex). Eras differ only between %RESPONSE_FLAGS% and %BYTES_RECEIVED%, so the scanner anchors
 * on the runs of quoted and bare tokens there instead of on absolute positions:
 *   bare bare (details) → 1.9+;  "mixer" "transport" → 1.6-1.7;  "transport" → 1.8.
 * After the five quoted fields (x-forwarded-for .. upstream host) come the bare tail fields.
 */
import { decodeCluster } from './cluster.ts';
import { looksLikeAddress, nullable, toInt } from './entry.ts';
import { parseFlags } from './flags.ts';
import type { AccessLogEntry, LogFormatId, SkipReason } from './types.ts';

const MAX_TOKENS = 48;
const tokens: string[] = new Array<string>(MAX_TOKENS).fill('');
const quoted = new Uint8Array(MAX_TOKENS);

/** Splits `line` from `pos` into bare and quoted tokens; -1 when a quote is never closed (truncated line). */
function tokenize(line: string, pos: number): number {
  const len = line.length;
  let n = 0;
  while (pos < len && n < MAX_TOKENS) {
    const c = line.charCodeAt(pos);
    if (c === 32 || c === 9) {
      pos++;
      continue;
    }
    if (c === 34) {
      let end = line.indexOf('"', pos + 1);
      if (end < 0) return -1;
      // Envoy does not escape quotes inside values: a closing quote is one followed by a space or the end.
      while (end + 1 < len && line.charCodeAt(end + 1) !== 32) {
        const next = line.indexOf('"', end + 1);
        if (next < 0) break;
        end = next;
      }
      tokens[n] = line.slice(pos + 1, end);
      quoted[n++] = 1;
      pos = end + 1;
    } else {
      let end = line.indexOf(' ', pos);
      if (end < 0) end = len;
      tokens[n] = line.slice(pos, end);
      quoted[n++] = 0;
      pos = end;
    }
  }
  return n;
}

function looksLikeAddressOrDash(token: string): boolean {
  return token === '-' || looksLikeAddress(token);
}

export interface Where { source: string; line: number; pod: string | null; raw: string }

/** Parses the access log part of a line starting at `p` (after any prefix). */
export function parseTextAt(line: string, p: number, where: Where): AccessLogEntry | SkipReason {
  if (line.charCodeAt(p) !== 91) return 'not-access-log';
  const d = line.charCodeAt(p + 1);
  if (d < 48 || d > 57) return 'not-access-log';
  const close = line.indexOf('] "', p + 1);
  // START_TIME is short; a far-away `] "` belongs to some other log line (Envoy's own logs use `][`).
  if (close < 0 || close - p > 64) return line.length - p < 64 && close < 0 ? 'truncated' : 'not-access-log';
  const startTime = line.slice(p + 1, close);
  const reqStart = close + 3;
  const reqEnd = line.indexOf('" ', reqStart);
  if (reqEnd < 0) return 'truncated';
  const request = line.slice(reqStart, reqEnd);
  let method: string | null = null;
  let path: string | null = null;
  let protocol: string | null = null;
  const s1 = request.indexOf(' ');
  const s2 = request.lastIndexOf(' ');
  if (s1 > 0 && s2 > s1) {
    method = nullable(request.slice(0, s1));
    path = nullable(request.slice(s1 + 1, s2));
    protocol = nullable(request.slice(s2 + 1));
  } else {
    method = nullable(request);
  }

  const n = tokenize(line, reqEnd + 2);
  if (n < 0) return 'truncated';
  if (n < 2) return 'truncated';
  if (quoted[0] === 1 || quoted[1] === 1) return 'not-access-log';
  const responseCode = toInt(nullable(tokens[0]));
  const flagsText = tokens[1];

  let i = 2;
  while (i < n && quoted[i] === 0) i++;
  const bare1 = i - 2;
  const q1Start = i;
  while (i < n && quoted[i] === 1) i++;
  const quoted1 = i - q1Start;
  const b2Start = i;
  while (i < n && quoted[i] === 0) i++;
  const bare2 = i - b2Start;
  const q2Start = i;
  while (i < n && quoted[i] === 1) i++;
  const quoted2 = i - q2Start;
  if (quoted1 === 0) return i >= n && bare1 < 4 ? 'truncated' : 'not-access-log';
  if (bare2 !== 4 || quoted2 !== 5) {
    return i >= n && bare2 <= 4 && quoted2 < 5 ? 'truncated' : 'not-access-log';
  }
  const tailStart = i;
  const tailCount = n - i;
  if (tailCount === 0) return 'truncated';

  let format: LogFormatId;
  let responseCodeDetails: string | null = null;
  let connectionTerminationDetails: string | null = null;
  let transport: string;
  if (bare1 >= 2) {
    format = 'text-1.9';
    responseCodeDetails = nullable(tokens[2]);
    connectionTerminationDetails = nullable(tokens[3]);
    transport = tokens[q1Start + quoted1 - 1];
  } else if (bare1 === 1) {
    format = 'custom';
    responseCodeDetails = nullable(tokens[2]);
    transport = tokens[q1Start + quoted1 - 1];
  } else if (quoted1 >= 2) {
    format = 'text-1.6';
    transport = tokens[q1Start + 1];
  } else if (tailCount === 5 && looksLikeAddressOrDash(tokens[tailStart + 2]) && looksLikeAddressOrDash(tokens[tailStart + 3])) {
    // One quoted field and no %ROUTE_NAME%: the oldest (1.1-1.2) shape, whose quoted field is the mixer status.
    format = 'text-1.6';
    transport = '-';
  } else {
    format = 'text-1.8';
    transport = tokens[q1Start];
  }

  let upstreamCluster = nullable(tokens[tailStart]);
  if (upstreamCluster !== null && upstreamCluster.charCodeAt(upstreamCluster.length - 1) === 59) {
    // Some 1.23/1.24 patches print `cluster;` (UPSTREAM_CLUSTER_RAW): strip it, it is that era.
    upstreamCluster = upstreamCluster.slice(0, -1) || null;
    format = 'text-1.23';
  } else if (format === 'text-1.9' && upstreamCluster === 'InboundPassthroughCluster') {
    format = 'text-1.23';
  }

  let upstreamLocalAddress: string | null = null;
  let downstreamLocalAddress: string | null = null;
  let downstreamRemoteAddress: string | null = null;
  let requestedServerName: string | null = null;
  let routeName: string | null = null;
  const t = tailStart + 1;
  if (tailCount >= 5) {
    upstreamLocalAddress = nullable(tokens[t]);
    downstreamLocalAddress = nullable(tokens[t + 1]);
    downstreamRemoteAddress = nullable(tokens[t + 2]);
    requestedServerName = nullable(tokens[t + 3]);
    if (tailCount >= 6) routeName = nullable(tokens[t + 4]);
  } else {
    // Fewer tail fields than any era prints: addresses were cut out (the seed's blog lines).
    // Address-shaped tokens fill the address fields in order; the rest are SNI then route.
    let k = t;
    const end = tailStart + tailCount;
    const addresses: (string | null)[] = [];
    while (k < end && addresses.length < 3 && looksLikeAddress(tokens[k])) addresses.push(tokens[k++]);
    upstreamLocalAddress = addresses[0] ?? null;
    downstreamLocalAddress = addresses[1] ?? null;
    downstreamRemoteAddress = addresses[2] ?? null;
    if (k < end) requestedServerName = nullable(tokens[k++]);
    if (k < end) routeName = nullable(tokens[k++]);
  }

  return {
    source: where.source,
    line: where.line,
    pod: where.pod,
    format,
    startTime: nullable(startTime),
    method,
    path,
    protocol,
    responseCode,
    responseFlags: parseFlags(flagsText),
    responseCodeDetails,
    connectionTerminationDetails,
    upstreamTransportFailureReason: nullable(transport),
    bytesReceived: toInt(nullable(tokens[b2Start])),
    bytesSent: toInt(nullable(tokens[b2Start + 1])),
    durationMs: toInt(nullable(tokens[b2Start + 2])),
    upstreamServiceTimeMs: toInt(nullable(tokens[b2Start + 3])),
    xForwardedFor: nullable(tokens[q2Start]),
    userAgent: nullable(tokens[q2Start + 1]),
    requestId: nullable(tokens[q2Start + 2]),
    authority: nullable(tokens[q2Start + 3]),
    upstreamHost: nullable(tokens[q2Start + 4]),
    upstreamCluster,
    upstreamLocalAddress,
    downstreamLocalAddress,
    downstreamRemoteAddress,
    requestedServerName,
    routeName,
    cluster: decodeCluster(upstreamCluster),
    raw: where.raw,
  };
}
