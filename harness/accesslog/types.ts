/** The accesslog contract: one parsed sidecar access log line and what it means. */

export type LogFormatId = 'text-1.6' | 'text-1.8' | 'text-1.9' | 'text-1.23' | 'json' | 'custom';
export type ClusterKind = 'passthrough' | 'inbound-passthrough' | 'blackhole' | 'outbound' | 'inbound' | 'other';

export interface ClusterRef {
  kind: ClusterKind;
  direction: 'outbound' | 'inbound' | null;
  port: number | null;
  subset: string | null;
  service: string | null;
}

export interface AccessLogEntry {
  source: string;
  line: number;
  pod: string | null;
  format: LogFormatId;
  startTime: string | null;
  method: string | null;
  path: string | null;
  protocol: string | null;
  responseCode: number | null;
  responseFlags: string[];
  responseCodeDetails: string | null;
  connectionTerminationDetails: string | null;
  upstreamTransportFailureReason: string | null;
  bytesReceived: number | null;
  bytesSent: number | null;
  durationMs: number | null;
  upstreamServiceTimeMs: number | null;
  xForwardedFor: string | null;
  userAgent: string | null;
  requestId: string | null;
  authority: string | null;
  upstreamHost: string | null;
  upstreamCluster: string | null;
  upstreamLocalAddress: string | null;
  downstreamLocalAddress: string | null;
  downstreamRemoteAddress: string | null;
  requestedServerName: string | null;
  routeName: string | null;
  cluster: ClusterRef;
  /** The original line (prefix included), for evidence; not part of `podpath logs --json`. */
  raw: string;
  /** Custom formats only: operators podpath does not map to a field, by operator text, e.g. `UPSTREAM_REQUEST_ATTEMPT_COUNT`. */
  extra?: Record<string, string | null>;
  /** Set when the entry was rebuilt from this many physical lines (a wrapped or split paste); not in `--json`. */
  joinedLines?: number;
}

/** The entry fields a log line carries (everything but where it came from and the decoded cluster). */
export type EntryFields = Omit<AccessLogEntry, 'source' | 'line' | 'pod' | 'format' | 'cluster' | 'raw' | 'extra' | 'joinedLines'>;

export type FieldName = keyof EntryFields;

export type SkipReason = 'not-access-log' | 'truncated' | 'oversized' | 'wrong-format';

export interface Hops {
  localAddress: string;
  client: AccessLogEntry | null;
  server: AccessLogEntry | null;
  /** where the chain stopped, e.g. 'no client entry', 'no server entry (connection ended in the client sidecar)' */
  stoppedAt: string | null;
}

export interface Diagnosis {
  id: string;
  severity: 'error' | 'warning' | 'info';
  title: string;
  meaning: string;
  /** Up to EVIDENCE_LIMIT entries; `count` says how many matched in all. */
  evidence: AccessLogEntry[];
  fixes: string[];
  inferred: boolean;
  count: number;
}
