/**
 * podpath in-pod agent: the I/O half of probing (servers, sockets, the control API, the command
 * line). It and its import closure need only node:* modules, so they ship to pods in a ConfigMap
 * and run unchanged in the stock Node 24 alpine image as `node workload/agent.ts [flags]`.
 *
 * It answers on TCP (echo + `WHO\n` identity line) and HTTP (identity JSON) like a workload,
 * and on a control port it opens real connections on command and says exactly what happened
 * to them (see docs/agent.md). What both sides agree on (request, result, outcomes and how a
 * socket's behaviour maps to one) is the probe contract in ../probe/contract.ts; host code
 * imports that, never this file.
 */
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dns from 'node:dns';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  boundedIdentity,
  classifyFailure,
  evaluateTcpReply,
  formatAddress,
  LIMITS,
  parseIdentityText,
  parseTarget,
  plainIp,
  ProbeRequestError,
  REPORTED_RESPONSE_HEADERS,
  validateProbeRequest,
  WHO_LINE,
  type AttemptEnd,
  type Identity,
  type ProbeRequest,
  type ProbeResult,
} from '../probe/contract.ts';

export interface AgentOptions {
  bind: string;
  tcpPorts: number[];
  httpPort?: number;
  controlPort: number;
  identity: { pod: string; namespace: string; ip?: string };
  /**
   * Where probes leave from. 'bind': bind the client socket to `bind` first, so on loopback each
   * agent has its own source IP, like a pod. 'kernel': let connect() choose, as in a pod, where it
   * picks the pod IP anyway. Explicit bind() must find a port free of every TIME_WAIT socket on
   * that address, which costs milliseconds per probe after thousands of probes; connect() alone
   * does not. Default: 'bind' for a specific address, 'kernel' for 0.0.0.0 / ::.
   */
  probeSource?: 'bind' | 'kernel';
  /** How long close() lets in-flight probes finish before aborting them (default 1500 ms). */
  shutdownGraceMs?: number;
  /**
   * Let probes target loopback and this agent's own addresses. Only for a bed that lives on
   * loopback (tests: every "pod IP" is 127.x); a real pod never needs it, and without it the
   * control port cannot be used to reach the sidecar's admin port or the agent itself.
   */
  allowLocalTargets?: boolean;
  /** Receives one object per event (probe result, start, stop); the CLI prints them as JSON lines. */
  log?: (entry: Record<string, unknown>) => void;
}

export interface Agent extends AsyncDisposable {
  /** The options with every port 0 replaced by the port actually bound. */
  readonly options: AgentOptions;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Target policy: what this agent refuses to probe (its own safety, not part of the contract)

/**
 * Ports of the sidecar and pilot-agent in every injected pod (istio.io "Ports used by Istio":
 * admin 15000, outbound 15001, debug 15004, inbound 15006, HBONE 15008/15009, merged metrics
 * and pilot-agent status 15020, health 15021, DNS 15053, Envoy metrics 15090), plus the agent's
 * default control port. A probe is never aimed at them: they are the mesh's machinery, not a workload.
 */
export const RESERVED_PORTS: readonly number[] = [15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090, 15999];

/** Who may be probed, fixed when the agent starts; requests cannot change it. */
export interface TargetPolicy {
  allowLocal: boolean;
  /** This pod's own addresses (refused unless allowLocal). */
  ownAddresses: ReadonlySet<string>;
  /** The agent's own control port (refused on every host: no probe-of-probe). */
  controlPort: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function blockList(rules: Array<[string, number, 'ipv4' | 'ipv6']>): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix, family] of rules) list.addSubnet(address, prefix, family);
  return list;
}

// net.BlockList matches IPv4-mapped IPv6 (::ffff:7f00:1, ::ffff:127.0.0.1) against the IPv4 rules.
// 169.254/16 holds cloud metadata endpoints; 0/8 and :: mean "this host" to connect().
const LINK_LOCAL = blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]);
const THIS_HOST = blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]);
const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);

/** Why an address may not be probed under this policy, or null when it may. */
export function forbiddenAddress(ip: string, policy: TargetPolicy): string | null {
  const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
  if (family === null) return `${ip} is not an IP address`;
  if (LINK_LOCAL.check(ip, family)) return `${ip} is link-local`;
  if (THIS_HOST.check(ip, family)) return `${ip} is this host`;
  if (policy.allowLocal) return null;
  if (LOOPBACK.check(ip, family)) return `${ip} is loopback`;
  const own = new net.BlockList();
  for (const address of policy.ownAddresses) own.addAddress(address, net.isIPv4(address) ? 'ipv4' : 'ipv6');
  if (own.check(ip, family)) return `${ip} is this pod's own address`;
  return null;
}

/** Refuses targets the policy forbids (addresses are checked again after name resolution). */
export function checkTarget(target: string, policy: TargetPolicy): void {
  const { host, port } = parseTarget(target);
  if (port === policy.controlPort || RESERVED_PORTS.includes(port)) {
    throw new ProbeRequestError(`target port ${port} is reserved for the sidecar, pilot-agent or the agent's control API: not a probe target`);
  }
  if (net.isIP(host)) {
    const why = forbiddenAddress(host, policy);
    if (why) throw new ProbeRequestError(`target ${target} refused: ${why}`);
  } else if (!policy.allowLocal && /^localhost\.?$|\.localhost\.?$/i.test(host)) {
    throw new ProbeRequestError(`target ${target} refused: ${host} is loopback`);
  }
}

/** dns.lookup that refuses a name resolving to a forbidden address (e.g. a public name for 127.0.0.1). */
export function guardedLookup(policy: TargetPolicy): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const why = forbiddenAddress(a.address, policy);
        if (why) return callback(Object.assign(new Error(`${hostname} resolves to ${a.address}, which is refused: ${why}`), { code: 'EREFUSEDTARGET' }), '', 0);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  }) as net.LookupFunction;
}


/**
 * The socket's own ip:port while connect() is still pending. Node reports it only after
 * 'connect', but a peer that accepts and resets at once fails the connect, and that is exactly
 * the connection whose sidecar log line we need. Uses the handle's getsockname (internal API);
 * returns null when unavailable, and the tests pin the behaviour.
 */
function pendingLocalAddress(socket: net.Socket): string | null {
  const handle = (socket as unknown as { _handle?: { getsockname?: (out: Record<string, unknown>) => number } })._handle;
  const out: Record<string, unknown> = {};
  try {
    if (!handle?.getsockname || handle.getsockname(out) !== 0) return null;
  } catch {
    return null;
  }
  return typeof out.address === 'string' && typeof out.port === 'number' && out.port !== 0 ? formatAddress(out.address, out.port) : null;
}

function errorCode(err: unknown): string | undefined {
  if (!isRecord(err) && !(err instanceof Error)) return undefined;
  const rec = err as { code?: unknown; errors?: unknown };
  if (typeof rec.code === 'string') return rec.code;
  if (Array.isArray(rec.errors)) return errorCode(rec.errors[0]);
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const ms = (value: number): number => Math.round(value * 1000) / 1000;

// ---------------------------------------------------------------------------------------------
// Probes (I/O)

export interface RunProbeOptions {
  signal?: AbortSignal;
  /** Called after each attempt (the agent logs it), before the next one starts. */
  onResult?: (result: ProbeResult) => void;
  /** Source IP to bind the client socket to (see AgentOptions.probeSource for the cost). */
  localBind?: string;
  /** Targets the caller may not reach (the control API always passes one). */
  policy?: TargetPolicy;
}

/** Runs `count` attempts one after another; rejects with the signal's reason when aborted. */
export async function runProbe(request: ProbeRequest, options: RunProbeOptions = {}): Promise<ProbeResult[]> {
  return runValidProbe(validateProbeRequest(request), options);
}

/** runProbe for a request validateProbeRequest already returned (the control API validates once). */
async function runValidProbe(req: ProbeRequest, options: RunProbeOptions): Promise<ProbeResult[]> {
  if (options.policy) checkTarget(req.target, options.policy);
  const { host, port } = parseTarget(req.target);
  const lookup = options.policy ? guardedLookup(options.policy) : undefined;
  const results: ProbeResult[] = [];
  for (let i = 0; i < (req.count ?? 1); i++) {
    options.signal?.throwIfAborted();
    const result = req.protocol === 'tcp'
      ? await tcpAttempt(req, host, port, options.localBind, options.signal, lookup)
      : await httpAttempt(req, host, port, options.localBind, options.signal, lookup);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The probe was aborted', 'AbortError');
}

function tcpAttempt(req: ProbeRequest, host: string, port: number, localBind: string | undefined, signal: AbortSignal | undefined, lookup: net.LookupFunction | undefined): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const sent = Buffer.from(req.payload ?? WHO_LINE);
    const start = performance.now();
    let connected = false;
    let connectMs: number | null = null;
    let firstByteMs: number | null = null;
    let localAddress: string | null = null;
    let remoteAddress: string | null = null;
    let bytesReceived = 0;
    let kept: Buffer = Buffer.alloc(0);
    let settled = false;

    const socket = net.connect({ host, port, noDelay: true, autoSelectFamily: false, ...(localBind ? { localAddress: localBind } : {}), ...(lookup ? { lookup } : {}) });
    // Errors after the verdict (e.g. a late RST) must not crash anything.
    socket.on('error', () => {});
    // connect() is issued right after this event; the kernel has picked the local port by the next tick.
    socket.on('connectionAttempt', () => process.nextTick(() => { localAddress ??= pendingLocalAddress(socket); }));

    const base = (): ProbeResult => ({
      target: req.target,
      protocol: 'tcp',
      outcome: 'error',
      localAddress,
      remoteAddress,
      connectMs,
      firstByteMs,
      totalMs: ms(performance.now() - start),
      bytesSent: socket.bytesWritten ?? 0,
      bytesReceived,
    });
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const succeed = (responder: Identity | undefined): void => {
      if (settled) return;
      const result = base();
      cleanup();
      result.outcome = 'echoed';
      if (responder) result.responder = boundedIdentity(responder);
      // Close politely (FIN) so the sidecar logs a normal close; never linger past 2 s.
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
      resolve(result);
    };
    const fail = (end: AttemptEnd, extra?: string): void => {
      if (settled) return;
      const result = base();
      cleanup();
      socket.destroy();
      const { outcome, error } = classifyFailure({ connected, bytesReceived, end, timeoutMs: req.timeoutMs });
      result.outcome = outcome;
      result.error = extra ?? error;
      resolve(result);
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => fail({ kind: 'timeout' }), req.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.once('connect', () => {
      connected = true;
      connectMs = ms(performance.now() - start);
      // connect() fixed the local address; the pending read already has it (one syscall less).
      localAddress ??= formatAddress(socket.localAddress, socket.localPort);
      remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
      socket.write(sent);
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (firstByteMs === null) firstByteMs = ms(performance.now() - start);
      bytesReceived += chunk.length;
      if (kept.length < LIMITS.maxReplyKeptBytes) kept = kept.length === 0 ? chunk : Buffer.concat([kept, chunk]);
      const verdict = evaluateTcpReply(sent, kept, false);
      if (verdict.state === 'echoed') succeed(verdict.responder);
      else if (verdict.state === 'mismatch') fail({ kind: 'error', code: undefined, message: verdict.error }, verdict.error);
      else if (kept.length >= LIMITS.maxReplyKeptBytes) {
        const error = `reply exceeds ${LIMITS.maxReplyKeptBytes} bytes without completing`;
        fail({ kind: 'error', code: undefined, message: error }, error);
      }
    });
    socket.once('end', () => {
      if (settled) return;
      if (bytesReceived === 0) return fail({ kind: 'fin' });
      const verdict = evaluateTcpReply(sent, kept, true);
      if (verdict.state === 'echoed') succeed(verdict.responder);
      else fail({ kind: 'fin' }, verdict.state === 'mismatch' ? verdict.error : undefined);
    });
    socket.prependListener('error', (err: Error) => fail({ kind: 'error', code: errorCode(err), message: errorMessage(err) }));
    socket.once('close', () => fail({ kind: 'fin' }));
  });
}


function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !REPORTED_RESPONSE_HEADERS.includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function httpAttempt(req: ProbeRequest, host: string, port: number, localBind: string | undefined, signal: AbortSignal | undefined, lookup: net.LookupFunction | undefined): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const start = performance.now();
    let socket: net.Socket | null = null;
    let connected = false;
    let connectMs: number | null = null;
    let firstByteMs: number | null = null;
    let localAddress: string | null = null;
    let remoteAddress: string | null = null;
    let sawFin = false;
    let socketError: Error | null = null;
    let httpStatus: number | undefined;
    let httpHeaders: Record<string, string> | undefined;
    const body: Buffer[] = [];
    let keptBytes = 0;
    let settled = false;

    const payload = req.payload;
    const headers: Record<string, string> = { 'user-agent': 'podpath-agent', connection: 'close' };
    if (req.httpHost) headers.host = req.httpHost;
    if (payload !== undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const request = http.request({
      host,
      port,
      method: payload === undefined ? 'GET' : 'POST',
      path: req.httpPath ?? (payload === undefined ? '/' : '/echo'),
      headers,
      agent: false,
      ...(localBind ? { localAddress: localBind } : {}),
      ...(lookup ? { lookup } : {}),
      // Passed through to net.connect (one address, deterministic errors); not in http's types.
      ...{ autoSelectFamily: false },
    });
    request.on('error', () => {});

    const base = (): ProbeResult => {
      const result: ProbeResult = {
        target: req.target,
        protocol: 'http',
        outcome: 'error',
        localAddress,
        remoteAddress,
        connectMs,
        firstByteMs,
        totalMs: ms(performance.now() - start),
        bytesSent: socket?.bytesWritten ?? 0,
        bytesReceived: socket?.bytesRead ?? 0,
      };
      if (httpStatus !== undefined) result.httpStatus = httpStatus;
      if (httpHeaders !== undefined) result.httpHeaders = httpHeaders;
      return result;
    };
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (fallback: AttemptEnd): void => {
      if (settled) return;
      const result = base();
      cleanup();
      request.destroy();
      // The socket's own event beats the http layer's summary ("socket hang up" is a FIN).
      const end: AttemptEnd =
        fallback.kind === 'timeout' ? fallback
        : socketError ? { kind: 'error', code: errorCode(socketError), message: errorMessage(socketError) }
        : sawFin ? { kind: 'fin' }
        : fallback;
      const { outcome, error } = classifyFailure({ connected, bytesReceived: result.bytesReceived, end, timeoutMs: req.timeoutMs });
      result.outcome = outcome;
      result.error = httpStatus !== undefined && end.kind !== 'timeout' ? `response truncated: ${error}` : error;
      resolve(result);
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      request.destroy();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => fail({ kind: 'timeout' }), req.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    request.on('socket', (s: net.Socket) => {
      socket = s;
      // For an IP target connect() was already issued; for a name, wait for the attempt.
      localAddress ??= pendingLocalAddress(s);
      s.on('connectionAttempt', () => process.nextTick(() => { localAddress ??= pendingLocalAddress(s); }));
      // prepend: the http client reacts to these too, and its reaction must not hide which came first.
      s.prependListener('end', () => { sawFin = true; });
      s.prependListener('error', (err: Error) => { socketError ??= err; });
      s.prependOnceListener('data', () => { firstByteMs ??= ms(performance.now() - start); });
      s.once('connect', () => {
        connected = true;
        connectMs = ms(performance.now() - start);
        localAddress = formatAddress(s.localAddress, s.localPort);
        remoteAddress = formatAddress(s.remoteAddress, s.remotePort);
      });
    });
    request.on('response', (res: http.IncomingMessage) => {
      firstByteMs ??= ms(performance.now() - start);
      httpStatus = res.statusCode;
      httpHeaders = flattenHeaders(res.headers);
      res.on('data', (chunk: Buffer) => {
        if (keptBytes < LIMITS.maxReplyKeptBytes) {
          body.push(chunk);
          keptBytes += chunk.length;
        }
      });
      res.on('error', (err: Error) => fail({ kind: 'error', code: errorCode(err), message: errorMessage(err) }));
      res.on('aborted', () => fail({ kind: 'error', code: 'ECONNRESET', message: 'response aborted' }));
      res.on('end', () => {
        if (settled) return;
        const result = base();
        cleanup();
        result.outcome = 'answered';
        const responder = parseIdentityText(Buffer.concat(body).toString('utf8'));
        if (responder) result.responder = boundedIdentity(responder);
        resolve(result);
      });
    });
    request.prependListener('error', (err: Error) => fail({ kind: 'error', code: errorCode(err), message: errorMessage(err) }));
    request.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// The agent: workload listeners + control API

/** Replies `WHO\n` lines (also `WHO\r\n`, for `nc -C`) at a line start; echoes every other byte at once. */
export class WhoFilter {
  #held = '';
  #lineStart = true;
  readonly #identityLine: () => string;

  constructor(identityLine: () => string) {
    this.#identityLine = identityLine;
  }

  /** Bytes to write back for one received chunk. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (!this.#lineStart) {
        if (byte === 0x0a) this.#lineStart = true;
        continue;
      }
      const candidate = this.#held + String.fromCharCode(byte);
      if (candidate === 'WHO\n' || candidate === 'WHO\r\n') {
        out.push(Buffer.from(this.#identityLine()));
        this.#held = '';
        from = i + 1;
      } else if ('WHO\n'.startsWith(candidate) || 'WHO\r\n'.startsWith(candidate)) {
        if (this.#held === '') out.push(chunk.subarray(from, i));
        this.#held = candidate;
        from = i + 1;
      } else {
        if (this.#held !== '') {
          out.push(Buffer.from(this.#held, 'latin1'));
          this.#held = '';
          from = i;
        }
        this.#lineStart = byte === 0x0a;
      }
    }
    if (this.#held === '') out.push(chunk.subarray(from));
    return Buffer.concat(out);
  }

  /** Whatever is still held when the peer half-closes. */
  flush(): Buffer {
    const rest = Buffer.from(this.#held, 'latin1');
    this.#held = '';
    return rest;
  }
}

const DEFAULT_SHUTDOWN_GRACE_MS = 1500;

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

/** Reads a request body up to `limit` bytes; past it, drains (bounded) and reports `tooLarge`. */
function readBody(req: http.IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      // Draining lets the 400 reach the client instead of a reset; a flood is cut off.
      else if (size > limit * 16) req.destroy();
    });
    req.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: size > limit }));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request body aborted'));
    });
  });
}

/** This pod's addresses: the bind address, POD_IP and every interface address (IPv4 unmapped, IPv6 lower case). */
function ownAddresses(options: AgentOptions): Set<string> {
  const own = new Set<string>();
  const add = (ip: string | undefined): void => {
    if (!ip || !net.isIP(ip)) return;
    own.add(plainIp(ip).toLowerCase());
  };
  add(options.identity.ip);
  if (options.bind !== '0.0.0.0' && options.bind !== '::') add(options.bind);
  for (const list of Object.values(os.networkInterfaces())) for (const entry of list ?? []) add(entry.address.split('%')[0]);
  return own;
}

/** Starts the listeners; resolves once all are bound (rejects, closing what was opened, if one fails). */
export async function startAgent(input: AgentOptions): Promise<Agent> {
  const options: AgentOptions = { ...input, tcpPorts: [...input.tcpPorts], identity: { ...input.identity } };
  const log = options.log ?? (() => {});
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const wildcard = options.bind === '0.0.0.0' || options.bind === '::';
  const probeSource = options.probeSource ?? (wildcard ? 'kernel' : 'bind');
  if (probeSource === 'bind' && wildcard) throw new AgentUsageError(`probeSource 'bind' needs a specific bind address, not ${options.bind}`);
  const identityFor = (protocol: 'tcp' | 'http', port: number, localIp: string | undefined): Identity => ({
    pod: options.identity.pod,
    namespace: options.identity.namespace,
    ip: options.identity.ip ?? (wildcard ? plainIp(localIp ?? options.bind) : options.bind),
    port,
    protocol,
  });

  const servers: net.Server[] = [];
  const tcpSockets = new Set<net.Socket>();
  const shutdown = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  let probing = 0;
  // Filled in once the control port is bound (port 0 = any).
  const policy: { allowLocal: boolean; ownAddresses: Set<string>; controlPort: number } = {
    allowLocal: options.allowLocalTargets === true,
    ownAddresses: ownAddresses(options),
    controlPort: options.controlPort,
  };

  const tcpServer = (port: () => number): net.Server =>
    net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      tcpSockets.add(socket);
      socket.on('close', () => tcpSockets.delete(socket));
      socket.on('error', () => {});
      const filter = new WhoFilter(() => `${JSON.stringify(identityFor('tcp', port(), socket.localAddress))}\n`);
      socket.on('data', (chunk: Buffer) => {
        const out = filter.push(chunk);
        // A peer that sends without reading must not grow our memory: stop reading until it drains.
        if (out.length && !socket.write(out)) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      });
      socket.on('end', () => socket.end(filter.flush()));
    });

  const httpServer = (port: () => number): http.Server =>
    http.createServer((req, res) => {
      req.on('error', () => {});
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return sendJson(res, 200, { ok: true });
      if (path === '/echo' && req.method === 'POST') {
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        const identity: Identity = {
          ...identityFor('http', port(), req.socket.localAddress),
          host: req.headers.host ?? '',
          remote: formatAddress(req.socket.remoteAddress, req.socket.remotePort) ?? '',
          headers,
        };
        return sendJson(res, 200, identity);
      }
      req.resume();
      sendJson(res, 405, { error: `${req.method} ${path} is not served here (GET any path, POST /echo)` });
    });

  const controlServer = http.createServer((req, res) => {
    req.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      req.resume();
      if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, { ok: true });
      return sendJson(res, 405, { error: `${req.method} /healthz: use GET` }, { allow: 'GET, HEAD' });
    }
    if (path !== '/probe') {
      req.resume();
      return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path} (GET /healthz, POST /probe)` });
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendJson(res, 405, { error: `${req.method} /probe: use POST with a JSON probe request` }, { allow: 'POST' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > LIMITS.maxBodyBytes * 16) {
      return sendJson(res, 400, { error: `request body larger than ${LIMITS.maxBodyBytes} bytes` }, { connection: 'close' });
    }
    if (probing >= LIMITS.maxConcurrentProbes) {
      req.resume();
      return sendJson(res, 429, { error: `${LIMITS.maxConcurrentProbes} probes are already running; retry when one has finished` }, { 'retry-after': '1', connection: 'close' });
    }
    probing += 1;
    // The caller went away: stop its probe instead of finishing work nobody will read.
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new DOMException('the control client disconnected', 'AbortError'));
    });
    const work = (async () => {
      let body: { text: string; tooLarge: boolean };
      try {
        body = await readBody(req, LIMITS.maxBodyBytes);
      } catch {
        return; // the client went away; nobody to answer
      }
      if (body.tooLarge) return sendJson(res, 400, { error: `request body larger than ${LIMITS.maxBodyBytes} bytes` });
      let request: ProbeRequest;
      try {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.text);
        } catch (err) {
          throw new ProbeRequestError(`malformed JSON: ${errorMessage(err)}`);
        }
        request = validateProbeRequest(parsed);
      } catch (err) {
        return sendJson(res, 400, { error: errorMessage(err) });
      }
      try {
        checkTarget(request.target, policy);
      } catch (err) {
        return sendJson(res, 400, { error: errorMessage(err) });
      }
      try {
        const results = await runValidProbe(request, {
          signal: AbortSignal.any([shutdown.signal, gone.signal]),
          policy,
          ...(probeSource === 'bind' ? { localBind: options.bind } : {}),
          onResult: (result) => log({ event: 'probe', ...result }),
        });
        sendJson(res, 200, results, shutdown.signal.aborted ? { connection: 'close' } : {});
      } catch (err) {
        if (gone.signal.aborted) return log({ event: 'probe-abandoned', target: request.target });
        if (shutdown.signal.aborted) return sendJson(res, 503, { error: 'agent shutting down: probe aborted' }, { connection: 'close' });
        sendJson(res, 500, { error: `probe failed: ${errorMessage(err)}` });
      }
    })();
    inFlight.add(work);
    void work.finally(() => {
      probing -= 1;
      inFlight.delete(work);
    });
  });

  const bound: AgentOptions = { ...options, probeSource, tcpPorts: [] };
  try {
    for (const requested of options.tcpPorts) {
      let actual = requested;
      const server = tcpServer(() => actual);
      servers.push(server);
      actual = await listen(server, requested, options.bind);
      bound.tcpPorts.push(actual);
    }
    if (options.httpPort !== undefined) {
      let actual = options.httpPort;
      const server = httpServer(() => actual);
      servers.push(server);
      actual = await listen(server, options.httpPort, options.bind);
      bound.httpPort = actual;
    }
    servers.push(controlServer);
    bound.controlPort = await listen(controlServer, options.controlPort, options.bind);
    policy.controlPort = bound.controlPort;
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Stop accepting first; server.close() resolves only once connections are gone, so don't await yet.
      const closed = Promise.all(servers.map(closeServer));
      for (const server of servers) if (server instanceof http.Server) server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        clearTimeout(timer);
        shutdown.abort(new DOMException('agent shutting down', 'AbortError'));
        await Promise.allSettled([...inFlight]);
      } else {
        shutdown.abort(new DOMException('agent shutting down', 'AbortError'));
      }
      for (const socket of tcpSockets) socket.destroy();
      for (const server of servers) if (server instanceof http.Server) server.closeAllConnections();
      await closed;
      log({ event: 'stopped' });
    })();
    return closing;
  };

  const { log: _log, ...printable } = bound;
  log({ event: 'started', ...printable });
  return { options: bound, close, [Symbol.asyncDispose]: close };
}

// ---------------------------------------------------------------------------------------------
// CLI

export const USAGE = `Usage: node agent.ts [options]

podpath in-pod agent: answers as a workload (TCP echo + WHO identity, HTTP identity) and
probes other pods on command through its control API.

Options (each also settable by the environment variable in brackets; flags win):
  --tcp-port N       TCP echo listener, repeatable; none = no TCP listener  [TCP_PORTS=5701,5702]
  --http-port N      HTTP identity listener                                 [HTTP_PORT]
  --control-port N   control API: GET /healthz, POST /probe (default 15999) [CONTROL_PORT]
  --bind ADDR        address every listener binds (default 0.0.0.0)         [BIND_ADDRESS]
  --probe-source S   bind: probes leave from --bind; kernel: connect() picks [PROBE_SOURCE]
                     (default: bind for a specific --bind, kernel for 0.0.0.0)
  --allow-local-targets  let probes reach loopback and this pod's own addresses
                     (a bed on loopback only; never needed in a pod)  [ALLOW_LOCAL_TARGETS=1]
  -h, --help         show this help

Identity: POD_NAME (default: hostname), POD_NAMESPACE (default: "default"), POD_IP (default:
the bind address, or the address a connection arrived on when binding 0.0.0.0).

TCP: every byte is echoed, except a line "WHO\\n", answered with one JSON line
{"pod","namespace","ip","port","protocol":"tcp"}. Try: echo WHO | nc POD_IP 5701
HTTP: GET any path -> identity JSON with host, remote, headers; POST /echo; GET /healthz.
Control: POST /probe {"target":"IP:PORT","protocol":"tcp"|"http","timeoutMs":N,...}
  -> JSON array of results (one per attempt). One JSON line per probe is logged to stdout.
  Refused (400): loopback, link-local and this pod's addresses, Istio's ports (15000-15090) and
  control ports, payloads or paths that are control requests (/probe, /quitquitquit, ...),
  count x timeoutMs over 300 s. Over 32 probes at once: 429. Replies are reported by size.
SIGTERM/SIGINT: stop accepting, let in-flight probes finish (up to 1.5 s), exit 0.
`;

/** A bad flag or environment value; the CLI prints it with a hint and exits 2. */
export class AgentUsageError extends Error {
  override name = 'AgentUsageError';
}

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) < 1 || Number(text) > 65535) {
    throw new AgentUsageError(`${what} must be a port number 1-65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

export type AgentCommand = { help: true } | { help: false; options: AgentOptions };

/** Flags and environment → agent options (pure; throws AgentUsageError). */
export function parseAgentArgs(argv: string[], env: Record<string, string | undefined>, hostname: string): AgentCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'tcp-port': { type: 'string', multiple: true },
        'http-port': { type: 'string' },
        'control-port': { type: 'string' },
        bind: { type: 'string' },
        'probe-source': { type: 'string' },
        'allow-local-targets': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new AgentUsageError(errorMessage(err));
  }
  if (values.help) return { help: true };
  const tcpFromEnv = env.TCP_PORTS?.trim() ? env.TCP_PORTS.split(',').map((p) => parsePort(p.trim(), 'TCP_PORTS entry')) : [];
  const tcpPorts = values['tcp-port'] ? values['tcp-port'].map((p) => parsePort(p, '--tcp-port')) : tcpFromEnv;
  const httpText = values['http-port'] ?? (env.HTTP_PORT?.trim() || undefined);
  const controlText = values['control-port'] ?? (env.CONTROL_PORT?.trim() || undefined);
  const bind = values.bind ?? (env.BIND_ADDRESS?.trim() || '0.0.0.0');
  if (!net.isIP(bind)) throw new AgentUsageError(`--bind must be an IP address, got ${JSON.stringify(bind)}`);
  const options: AgentOptions = {
    bind,
    tcpPorts,
    controlPort: controlText === undefined ? 15999 : parsePort(controlText, values['control-port'] ? '--control-port' : 'CONTROL_PORT'),
    identity: { pod: env.POD_NAME?.trim() || hostname, namespace: env.POD_NAMESPACE?.trim() || 'default' },
  };
  const source = values['probe-source'] ?? (env.PROBE_SOURCE?.trim() || undefined);
  if (source !== undefined) {
    if (source !== 'bind' && source !== 'kernel') throw new AgentUsageError(`--probe-source must be "bind" or "kernel", got ${JSON.stringify(source)}`);
    if (source === 'bind' && (bind === '0.0.0.0' || bind === '::')) throw new AgentUsageError(`--probe-source bind needs a specific --bind address, not ${bind}`);
    options.probeSource = source;
  }
  if (httpText !== undefined) options.httpPort = parsePort(httpText, values['http-port'] ? '--http-port' : 'HTTP_PORT');
  if (values['allow-local-targets'] === true || env.ALLOW_LOCAL_TARGETS?.trim() === '1') options.allowLocalTargets = true;
  const podIp = env.POD_IP?.trim();
  if (podIp) options.identity.ip = podIp;
  const all = [...tcpPorts, ...(options.httpPort ? [options.httpPort] : []), options.controlPort];
  const dup = all.find((p, i) => all.indexOf(p) !== i);
  if (dup !== undefined) throw new AgentUsageError(`port ${dup} is given twice; every listener needs its own port`);
  return { help: false, options };
}

const LOG_FLUSH_MS = 50;
const LOG_FLUSH_ENTRIES = 256;

/**
 * JSON log lines, formatted and written in batches every LOG_FLUSH_MS (or LOG_FLUSH_ENTRIES
 * entries) instead of one synchronous stringify + write per probe in front of the control API's
 * reply. Entries must not be mutated after print (the agent's are not). The CLI calls flush from
 * process 'exit', which every exit path runs and where the write is synchronous (stdout to a file
 * or pipe is, on Linux), so no line is lost at SIGTERM; only SIGKILL can drop the last batch.
 */
export function batchedLines(write: (text: string) => void, flushMs = LOG_FLUSH_MS): { print: (entry: Record<string, unknown>) => void; flush: () => void } {
  let times: number[] = [];
  let entries: Record<string, unknown>[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (entries.length === 0) return;
    let text = '';
    for (let i = 0; i < entries.length; i++) text += `${JSON.stringify({ time: new Date(times[i]).toISOString(), ...entries[i] })}\n`;
    times = [];
    entries = [];
    write(text);
  };
  const print = (entry: Record<string, unknown>): void => {
    times.push(Date.now());
    entries.push(entry);
    if (entries.length >= LOG_FLUSH_ENTRIES) flush();
    else timer ??= setTimeout(flush, flushMs).unref();
  };
  return { print, flush };
}

async function main(): Promise<void> {
  let command: AgentCommand;
  try {
    command = parseAgentArgs(process.argv.slice(2), process.env, os.hostname());
  } catch (err) {
    process.stderr.write(`agent: ${errorMessage(err)}\nRun 'node agent.ts --help' for usage.\n`);
    process.exitCode = 2;
    return;
  }
  if (command.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { print, flush } = batchedLines((text) => process.stdout.write(text));
  process.on('exit', flush);
  let agent: Agent;
  try {
    agent = await startAgent({ ...command.options, log: print });
  } catch (err) {
    process.stderr.write(`agent: cannot listen on ${command.options.bind}: ${errorMessage(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const stop = (signal: string): void => {
    print({ event: 'stopping', signal });
    // Backstop for the 2 s promise even if a socket refuses to die.
    setTimeout(() => process.exit(0), 1900).unref();
    void agent.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/**
 * Whether this module is the script node was started with (`node agent.ts`), not an import. Not
 * `import.meta.main`: it exists only from Node 24.2, and on an older cached image the agent would
 * exit 0 at once. Both sides are resolved through symlinks: a ConfigMap mount is a chain of them,
 * and node loads its entry script by real path.
 */
export function isEntryScript(argv1: string | undefined, moduleUrl: string, realpath: (path: string) => string = realpathSync): boolean {
  if (!argv1 || !moduleUrl.startsWith('file:')) return false;
  try {
    return realpath(argv1) === realpath(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

if (isEntryScript(process.argv[1], import.meta.url)) await main();
