/**
 * The probe contract: what the host asks an in-pod agent (a probe request), what the agent answers
 * (one result per attempt, with an outcome from a fixed list) and how what a socket did becomes
 * that outcome. Pure, and it imports only node:* modules: it ships into pods beside
 * harness/workload/agent.ts (a second ConfigMap key), which imports it as ../probe/contract.ts,
 * and host code imports it instead of the agent.
 */
import net from 'node:net';
import { Buffer } from 'node:buffer';

// ---------------------------------------------------------------------------------------------
// Requests and results

export type ProbeProtocol = 'tcp' | 'http';
export type ProbeOutcome =
  | 'echoed'
  | 'answered'
  | 'closed-after-connect'
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'unreachable'
  | 'error';

export const PROBE_OUTCOMES: readonly ProbeOutcome[] = [
  'echoed',
  'answered',
  'closed-after-connect',
  'refused',
  'reset',
  'timeout',
  'unreachable',
  'error',
];

export interface Identity {
  pod: string;
  namespace: string;
  ip: string;
  port: number;
  protocol: 'tcp' | 'http';
  host?: string;
  remote?: string;
  headers?: Record<string, string>;
}

export interface ProbeRequest {
  target: string;
  protocol: ProbeProtocol;
  timeoutMs: number;
  payload?: string;
  httpPath?: string;
  httpHost?: string;
  count?: number;
}

export interface ProbeResult {
  target: string;
  protocol: ProbeProtocol;
  outcome: ProbeOutcome;
  localAddress: string | null;
  remoteAddress: string | null;
  connectMs: number | null;
  firstByteMs: number | null;
  totalMs: number;
  bytesSent: number;
  bytesReceived: number;
  responder?: Identity;
  httpStatus?: number;
  httpHeaders?: Record<string, string>;
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Limits and request validation

export const LIMITS = {
  maxCount: 100,
  minTimeoutMs: 1,
  maxTimeoutMs: 120_000,
  maxPayloadBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  maxHttpPathLength: 2048,
  /** Reply bytes kept for parsing (an identity line or JSON body); counting continues past it. */
  maxReplyKeptBytes: 64 * 1024,
  /** count × timeoutMs: the longest one control request may hold the agent. */
  maxRequestBudgetMs: 300_000,
  /** Control requests probing at once; beyond it the API answers 429. */
  maxConcurrentProbes: 32,
} as const;

export const WHO_LINE = 'WHO\n';
const WHO_BYTES = Buffer.from(WHO_LINE, 'latin1');

/** A probe request the agent refuses; the control API answers it with 400. */
export class ProbeRequestError extends Error {
  override name = 'ProbeRequestError';
}

const REQUEST_FIELDS = ['target', 'protocol', 'timeoutMs', 'payload', 'httpPath', 'httpHost', 'count'];
// Names the resolver would read as an IPv4 address in inet_aton's shorthand (127.1, 0x7f000001, 2130706433).
const INET_ATON = /^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}\.?$/i;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Splits `IP:PORT`, `host:port` or `[v6]:port`; throws ProbeRequestError when it is not one. */
export function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  if (!m) throw new ProbeRequestError(`bad target ${JSON.stringify(target)}: expected IP:PORT, host:port or [IPv6]:PORT`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (m[1] !== undefined && !net.isIPv6(host)) throw new ProbeRequestError(`bad target ${JSON.stringify(target)}: ${host} is not an IPv6 address`);
  if (m[2] !== undefined && !net.isIPv4(host) && !(HOSTNAME.test(host) && !INET_ATON.test(host))) {
    throw new ProbeRequestError(`bad target ${JSON.stringify(target)}: ${JSON.stringify(host)} is neither an IPv4 address nor a host name`);
  }
  if (port < 1 || port > 65535) throw new ProbeRequestError(`bad target ${JSON.stringify(target)}: port must be 1-65535`);
  return { host, port };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerIn(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProbeRequestError(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

// Control endpoints of the agent (/probe) and of Envoy and pilot-agent (/quitquitquit, /drain_listeners, ...).
const CONTROL_PATH = /^\/+(?:probe|quitquitquit|drain_listeners|healthcheck\/fail|logging|runtime_modify|reset_counters|cpuprofiler|heapprofiler)(?:[/?#]|$)/i;
const CONTROL_REQUEST = /(?:^|\n)[ \t]*[A-Za-z]+[ \t]+(?:[a-z]+:\/\/[^/\s]*)?\/+(?:probe|quitquitquit|drain_listeners|healthcheck\/fail|logging|runtime_modify|reset_counters|cpuprofiler|heapprofiler)(?:[/?#\s]|$)/i;

/** Checks a parsed JSON body and returns a normalised request (count always set); throws ProbeRequestError. */
export function validateProbeRequest(body: unknown): ProbeRequest {
  if (!isRecord(body)) throw new ProbeRequestError('the probe request must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!REQUEST_FIELDS.includes(key)) throw new ProbeRequestError(`unknown field ${JSON.stringify(key)} (expected: ${REQUEST_FIELDS.join(', ')})`);
  }
  const { target, protocol, payload, httpPath, httpHost } = body;
  if (typeof target !== 'string') throw new ProbeRequestError('target is required: a string IP:PORT or host:port');
  parseTarget(target);
  if (protocol !== 'tcp' && protocol !== 'http') throw new ProbeRequestError(`protocol must be "tcp" or "http", got ${JSON.stringify(protocol)}`);
  if (body.timeoutMs === undefined) throw new ProbeRequestError('timeoutMs is required');
  const timeoutMs = integerIn(body, 'timeoutMs', LIMITS.minTimeoutMs, LIMITS.maxTimeoutMs) as number;
  const count = integerIn(body, 'count', 1, LIMITS.maxCount) ?? 1;
  if (count * timeoutMs > LIMITS.maxRequestBudgetMs) {
    throw new ProbeRequestError(`count × timeoutMs must be at most ${LIMITS.maxRequestBudgetMs} ms, got ${count} × ${timeoutMs}`);
  }
  const request: ProbeRequest = { target, protocol, timeoutMs, count };
  if (payload !== undefined) {
    if (typeof payload !== 'string') throw new ProbeRequestError('payload must be a string');
    if (protocol === 'tcp' && payload.length === 0) throw new ProbeRequestError('payload must not be empty for tcp (omit it to send WHO)');
    if (Buffer.byteLength(payload) > LIMITS.maxPayloadBytes) throw new ProbeRequestError(`payload is larger than ${LIMITS.maxPayloadBytes} bytes`);
    if (CONTROL_REQUEST.test(payload)) throw new ProbeRequestError('payload is an HTTP request to a control endpoint (/probe, /quitquitquit, ...): a probe cannot drive another agent or a proxy');
    request.payload = payload;
  }
  if (httpPath !== undefined) {
    if (protocol !== 'http') throw new ProbeRequestError('httpPath is only valid with protocol "http"');
    if (typeof httpPath !== 'string' || !/^\/[\x21-\x7e]*$/.test(httpPath) || httpPath.length > LIMITS.maxHttpPathLength) {
      throw new ProbeRequestError(`httpPath must start with "/" and contain only visible ASCII (max ${LIMITS.maxHttpPathLength}), got ${JSON.stringify(httpPath)}`);
    }
    if (CONTROL_PATH.test(httpPath)) throw new ProbeRequestError(`httpPath ${JSON.stringify(httpPath)} is a control endpoint: a probe cannot drive another agent or a proxy`);
    request.httpPath = httpPath;
  }
  if (httpHost !== undefined) {
    if (protocol !== 'http') throw new ProbeRequestError('httpHost is only valid with protocol "http"');
    if (typeof httpHost !== 'string' || !/^[A-Za-z0-9._\-:[\]]{1,255}$/.test(httpHost)) {
      throw new ProbeRequestError(`httpHost must be a host[:port] of at most 255 characters, got ${JSON.stringify(httpHost)}`);
    }
    request.httpHost = httpHost;
  }
  return request;
}


// ---------------------------------------------------------------------------------------------
// Classification (pure): what the socket did → outcome

/** How an attempt ended when it did not end with a complete reply. */
export type AttemptEnd =
  | { kind: 'fin' }
  | { kind: 'timeout' }
  | { kind: 'error'; code: string | undefined; message: string };

export interface FailureObservation {
  connected: boolean;
  bytesReceived: number;
  end: AttemptEnd;
  timeoutMs: number;
}

const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** Outcome of an attempt that produced no complete reply, from what the socket was seen to do. */
export function classifyFailure(obs: FailureObservation): { outcome: ProbeOutcome; error: string } {
  const { connected, bytesReceived: n, end } = obs;
  if (end.kind === 'timeout') {
    if (!connected) return { outcome: 'timeout', error: `connect timeout: not connected within ${obs.timeoutMs} ms` };
    if (n === 0) return { outcome: 'timeout', error: `first-byte timeout: connected, no byte within ${obs.timeoutMs} ms` };
    return { outcome: 'timeout', error: `reply timeout: ${n} bytes received, reply incomplete within ${obs.timeoutMs} ms` };
  }
  if (end.kind === 'fin') {
    if (!connected) return { outcome: 'error', error: 'connection closed before connect completed' };
    if (n === 0) return { outcome: 'closed-after-connect', error: 'peer closed the connection (FIN) before sending any byte' };
    return { outcome: 'error', error: `peer closed the connection (FIN) after ${n} bytes, reply incomplete` };
  }
  const code = end.code ?? 'UNKNOWN';
  const detail = `${code}: ${end.message}`;
  if (code === 'ECONNREFUSED') return { outcome: 'refused', error: detail };
  if (UNREACHABLE_CODES.has(code)) return { outcome: 'unreachable', error: detail };
  if (code === 'ETIMEDOUT') {
    return { outcome: 'timeout', error: `${connected ? 'kernel retransmission timeout' : 'kernel connect timeout'} (${detail})` };
  }
  if (RESET_CODES.has(code)) {
    if (n > 0) return { outcome: 'reset', error: `peer reset the connection after ${n} bytes (${detail})` };
    // Linux answers a refused SYN with ECONNREFUSED; a reset at connect time means the handshake
    // completed and the peer reset before the connect was reported: accepted, then dropped.
    if (!connected) return { outcome: 'closed-after-connect', error: `peer reset the connection right after the handshake, before connect was reported (${detail})` };
    return { outcome: 'closed-after-connect', error: `peer reset the connection before sending any byte (${detail})` };
  }
  return { outcome: 'error', error: detail };
}

export type ReplyVerdict =
  | { state: 'incomplete' }
  | { state: 'echoed'; responder?: Identity }
  | { state: 'mismatch'; error: string };

/** What a reply was, by size only: reply bytes never travel back through the control API (a banner can hold a password). */
function sizeOf(bytes: Buffer): string {
  return `${bytes.length} ${bytes.length === 1 ? 'byte' : 'bytes'}`;
}

/**
 * Judges the bytes a TCP peer sent back. WHO mode (payload WHO\n): one line that is an
 * identity (responder set) or WHO itself (a plain echo server). Otherwise: the payload intact.
 * `finished` = the peer half-closed, so whatever came is all there is.
 */
export function evaluateTcpReply(sent: Buffer, received: Buffer, finished: boolean): ReplyVerdict {
  if (sent.length === WHO_BYTES.length && sent.equals(WHO_BYTES)) {
    const nl = received.indexOf(0x0a);
    if (nl < 0 && !finished) return { state: 'incomplete' };
    const line = received.subarray(0, nl < 0 ? received.length : nl).toString('utf8').replace(/\r$/, '');
    if (line === 'WHO') return { state: 'echoed' };
    const responder = parseIdentityText(line);
    if (responder) return { state: 'echoed', responder };
    return { state: 'mismatch', error: `unexpected reply to WHO: ${sizeOf(received)}, neither WHO nor an identity line` };
  }
  const common = Math.min(sent.length, received.length);
  if (!received.subarray(0, common).equals(sent.subarray(0, common))) {
    let at = 0;
    while (at < common && received[at] === sent[at]) at++;
    return { state: 'mismatch', error: `echo differs from the payload at byte ${at} (${sizeOf(received)} received)` };
  }
  if (received.length >= sent.length) return { state: 'echoed' };
  if (finished) return { state: 'mismatch', error: `echo incomplete: ${received.length} of ${sent.length} bytes before the peer closed` };
  return { state: 'incomplete' };
}

// Request headers an identity reply may report back: the ones that show the path a request took.
const IDENTITY_HEADERS = ['host', 'user-agent', 'x-forwarded-client-cert', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'x-envoy-attempt-count', 'x-envoy-peer-metadata-id'];
const MAX_IDENTITY_TEXT = 512;

/**
 * The identity a probe result carries back: the fields the verdict needs, each string cut to
 * 512 characters and the headers to the list above, so a target answering in identity shape
 * cannot smuggle its reply through the control API.
 */
export function boundedIdentity(identity: Identity): Identity {
  const cut = (text: string): string => (text.length > MAX_IDENTITY_TEXT ? `${text.slice(0, MAX_IDENTITY_TEXT)}...` : text);
  const out: Identity = { pod: cut(identity.pod), namespace: cut(identity.namespace), ip: cut(identity.ip), port: identity.port, protocol: identity.protocol };
  if (identity.host !== undefined) out.host = cut(identity.host);
  if (identity.remote !== undefined) out.remote = cut(identity.remote);
  if (identity.headers) {
    const headers: Record<string, string> = {};
    for (const name of IDENTITY_HEADERS) if (identity.headers[name] !== undefined) headers[name] = cut(identity.headers[name]);
    out.headers = headers;
  }
  return out;
}

/** An Identity if `value` has the identity shape, else null. */
export function toIdentity(value: unknown): Identity | null {
  if (!isRecord(value)) return null;
  const { pod, namespace, ip, port, protocol, host, remote, headers } = value;
  if (typeof pod !== 'string' || typeof namespace !== 'string' || typeof ip !== 'string') return null;
  if (typeof port !== 'number' || !Number.isInteger(port)) return null;
  if (protocol !== 'tcp' && protocol !== 'http') return null;
  const identity: Identity = { pod, namespace, ip, port, protocol };
  if (typeof host === 'string') identity.host = host;
  if (typeof remote === 'string') identity.remote = remote;
  if (isRecord(headers) && Object.values(headers).every((v) => typeof v === 'string')) identity.headers = headers as Record<string, string>;
  return identity;
}

export function parseIdentityText(text: string): Identity | null {
  try {
    return toIdentity(JSON.parse(text));
  } catch {
    return null;
  }
}

/** An IPv4 address seen through a dual-stack (`::`) socket as `::ffff:a.b.c.d`, back to `a.b.c.d`. */
export function plainIp(ip: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip;
}

/** `ip:port`, with brackets for IPv6 as Envoy prints it. */
export function formatAddress(ip: string | undefined, port: number | undefined): string | null {
  if (!ip || port === undefined) return null;
  const plain = plainIp(ip);
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/**
 * Response headers that say which path a request took (Envoy's, the content type, the request
 * id); cookies, auth challenges and anything else the target sends stay in the pod.
 */
export const REPORTED_RESPONSE_HEADERS: readonly string[] = ['content-type', 'content-length', 'server', 'x-envoy-upstream-service-time', 'x-envoy-decorator-operation', 'x-envoy-overloaded', 'x-request-id'];
