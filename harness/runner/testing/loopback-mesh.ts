/**
 * TEST DOUBLE of a podpath bed (test code only; never shipped as a mode): each pod is a loopback
 * "pod IP" in 127.0.2X.0/24 running the REAL agent (harness/workload/agent.ts), plus a stand-in
 * sidecar written with node:net that forwards or closes connections and writes Istio >= 1.9 TEXT
 * access log lines into per-pod buffers, and serves fake config dumps good enough for explain.
 *
 * How a probe travels: Envoy gets the original destination from iptables (SO_ORIGINAL_DST); on
 * loopback there is no iptables, so probe() asks the client pod's stand-in for a capture port
 * dedicated to that original destination (one per destination, like a REDIRECT rule) and rewrites
 * the probe's target to it. The agent's socket is real; its local address is what the client
 * entry logs as downstream_remote_address. The stand-in's upstream socket, bound to the client
 * pod IP, is what the server entry logs as downstream_remote_address: the same linkage as Istio.
 *
 * Routing: where the istiod oracle has a golden dump for the double's Istio minor, bed state
 * (applied extras + istiod env) and client workload, the stand-in goes where `explain` on that dump
 * says (golden-routes.ts): what istiod really generates. Elsewhere (a minor or state without a
 * golden) it falls back to a tiny table derived from the applied extras, the same rules the seed
 * scenarios state (not a model of Istio to trust). The baseline has only ClusterIP Services, so no
 * listener owns a pod IP:
 * - 5701 with a visible ExternalName/ServiceEntry on 5701 (catch-all 0.0.0.0_5701): a STRICT_DNS
 *   cluster whose target does not listen → close after connect, `UF,URX`, no server entry
 * - 8080 to a manager pod IP with the manager-headless extra applied and a per-pod Host
 *   (`manager-1.manager-headless…`): the headless Service's cluster (ORIGINAL_DST to the dialled
 *   pod), "with mTLS": it enters through a second server stand-in that STRICT accepts (the double
 *   speaks no real TLS); with the pod IP as Host it stays on PassthroughCluster
 * - anything else: PassthroughCluster, plaintext
 * - strict-mtls applied: the plaintext server stand-in rejects (`NR filter_chain_not_found`).
 * Like Envoy, the client stand-in adds an x-request-id to an HTTP request that has none, and both
 * stand-ins log it (request_id), so HTTP entries correlate by it as on a real bed.
 */
import net from 'node:net';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
// The real agent runs in-process here, as test support that plays the pods (an allowed importer of agent.ts).
import { startAgent, type Agent } from '../../workload/agent.ts';
import type { ProbeRequest, ProbeResult } from '../../probe/index.ts';
import { externalNameCreatesListener } from '../../lint/index.ts';
import { goldenRoute } from './golden-routes.ts';
import { APP_EXT, DISTINCT_TCP_PORT, FQDN, HTTP_PORT, SERVICE_ENTRY_HOST, TCP_PORT } from '../../../manifests/topology.ts';
import type { ConfigPredicate, MeshBed, PodInfo } from '../mesh-bed.ts';
import type { TargetInfo, WorkloadName } from '../scenario.ts';
import { bedFeatures } from '../bed-features.ts';

export interface Interference {
  /** Per new client-side connection: 'close' drops it after connect (no upstream), 'hang' holds it open. */
  (connection: { client: PodInfo; dst: string; index: number }): 'close' | 'hang' | undefined;
}

export interface LoopbackMeshOptions {
  /** Third octet of the pod IPs: 20–29 (each test file its own, so parallel test files never collide). */
  block: number;
  istio: string;
  pilotEnv?: Record<string, string>;
  /** The env the stand-in istiod really runs with, when it differs from `pilotEnv` (what the bed was asked for): routing and the reported features follow it. */
  istiodEnv?: Record<string, string>;
  /** The bed cannot tell its features (an unreadable istiod): target.features is null. */
  featuresUnreadable?: boolean;
  /** meshConfig.connectTimeout the bed reports (default 1s); null: a bed installed without one. */
  connectTimeout?: string | null;
  /** Delay before applied extras show up in routing and config dumps (exercises convergence). */
  propagationMs?: number;
  /** Delay before a finished connection's log line is readable (exercises log polling). */
  logDelayMs?: number;
  interfere?: Interference;
}

interface PodRuntime {
  info: PodInfo;
  agent: Agent;
  /** logical port → real port of the inbound stand-in on the pod IP (plaintext). */
  inbound: Map<number, number>;
  /** logical port → real port of the inbound stand-in for connections the client sidecar wrapped in mTLS. */
  inboundMtls: Map<number, number>;
  captures: Map<string, net.Server>;
  log: Array<{ at: number; line: string }>;
  /** Open upstream connections per `CLUSTER::HOST`, for the admin /clusters view. */
  upstreams: Map<string, number>;
}

interface MeshState {
  appExtPorts: number[] | null;
  appExtExportDot: boolean;
  sidecarEgressManager: boolean;
  serviceEntry5701: boolean;
  strict: boolean;
  virtualService: boolean;
  headless: boolean;
}

const EMPTY: MeshState = { appExtPorts: null, appExtExportDot: false, sidecarEgressManager: false, serviceEntry5701: false, strict: false, virtualService: false, headless: false };

const LAYOUT: Array<{ name: string; workload: WorkloadName; host: number; tcp: boolean }> = [
  { name: 'manager-7948dffbdd-p44xx', workload: 'manager', host: 11, tcp: true },
  { name: 'manager-7948dffbdd-sh7rx', workload: 'manager', host: 12, tcp: true },
  { name: 'app-5d8f7c9b4-q2w3e', workload: 'app', host: 21, tcp: true },
  { name: 'idle-6c9d8e7f5-z9x8c', workload: 'idle', host: 31, tcp: false },
];

/** What applying an extra does to the double's routing table (after the seed's manifests/extras). */
function applyExtra(state: MeshState, extra: string, on: boolean): MeshState {
  const s = { ...state };
  switch (extra) {
    case 'app-ext-externalname':
      s.appExtPorts = on ? [HTTP_PORT, TCP_PORT] : null;
      if (!on) s.appExtExportDot = false;
      break;
    case 'fix-drop-port':
      s.appExtPorts = on ? [HTTP_PORT] : null;
      break;
    case 'fix-distinct-ports':
      s.appExtPorts = on ? [HTTP_PORT, DISTINCT_TCP_PORT] : null;
      break;
    case 'fix-exportto-dot':
      s.appExtPorts = on ? [HTTP_PORT, TCP_PORT] : null;
      s.appExtExportDot = on;
      break;
    case 'fix-sidecar-egress':
      s.sidecarEgressManager = on;
      break;
    case 'fix-virtualservice':
      s.virtualService = on;
      break;
    case 'serviceentry-dns-5701':
      s.serviceEntry5701 = on;
      break;
    case 'strict-mtls':
      s.strict = on;
      break;
    case 'permissive-mtls':
      if (on) s.strict = false;
      break;
    case 'manager-headless':
      s.headless = on;
      break;
    default:
      throw new Error(`the loopback double does not know extra '${extra}'`);
  }
  return s;
}

function stamp(): string {
  return new Date().toISOString();
}

function addr(ip: string | undefined, port: number | undefined): string {
  return ip && port !== undefined ? `${ip.replace(/^::ffff:/, '')}:${port}` : '-';
}

interface Route {
  cluster: string;
  /** null: nothing listens there (the STRICT_DNS target): the connect is refused. */
  upstream: { ip: string; port: number } | null;
  upstreamHost: string;
}

export class LoopbackMesh implements MeshBed, AsyncDisposable {
  readonly name = 'test-double';
  readonly target: TargetInfo;
  readonly kubernetes = null;
  /** Not a kind cluster: no kind release and no node image to report. */
  readonly kind = null;
  readonly nodeImage = null;
  /** The double starts like podpath's baseline: no PeerAuthentication, Istio's default. */
  readonly mtls = { mode: 'PERMISSIVE', policy: null } as const;
  readonly meshConfig: MeshBed['meshConfig'];
  readonly plan = null;
  readonly applied: string[] = [];
  /** Every connection the client stand-ins accepted, for tests. */
  readonly connections: Array<{ client: string; dst: string; cluster: string }> = [];
  /** Golden dumps (oracle/goldens/...) the stand-ins routed by; empty when only the fallback table was used. */
  readonly routedBy = new Set<string>();
  private readonly options: LoopbackMeshOptions;
  private readonly istiodEnv: Record<string, string>;
  private readonly runtimes: PodRuntime[] = [];
  private state: MeshState = { ...EMPTY };
  private desired: MeshState = { ...EMPTY };
  /** The extras `state` reflects, in apply order (the bed state a golden dump is named by). */
  private stateApplied: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<net.Socket>();
  private connectionIndex = 0;
  /** Bumped whenever the routing state changes, like the version of an xDS push. */
  private version = 1;

  private constructor(options: LoopbackMeshOptions) {
    if (!Number.isInteger(options.block) || options.block < 20 || options.block > 29) throw new Error(`block ${options.block} is outside 127.0.20–29`);
    this.options = options;
    this.istiodEnv = { ...(options.istiodEnv ?? options.pilotEnv ?? {}) };
    this.meshConfig = { connectTimeout: options.connectTimeout === undefined ? '1s' : options.connectTimeout, accessLogEncoding: 'TEXT' };
    // The double reports the settings it was set up with, as openLiveBed reads them from istiod.
    const features = options.featuresUnreadable ? null : bedFeatures(options.istio, { env: this.istiodEnv, mesh: this.meshConfig.connectTimeout ? { connectTimeout: this.meshConfig.connectTimeout } : {} });
    this.target = { istio: options.istio, pilotEnv: { ...(options.pilotEnv ?? {}) }, features };
  }

  static async start(options: LoopbackMeshOptions): Promise<LoopbackMesh> {
    const mesh = new LoopbackMesh(options);
    try {
      for (const p of LAYOUT) await mesh.startPod(p);
    } catch (error) {
      await mesh.close();
      throw error;
    }
    return mesh;
  }

  private ip(host: number): string {
    return `127.0.${this.options.block}.${host}`;
  }

  private async startPod(p: (typeof LAYOUT)[number]): Promise<void> {
    const ip = this.ip(p.host);
    const agent = await startAgent({ bind: ip, tcpPorts: p.tcp ? [0] : [], httpPort: 0, controlPort: 0, identity: { pod: p.name, namespace: p.workload, ip }, shutdownGraceMs: 50, allowLocalTargets: true });
    const pod: PodRuntime = { info: { name: p.name, namespace: p.workload, ip, workload: p.workload }, agent, inbound: new Map(), inboundMtls: new Map(), captures: new Map(), log: [], upstreams: new Map() };
    this.runtimes.push(pod);
    const ports: Array<[number, number]> = [];
    if (p.tcp) ports.push([TCP_PORT, agent.options.tcpPorts[0]]);
    ports.push([HTTP_PORT, agent.options.httpPort!]);
    for (const [logical, real] of ports) {
      for (const mtls of [false, true]) {
        const server = net.createServer({ allowHalfOpen: true }, (socket) => this.inboundConnection(pod, logical, real, socket, mtls));
        (mtls ? pod.inboundMtls : pod.inbound).set(logical, await this.listen(server, ip));
        pod.captures.set(`inbound:${logical}${mtls ? ':mtls' : ''}`, server);
      }
    }
  }

  private listen(server: net.Server, ip: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, ip, () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
  }

  private writeLog(pod: PodRuntime, line: string): void {
    const delay = this.options.logDelayMs ?? 0;
    const write = () => {
      pod.log.push({ at: Date.now(), line });
    };
    if (delay <= 0) {
      write();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      write();
    }, delay);
    this.timers.add(t);
  }

  private modernInbound(): boolean {
    const [maj, min] = this.target.istio.split('.').map(Number);
    return maj > 1 || min >= 8;
  }

  private inboundCluster(pod: PodRuntime, port: number): string {
    if (this.modernInbound()) return `inbound|${port}||`;
    return `inbound|${port}|${port === TCP_PORT ? 'tcp-hazelcast' : 'http'}|${pod.info.workload}.${pod.info.namespace}.svc.cluster.local`;
  }

  /** The server stand-in: rejects plaintext under STRICT, else forwards to the agent and logs inbound. */
  private inboundConnection(pod: PodRuntime, port: number, agentPort: number, downstream: net.Socket, mtls: boolean): void {
    this.track(downstream);
    const started = Date.now();
    const local = `${pod.info.ip}:${port}`;
    const remote = addr(downstream.remoteAddress, downstream.remotePort);
    if (this.state.strict && !mtls) {
      this.writeLog(pod, `[${stamp()}] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - ${local} ${remote} - -`);
      downstream.destroy();
      return;
    }
    const upstream = net.connect({ host: pod.info.ip, port: agentPort, localAddress: pod.info.ip, allowHalfOpen: true });
    this.track(upstream);
    let upstreamLocal = '-';
    const http = port === HTTP_PORT ? new HttpSniffer() : null;
    upstream.on('connect', () => {
      upstreamLocal = addr(upstream.localAddress, upstream.localPort);
    });
    downstream.on('data', (c: Buffer) => http?.request(c));
    upstream.on('data', (c: Buffer) => http?.response(c));
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    let logged = false;
    const finish = () => {
      if (logged) return;
      logged = true;
      const cluster = this.inboundCluster(pod, port);
      const dur = Date.now() - started;
      const rx = downstream.bytesRead;
      const tx = downstream.bytesWritten;
      const upHost = `${pod.info.ip}:${agentPort}`;
      // Istio's SNI for mTLS to a service cluster: outbound_.PORT_._.FQDN.
      const sni = mtls ? `outbound_.${port}_._.${FQDN.managerHeadless}` : '-';
      this.writeLog(pod, http
        ? `[${stamp()}] "${http.requestLine()}" ${http.status ?? 0} - via_upstream - "-" ${rx} ${tx} ${dur} - "-" "${http.header('user-agent')}" "${http.header('x-request-id')}" "${http.header('host')}" "${upHost}" ${cluster} ${upstreamLocal} ${local} ${remote} ${sni} default`
        : `[${stamp()}] "- - -" 0 - - - "-" ${rx} ${tx} ${dur} - "-" "-" "-" "-" "${upHost}" ${cluster} ${upstreamLocal} ${local} ${remote} - -`);
    };
    downstream.on('close', finish);
    upstream.on('close', () => {
      downstream.end();
    });
  }

  private isManager(ip: string): boolean {
    return this.runtimes.some((p) => p.info.workload === 'manager' && p.info.ip === ip);
  }

  private catchAll(client: PodRuntime, port: number): string | null {
    const s = this.state;
    const egressLimited = s.sidecarEgressManager && client.info.namespace === 'manager';
    if (s.appExtPorts?.includes(port) && port !== HTTP_PORT && !egressLimited && (!s.appExtExportDot || client.info.namespace === APP_EXT.namespace)) {
      if (externalNameCreatesListener(this.target.istio, this.istiodEnv) === true) return `outbound|${port}||${APP_EXT.name}.${APP_EXT.namespace}.svc.cluster.local`;
    }
    if (s.serviceEntry5701 && port === TCP_PORT && !egressLimited) return `outbound|${TCP_PORT}||${SERVICE_ENTRY_HOST}`;
    return null;
  }

  /** The route explain on the oracle's golden dump gives, or null when no golden covers this state. */
  private goldenRoute(client: PodRuntime, dstIp: string, port: number, host: string | undefined): Route | null {
    const server = this.runtimes.find((p) => p.info.ip === dstIp);
    if (!server) return null;
    const replica = (p: PodRuntime) => this.runtimes.filter((r) => r.info.workload === p.info.workload).indexOf(p);
    const decision = goldenRoute({
      istio: this.target.istio, pilotEnv: this.istiodEnv, applied: this.stateApplied,
      client: client.info.workload, target: { workload: server.info.workload, replica: replica(server) }, port,
      protocol: port === HTTP_PORT ? 'http' : 'tcp', host,
    });
    if (!decision) return null;
    this.routedBy.add(decision.source);
    const e = decision.explanation;
    const cluster = e.cluster?.name ?? 'BlackHoleCluster';
    const to = decision.upstream ? this.runtimes.filter((r) => r.info.workload === decision.upstream!.workload)[decision.upstream.replica] : undefined;
    if (e.verdict === 'passthrough') {
      const direct = server.inbound.get(port);
      return { cluster, upstream: direct !== undefined ? { ip: dstIp, port: direct } : null, upstreamHost: `${dstIp}:${port}` };
    }
    // A service cluster inside the mesh: Istio's auto mTLS wraps it, so it enters the server's mTLS stand-in.
    const mtlsPort = to?.inboundMtls.get(port);
    if (to && mtlsPort !== undefined) return { cluster, upstream: { ip: to.info.ip, port: mtlsPort }, upstreamHost: `${to.info.ip}:${port}` };
    // Out of the bed (STRICT_DNS to a name whose target does not bind the port) or blackholed: accept, then close.
    return { cluster, upstream: null, upstreamHost: `${this.ip(LAYOUT[3].host)}:${port}` };
  }

  private route(client: PodRuntime, dstIp: string, port: number, host?: string): Route {
    const fromGolden = this.goldenRoute(client, dstIp, port, host);
    if (fromGolden) return fromGolden;
    const server = this.runtimes.find((p) => p.info.ip === dstIp);
    const direct = server?.inbound.get(port);
    const passthroughTo = direct !== undefined ? { ip: dstIp, port: direct } : null;
    const mtlsPort = server?.inboundMtls.get(port);
    // Only a per-pod name matches the headless vhost (`*.<service>` domains); a pod-IP Host falls to allow_any.
    const perPodName = host !== undefined && host.replace(/:\d+$/, '').endsWith(`.${FQDN.managerHeadless}`);
    if (port === HTTP_PORT && this.state.headless && perPodName && this.isManager(dstIp) && dstIp !== client.info.ip && mtlsPort !== undefined) {
      return { cluster: `outbound|${HTTP_PORT}||${FQDN.managerHeadless}`, upstream: { ip: dstIp, port: mtlsPort }, upstreamHost: `${dstIp}:${port}` };
    }
    const captured = port === HTTP_PORT ? null : this.catchAll(client, port);
    if (captured) return { cluster: captured, upstream: null, upstreamHost: `${this.ip(LAYOUT[3].host)}:${port}` };
    return { cluster: 'PassthroughCluster', upstream: passthroughTo, upstreamHost: `${dstIp}:${port}` };
  }

  /** The client stand-in for connections to `dst` from `client`'s app: one capture port per destination. */
  private async capturePort(client: PodRuntime, dst: string): Promise<number> {
    const key = `out:${dst}`;
    const existing = client.captures.get(key);
    // Two probes to one destination at once: the second waits until the first one's capture listens.
    if (existing) return existing.listening ? (existing.address() as net.AddressInfo).port : await new Promise<number>((resolve) => existing.once('listening', () => resolve((existing.address() as net.AddressInfo).port)));
    const [dstIp, dstPortText] = [dst.slice(0, dst.lastIndexOf(':')), dst.slice(dst.lastIndexOf(':') + 1)];
    const dstPort = Number(dstPortText);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.outboundConnection(client, dst, dstIp, dstPort, socket));
    client.captures.set(key, server);
    return await this.listen(server, client.info.ip);
  }

  /** HTTP is routed by its Host header, like Envoy's HTTP route: read the request head first, then route. */
  private outboundConnection(client: PodRuntime, dst: string, dstIp: string, dstPort: number, downstream: net.Socket): void {
    this.track(downstream);
    const started = Date.now();
    if (dstPort !== HTTP_PORT) {
      this.routeConnection(client, dst, dstIp, dstPort, downstream, started, undefined);
      return;
    }
    let head = '';
    let routed = false;
    const go = (host: string | undefined) => {
      if (routed) return;
      routed = true;
      downstream.off('data', onData);
      downstream.off('end', onEnd);
      downstream.pause();
      if (head) downstream.unshift(Buffer.from(head, 'latin1'));
      // The pod IP as dialled is what the stand-in's Host carries when the probe set none.
      this.routeConnection(client, dst, dstIp, dstPort, downstream, started, host === dst ? undefined : host);
      downstream.resume();
    };
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n') || head.length > 16_384) go(/\r\nhost:[ \t]*([^\r\n]+)/i.exec(head)?.[1].trim());
    };
    const onEnd = () => go(undefined);
    downstream.on('data', onData);
    downstream.on('end', onEnd);
  }

  private routeConnection(client: PodRuntime, dst: string, dstIp: string, dstPort: number, downstream: net.Socket, started: number, host: string | undefined): void {
    const remote = addr(downstream.remoteAddress, downstream.remotePort);
    const route = this.route(client, dstIp, dstPort, host);
    const index = this.connectionIndex++;
    this.connections.push({ client: client.info.name, dst, cluster: route.cluster });
    const http = dstPort === HTTP_PORT ? new HttpSniffer() : null;
    const requestId = new RequestIdStamp(http !== null);
    const interference = this.options.interfere?.({ client: client.info, dst, index });
    const log = (flags: string, details: string, upstreamLocal: string, code?: number) => {
      const dur = Date.now() - started;
      const rx = downstream.bytesRead;
      const tx = downstream.bytesWritten;
      this.writeLog(client, http && http.method
        ? `[${stamp()}] "${http.requestLine()}" ${code ?? http.status ?? 0} ${flags} ${details} - "-" ${rx} ${tx} ${dur} - "-" "${http.header('user-agent')}" "${requestId.value ?? '-'}" "${http.header('host')}" "${route.upstreamHost}" ${route.cluster} ${upstreamLocal} ${dst} ${remote} - ${route.cluster === 'PassthroughCluster' ? 'allow_any' : 'default'}`
        : `[${stamp()}] "- - -" 0 ${flags} ${details} - "-" ${rx} ${tx} ${dur} - "-" "-" "-" "-" "${route.upstreamHost}" ${route.cluster} ${upstreamLocal} ${dst} ${remote} - -`);
    };
    if (interference === 'hang') return;
    if (interference === 'close' || route.upstream === null) {
      // The STRICT_DNS target refuses (or the test says so): accept, fail upstream, close.
      downstream.on('data', (c: Buffer) => {
        http?.request(c);
        requestId.forward(c);
      });
      setImmediate(() => {
        log('UF,URX', '-', '-');
        downstream.destroy();
      });
      return;
    }
    const pending: Buffer[] = [];
    let upstreamLocal = '-';
    let responded = false;
    downstream.on('data', (c: Buffer) => {
      http?.request(c);
      if (upstreamLocal !== '-') return;
      const forwarded = requestId.forward(c);
      if (forwarded) pending.push(forwarded);
    });
    const hostKey = `${route.cluster}::${route.upstreamHost}`;
    const upstream = net.connect({ host: route.upstream.ip, port: route.upstream.port, localAddress: client.info.ip, allowHalfOpen: true }, () => {
      upstreamLocal = addr(upstream.localAddress, upstream.localPort);
      client.upstreams.set(hostKey, (client.upstreams.get(hostKey) ?? 0) + 1);
      upstream.once('close', () => {
        const left = (client.upstreams.get(hostKey) ?? 1) - 1;
        if (left > 0) client.upstreams.set(hostKey, left);
        else client.upstreams.delete(hostKey);
      });
      for (const c of pending.splice(0)) upstream.write(c);
      downstream.on('data', (c: Buffer) => {
        const forwarded = requestId.forward(c);
        if (forwarded) upstream.write(forwarded);
      });
      downstream.on('end', () => upstream.end());
    });
    this.track(upstream);
    upstream.on('data', (c: Buffer) => {
      responded = true;
      http?.response(c);
      downstream.write(c);
    });
    let logged = false;
    const upstreamGone = () => {
      if (http && !responded && upstreamLocal !== '-' && !logged) {
        // The server side closed before any response: Envoy answers 503 itself.
        logged = true;
        const body = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
        downstream.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`);
        log('UC', 'upstream_reset_before_response_started{connection_termination}', upstreamLocal, 503);
        return;
      }
      if (!downstream.writableEnded) downstream.end();
    };
    upstream.on('end', upstreamGone);
    upstream.on('close', upstreamGone);
    upstream.on('error', () => {
      if (upstreamLocal === '-' && !logged) {
        logged = true;
        log('UF,URX', '-', '-');
        downstream.destroy();
      }
    });
    downstream.on('close', () => {
      if (logged) return;
      logged = true;
      log('-', http ? 'via_upstream' : '-', upstreamLocal);
      upstream.destroy();
    });
  }

  // ---- MeshBed

  async pods(workload: WorkloadName): Promise<PodInfo[]> {
    return this.runtimes.filter((p) => p.info.workload === workload).map((p) => ({ ...p.info }));
  }

  private setDesired(next: MeshState, applied: string[]): void {
    this.desired = next;
    const delay = this.options.propagationMs ?? 0;
    if (delay <= 0) {
      this.state = next;
      this.stateApplied = applied;
      this.version++;
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.state = next;
      this.stateApplied = applied;
      this.version++;
    }, delay);
    this.timers.add(t);
  }

  async apply(extra: string): Promise<void> {
    this.applied.push(extra);
    this.setDesired(applyExtra(this.desired, extra, true), [...this.applied]);
  }

  async remove(extra: string): Promise<void> {
    const i = this.applied.lastIndexOf(extra);
    if (i >= 0) this.applied.splice(i, 1);
    this.setDesired(applyExtra(this.desired, extra, false), [...this.applied]);
  }

  private runtime(pod: PodInfo): PodRuntime {
    const found = this.runtimes.find((p) => p.info.name === pod.name);
    if (!found) throw new Error(`no pod ${pod.name} in the loopback double`);
    return found;
  }

  async probe(from: PodInfo, request: ProbeRequest, options: { signal?: AbortSignal } = {}): Promise<ProbeResult[]> {
    const client = this.runtime(from);
    const port = await this.capturePort(client, request.target);
    const rewritten: ProbeRequest = { ...request, target: `${client.info.ip}:${port}` };
    if (request.protocol === 'http' && !request.httpHost) rewritten.httpHost = request.target;
    const body = JSON.stringify(rewritten);
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: client.info.ip, port: client.agent.options.controlPort, method: 'POST', path: '/probe', headers: { 'content-type': 'application/json' }, agent: false, signal: options.signal }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`agent answered ${res.statusCode}: ${data}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    const results = JSON.parse(text) as ProbeResult[];
    return results.map((r) => ({ ...r, target: request.target, remoteAddress: r.remoteAddress ? request.target : null }));
  }

  async sidecarLog(pod: PodInfo, since: Date): Promise<string> {
    return this.logLines(pod.name).filter((l) => l.at >= since.getTime()).map((l) => `${l.line}\n`).join('');
  }

  /** The pod's sidecar log as written so far (synchronous, for fakes that serve it elsewhere). */
  logLines(podName: string): Array<{ at: number; line: string }> {
    return [...this.runtime({ name: podName } as PodInfo).log];
  }

  async configDump(pod: PodInfo): Promise<unknown> {
    return this.dumpOf(pod.name);
  }

  /** Admin /clusters lines for the hosts the stand-in has open upstream connections to (it pools nothing). */
  async sidecarClusters(pod: PodInfo): Promise<string> {
    const lines = ['PassthroughCluster::observability_name::PassthroughCluster', 'PassthroughCluster::default_priority::max_connections::4294967295'];
    for (const [key, open] of this.runtime(pod).upstreams) lines.push(`${key}::cx_active::${open}`);
    return `${lines.join('\n')}\n`;
  }

  /** The pod's config dump now (synchronous, for fakes that serve it elsewhere). */
  dumpOf(podName: string): unknown {
    const pod = this.runtime({ name: podName } as PodInfo);
    return fakeConfigDump((port) => this.catchAll(pod, port), this.state.strict, this.state.headless, `2026-11-20T10:00:00Z/${this.version}`);
  }

  async waitForConfig(pod: PodInfo, predicate: ConfigPredicate, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let state = 'no dump read yet';
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      const r = predicate(await this.configDump(pod));
      if (r.ok) return;
      state = r.state;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`config of ${pod.namespace}/${pod.name} did not converge: ${state}`);
  }

  async events(pod: PodInfo): Promise<string[]> {
    return [`Normal  Started  pod/${pod.name}  Started container agent (loopback double)`];
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.runtimes.flatMap((p) => [...p.captures.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));
    await Promise.all(this.runtimes.map((p) => p.agent.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Holds an HTTP request's head until it is complete, then adds `x-request-id` if it has none (as Envoy does). */
class RequestIdStamp {
  value: string | null = null;
  private head: Buffer | null;

  constructor(http: boolean) {
    this.head = http ? Buffer.alloc(0) : null;
  }

  /** The bytes to forward now (null: still waiting for the end of the head). */
  forward(chunk: Buffer): Buffer | null {
    if (this.head === null) return chunk;
    const head = Buffer.concat([this.head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      this.head = head;
      return null;
    }
    this.head = null;
    const existing = /\r\nx-request-id:[ \t]*([^\r]*)/i.exec(head.subarray(0, end + 2).toString('latin1'));
    if (existing) {
      this.value = existing[1].trim();
      return head;
    }
    this.value = randomUUID();
    return Buffer.concat([head.subarray(0, end + 2), Buffer.from(`x-request-id: ${this.value}\r\n`, 'latin1'), head.subarray(end + 2)]);
  }
}

/** Picks the request line, Host and status out of an HTTP/1.1 byte stream (enough for a log line). */
class HttpSniffer {
  private head = '';
  private responseHead = '';
  method: string | null = null;
  status: number | null = null;

  request(chunk: Buffer): void {
    if (this.head.includes('\r\n\r\n')) return;
    this.head += chunk.toString('latin1');
    const first = this.head.split('\r\n')[0];
    if (/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(first)) this.method = first.split(' ')[0];
  }
  response(chunk: Buffer): void {
    if (this.status !== null) return;
    this.responseHead += chunk.toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(this.responseHead);
    if (m) this.status = Number(m[1]);
  }
  requestLine(): string {
    const first = this.head.split('\r\n')[0];
    return this.method ? first : '- - -';
  }
  header(name: string): string {
    const line = this.head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
    return line ? line.slice(line.indexOf(':') + 1).trim() : '-';
  }
}

const T = 'type.googleapis.com/';

function tcpChain(cluster: string, match?: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(match ? { filter_chain_match: match } : {}),
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: cluster, cluster } }],
  };
}

function listener(name: string, address: string, port: number, chains: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { '@type': `${T}envoy.config.listener.v3.Listener`, name, address: { socket_address: { address, port_value: port } }, filter_chains: chains, traffic_direction: 'OUTBOUND', ...extra };
}

function clusterOf(name: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { '@type': `${T}envoy.config.cluster.v3.Cluster`, name, type, connect_timeout: '1s', ...extra };
}

/** An admin /config_dump of the client's stand-in sidecar: just the listeners and clusters routing uses. */
function fakeConfigDump(catchAll: (port: number) => string | null, strict: boolean, headless: boolean, version: string): unknown {
  const listeners: Array<Record<string, unknown>> = [
    listener('virtualOutbound', '0.0.0.0', 15001, [tcpChain('BlackHoleCluster', { destination_port: 15001 }), tcpChain('PassthroughCluster')], { use_original_dst: true }),
  ];
  const inboundChains: Array<Record<string, unknown>> = [];
  for (const transport of strict ? ['tls'] : ['tls', 'raw_buffer']) {
    inboundChains.push(tcpChain('InboundPassthroughCluster', { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }], transport_protocol: transport }));
    for (const port of [TCP_PORT, HTTP_PORT]) inboundChains.push(tcpChain(`inbound|${port}||`, { destination_port: port, transport_protocol: transport }));
  }
  listeners.push(listener('virtualInbound', '0.0.0.0', 15006, inboundChains, { traffic_direction: 'INBOUND', use_original_dst: true }));
  const clusters = [
    clusterOf('PassthroughCluster', 'ORIGINAL_DST', { lb_policy: 'CLUSTER_PROVIDED' }),
    clusterOf('BlackHoleCluster', 'STATIC'),
    clusterOf('InboundPassthroughCluster', 'ORIGINAL_DST', { lb_policy: 'CLUSTER_PROVIDED' }),
    clusterOf(`inbound|${TCP_PORT}||`, 'ORIGINAL_DST', { lb_policy: 'CLUSTER_PROVIDED' }),
    clusterOf(`inbound|${HTTP_PORT}||`, 'ORIGINAL_DST', { lb_policy: 'CLUSTER_PROVIDED' }),
  ];
  // A headless Service's HTTP port gets no per-pod listener, only its ORIGINAL_DST cluster (routes are not modelled).
  if (headless) clusters.push(clusterOf(`outbound|${HTTP_PORT}||${FQDN.managerHeadless}`, 'ORIGINAL_DST', { lb_policy: 'CLUSTER_PROVIDED' }));
  for (const port of [TCP_PORT, DISTINCT_TCP_PORT]) {
    const cluster = catchAll(port);
    if (!cluster) continue;
    listeners.push(listener(`0.0.0.0_${port}`, '0.0.0.0', port, [tcpChain(cluster)]));
    const host = cluster.endsWith(SERVICE_ENTRY_HOST) ? FQDN.idle : APP_EXT.externalName;
    clusters.push(clusterOf(cluster, 'STRICT_DNS', { load_assignment: { cluster_name: cluster, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] } }));
  }
  const at = '2026-11-20T10:00:00.000Z';
  return {
    configs: [
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump`, version_info: version, dynamic_active_clusters: clusters.map((cluster) => ({ cluster, last_updated: at })) },
      { '@type': `${T}envoy.admin.v3.ListenersConfigDump`, version_info: version, dynamic_listeners: listeners.map((l) => ({ name: l.name, active_state: { listener: l, last_updated: at } })) },
      { '@type': `${T}envoy.admin.v3.RoutesConfigDump`, dynamic_route_configs: [] },
    ],
  };
}
