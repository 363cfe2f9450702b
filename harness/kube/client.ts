/**
 * KubeClient: everything podpath asks of a cluster, on @kubernetes/client-node v2. Waiting is
 * by watch (rollouts) or by the shared backoff (config dumps, deletes, leases); a dry run
 * (a Plan) records each call as `METHOD path (summary)` and opens no connection at all.
 */
import { Writable } from 'node:stream';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  Exec,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RequestContext,
  V1MicroTime,
  Watch,
  type KubernetesObject,
  type V1Deployment,
  type V1Lease,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import type { Plan } from '../exec/index.ts';
import { EnvironmentError, PodpathError, UsageError } from '../errors/index.ts';
import type { ProbeRequest, ProbeResult } from '../probe/index.ts';
import { DEFAULT_BACKOFF, PollTimeout, delayFor, interrupted, pause, poll, type BackoffSchedule } from './backoff.ts';
import { KubeError, httpStatusOf, isAbortLike, networkCode, toKubeError } from './errors.ts';
import type { KubeDocument } from './resources.ts';
import type { ConfigPredicate, HeldLease, KubeApi, PodRef } from './api.ts';
import { collectionPath, describe, isKnownKind, objectPath } from './resources.ts';

export const FIELD_MANAGER = 'podpath';
export const CONTROL_PORT = 15999;
export const SIDECAR_CONTAINER = 'istio-proxy';
// include_eds adds the endpoints, so explain can name the pods a cluster sends to.
export const CONFIG_DUMP_COMMAND: readonly string[] = ['pilot-agent', 'request', 'GET', 'config_dump?include_eds'];
// Envoy admin /clusters (text): one `CLUSTER::HOST::STAT::VALUE` line per host statistic, so it lists the hosts an ORIGINAL_DST cluster holds.
export const CLUSTERS_COMMAND: readonly string[] = ['pilot-agent', 'request', 'GET', 'clusters'];
/** Leases live beside the bed's marker ConfigMap: kube-system exists on every cluster. */
export const LEASE_NAMESPACE = 'kube-system';
const LEASE_SECONDS = 120;
/** client-node 2's Watch aborts a request after this long without a byte (its `requestTimeoutMs`). */
const WATCH_INACTIVITY_MS = 30_000;

export type { PodRef, HeldLease } from './api.ts';

/** Runs a command in a container and returns its stdout; the default uses client-node's Exec (websocket). */
export type ExecTransport = (pod: PodRef, container: string, command: readonly string[]) => Promise<string>;

export interface KubeClientOptions {
  context?: string;
  kubeconfigPath?: string;
  /** Dry run: record every call here and touch nothing. */
  plan?: Plan;
  /** The backoff every poll and reconnect uses (tests shorten it). */
  backoff?: BackoffSchedule;
  /** How configDump runs its command (default: exec over the API server's websocket). */
  execTransport?: ExecTransport;
  /** Extra time a probe gets beyond its own timeouts for the API-server proxy hop (default 10 s). */
  probeMarginMs?: number;
  /** Lease duration in whole seconds (default 120); the holder renews every third of it. */
  leaseSeconds?: number;
  /** How long a watch may stay silent before client-node's Watch aborts it (default 30 s, its own default); tests shorten it. */
  watchInactivityMs?: number;
  /** Where backoff steps read the time and wait (default: Date.now and real timers); tests pass a virtual clock. Watches themselves run on real time. */
  clock?: BackoffClock;
}

export interface BackoffClock {
  now: () => number;
  pause: (ms: number, signal?: AbortSignal) => Promise<void>;
}


export interface RolloutState {
  done: boolean;
  state: string;
}

/** The parts of a Deployment the rollout rule reads (a V1Deployment is one). */
export interface DeploymentLike {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Array<{ type: string; reason?: string; message?: string }>;
  };
}

/** Is a Deployment fully rolled out? The same rule as `kubectl rollout status`. */
export function rolloutState(d: DeploymentLike): RolloutState {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const generation = d.metadata?.generation ?? 0;
  const observed = s.observedGeneration ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const state = `${updated}/${want} updated, ${available}/${want} available, ${total} total, generation ${generation} observed ${observed}`;
  const progressing = (s.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, state: `${state}; ProgressDeadlineExceeded: ${progressing.message ?? ''}` };
  const done = observed >= generation && updated >= want && total === updated && available >= updated;
  return { done, state };
}

function podRef(p: V1Pod): PodRef {
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return {
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    ip: p.status?.podIP ?? '',
    ready,
    terminating: p.metadata?.deletionTimestamp !== undefined && p.metadata?.deletionTimestamp !== null,
    labels: { ...(p.metadata?.labels ?? {}) },
    node: p.spec?.nodeName ?? null,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Our own errors (Ctrl-C above all) pass through unchanged; anything else becomes a KubeError. */
function failure(error: unknown, what: string): PodpathError {
  return error instanceof PodpathError ? error : toKubeError(error, what);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** How a watch ended; `closed` carries how long it was open, `idle` means client-node's inactivity timer ended it. */
type WatchOutcome = { kind: 'done' } | { kind: 'closed'; error: unknown; events: number; openMs: number } | { kind: 'idle' } | { kind: 'gone' } | { kind: 'timeout' };

/** The watch length to ask the API server for: a fifth inside the client's inactivity timer (24 s of 30), so a quiet watch ends cleanly; none under 1 s. */
function watchTimeoutSeconds(inactivityMs: number): number | undefined {
  const seconds = Math.floor((inactivityMs * 0.8) / 1000);
  return seconds >= 1 ? seconds : undefined;
}

export class KubeClient implements KubeApi {
  readonly plan: Plan | null;
  readonly backoff: BackoffSchedule;
  private readonly kc: KubeConfig;
  private readonly context: string;
  private readonly execTransport: ExecTransport;
  private readonly probeMarginMs: number;
  private readonly leaseSeconds: number;
  private readonly watchInactivityMs: number;
  private readonly clock: BackoffClock;
  private objectsApi: KubernetesObjectApi | null = null;

  private constructor(kc: KubeConfig, context: string, options: KubeClientOptions) {
    this.kc = kc;
    this.context = context;
    this.plan = options.plan ?? null;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.probeMarginMs = options.probeMarginMs ?? 10_000;
    this.leaseSeconds = options.leaseSeconds ?? LEASE_SECONDS;
    this.watchInactivityMs = options.watchInactivityMs ?? WATCH_INACTIVITY_MS;
    this.clock = options.clock ?? { now: Date.now, pause };
    this.execTransport = options.execTransport ?? ((pod, container, command) => this.execOverWebsocket(pod, container, command));
  }

  /** Load a kubeconfig (path, else $KUBECONFIG, else ~/.kube/config) and pick the context. With a plan, nothing is read over the network, and a missing kubeconfig is fine. */
  static fromKubeconfig(options: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    try {
      if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
      else kc.loadFromDefault();
    } catch (error) {
      if (!options.plan) {
        throw new EnvironmentError(`cannot read the kubeconfig${options.kubeconfigPath ? ` ${options.kubeconfigPath}` : ''}`, {
          hint: 'Create the cluster first (`podpath up`), or point --kubeconfig / $KUBECONFIG at a valid file.',
          cause: error,
        });
      }
    }
    if (options.context) {
      if (kc.getContextObject(options.context)) kc.setCurrentContext(options.context);
      else if (!options.plan) {
        const known = kc.getContexts().map((c) => c.name);
        throw new UsageError(`no context ${JSON.stringify(options.context)} in the kubeconfig`, {
          hint: known.length ? `Known contexts: ${known.join(', ')}.` : 'The kubeconfig has no contexts: is the cluster up (`podpath up`)?',
        });
      }
    }
    const context = options.context ?? (kc.getCurrentContext() || '');
    if (!options.plan && !kc.getCurrentCluster()) {
      throw new EnvironmentError('the kubeconfig has no current cluster', { hint: 'Pass --context NAME, or run `podpath up` to create the kind cluster.' });
    }
    return new KubeClient(kc, context || 'dry-run', options);
  }

  currentContext(): string {
    return this.context;
  }

  private record(method: string, path: string, summary: string): void {
    this.plan?.add('api', `${method} ${path} (${summary})`);
  }

  private objects(): KubernetesObjectApi {
    this.objectsApi ??= KubernetesObjectApi.makeApiClient(this.kc);
    return this.objectsApi;
  }

  /** Server-side apply, field manager "podpath", force (podpath owns what it applies). A 409 is retried by the backoff. */
  async apply(docs: KubeDocument[], options: { signal?: AbortSignal } = {}): Promise<void> {
    for (const doc of docs) {
      if (this.plan) {
        this.record('PATCH', `${objectPath(doc)}?fieldManager=${FIELD_MANAGER}&force=true`, `server-side apply ${describe(doc)}${isKnownKind(doc.kind) ? '' : '; path by naming convention'}`);
        continue;
      }
      if (options.signal?.aborted) throw interrupted(options.signal);
      let attempts = 0;
      try {
        await poll(async () => {
          attempts++;
          try {
            await this.objects().patch(structuredClone(doc) as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
            return { done: true, value: undefined };
          } catch (error) {
            if (httpStatusOf(error) === 409 && attempts < 3) return { done: false, state: `409 Conflict on attempt ${attempts}` };
            throw error;
          }
        }, { timeoutMs: 10_000, schedule: this.backoff, now: this.clock.now, pause: this.clock.pause, ...(options.signal ? { signal: options.signal } : {}) });
      } catch (error) {
        throw failure(error, `apply ${describe(doc)}`);
      }
    }
  }

  /** Delete each document (absent is fine); with wait, until the API server no longer has it. */
  async delete(docs: KubeDocument[], options: { wait?: boolean; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    for (const doc of [...docs].reverse()) {
      if (this.plan) {
        this.record('DELETE', objectPath(doc), `delete ${describe(doc)}, propagation Background`);
        continue;
      }
      try {
        await this.objects().delete(structuredClone(doc) as KubernetesObject, undefined, undefined, undefined, undefined, 'Background');
      } catch (error) {
        if (httpStatusOf(error) !== 404) throw failure(error, `delete ${describe(doc)}`);
      }
    }
    if (!options.wait) return;
    for (const doc of docs) {
      if (this.plan) {
        this.plan.add('wait', `until GET ${objectPath(doc)} is 404 (backoff from ${this.backoff.initialMs} ms)`);
        continue;
      }
      try {
        await poll(async () => {
          try {
            await this.objects().read(structuredClone(doc) as KubernetesObject & { metadata: { name: string } });
            return { done: false, state: `${describe(doc)} still present (finalizers running)` };
          } catch (error) {
            if (httpStatusOf(error) === 404) return { done: true, value: undefined };
            throw error;
          }
        }, { timeoutMs: options.timeoutMs ?? 120_000, schedule: this.backoff, now: this.clock.now, pause: this.clock.pause, ...(options.signal ? { signal: options.signal } : {}) });
      } catch (error) {
        if (error instanceof PollTimeout) {
          throw new KubeError(`${describe(doc)} was not gone after ${seconds(options.timeoutMs ?? 120_000)}: ${error.lastState}`, {
            hint: `Look at its finalizers: kubectl get ${doc.kind.toLowerCase()} ${doc.metadata.name}${doc.metadata.namespace ? ` -n ${doc.metadata.namespace}` : ''} -o yaml`,
            cause: error,
          });
        }
        throw failure(error, `wait for ${describe(doc)} to be deleted`);
      }
    }
  }

  /**
   * Wait until the Deployment is fully rolled out, by one GET and a watch from its
   * resourceVersion. A dropped watch is re-established from the last version seen (410 Gone:
   * re-read); the wait never polls the Deployment on a timer.
   */
  async waitForRollout(namespace: string, deployment: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
    const fieldSelector = `metadata.name=${deployment}`;
    if (this.plan) {
      this.record('GET', `${path}/${deployment}`, 'read rollout state');
      this.record('WATCH', `${path}?fieldSelector=${encodeURIComponent(fieldSelector)}`, `until ${namespace}/${deployment} is rolled out, up to ${seconds(options.timeoutMs)}`);
      return;
    }
    const what = `wait for the rollout of ${namespace}/${deployment}`;
    const deadline = Date.now() + options.timeoutMs;
    const apps = this.kc.makeApiClient(AppsV1Api);
    let state = 'not read yet';
    let resourceVersion: string | undefined;
    const read = async (): Promise<boolean> => {
      try {
        const d = await apps.readNamespacedDeployment({ name: deployment, namespace });
        resourceVersion = d.metadata?.resourceVersion;
        const s = rolloutState(d);
        state = s.state;
        return s.done;
      } catch (error) {
        throw failure(error, what);
      }
    };
    if (await read()) return;
    let drops = 0;
    let lastDrop: unknown = null;
    const timeoutSeconds = watchTimeoutSeconds(this.watchInactivityMs);
    // A watch open this long ended the normal way (server timeoutSeconds, or the inactivity timer).
    const fullWatchMs = Math.min(this.watchInactivityMs, timeoutSeconds === undefined ? Infinity : timeoutSeconds * 1000);
    for (;;) {
      const outcome = await this.watchOnce(path, { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, deadline, options.signal, (type, obj) => {
        if (!isRecord(obj)) return false;
        const meta = isRecord(obj.metadata) ? obj.metadata : {};
        if (typeof meta.resourceVersion === 'string') resourceVersion = meta.resourceVersion;
        if (type === 'DELETED') {
          state = 'the Deployment was deleted';
          return false;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED') return false;
        const s = rolloutState(obj as V1Deployment);
        state = s.state;
        return s.done;
      });
      if (outcome.kind === 'done') return;
      if (outcome.kind === 'timeout') {
        throw new KubeError(`rollout of ${namespace}/${deployment} not complete after ${seconds(options.timeoutMs)}: ${state}`, {
          reason: 'Timeout',
          hint: `See why: podpath status, or kubectl -n ${namespace} describe deployment ${deployment} (image pulls, readiness on :${CONTROL_PORT}/healthz, sidecar injection).`,
        });
      }
      if (outcome.kind === 'gone') {
        if (await read()) return;
        continue;
      }
      if (outcome.kind === 'idle') {
        // Nothing changed for the whole inactivity period: resume from the last version at once.
        drops = 0;
        continue;
      }
      const code = httpStatusOf(outcome.error);
      if (code !== null && code !== 410 && code < 500) throw failure(outcome.error, what);
      if (outcome.error) lastDrop = outcome.error;
      const left = deadline - Date.now();
      if (left <= 0) {
        const why = lastDrop ? ` (last watch error: ${networkCode(lastDrop) ?? (lastDrop instanceof Error ? lastDrop.message : String(lastDrop))})` : '';
        throw new KubeError(`rollout of ${namespace}/${deployment} not complete after ${seconds(options.timeoutMs)}: ${state}${why}`, { reason: 'Timeout', hint: 'Is the cluster up? Check `podpath status`.' });
      }
      // A watch that delivered events or lived its full length reconnects at once; one that died
      // early and empty backs off, so a server that keeps closing (or refusing) is never hammered.
      if (outcome.events > 0 || outcome.openMs >= fullWatchMs) drops = 0;
      else await this.clock.pause(Math.min(delayFor(this.backoff, drops++), left), options.signal);
    }
  }

  /** One watch request; resolves when `onEvent` says done, the stream ends, or the deadline passes. */
  private watchOnce(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    deadline: number,
    signal: AbortSignal | undefined,
    onEvent: (type: string, obj: unknown) => boolean,
  ): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve, reject) => {
      let settled = false;
      let events = 0;
      const opened = Date.now();
      let controller: AbortController | null = null;
      const finish = (outcome: WatchOutcome | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        controller?.abort();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
      const onAbort = (): void => finish(interrupted(signal));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const watch = new Watch(this.kc);
      // requestTimeoutMs is public at runtime but `private` in client-node's typings.
      const timed = watch as unknown as { requestTimeoutMs?: unknown };
      if (typeof timed.requestTimeoutMs === 'number') timed.requestTimeoutMs = this.watchInactivityMs;
      watch
        .watch(path, query, (type, obj) => {
          if (settled) return;
          if (type === 'ERROR') {
            const status = obj as V1Status;
            finish(status.code === 410 ? { kind: 'gone' } : { kind: 'closed', error: { code: status.code, body: status }, events, openMs: Date.now() - opened });
            return;
          }
          events++;
          if (onEvent(type, obj)) finish({ kind: 'done' });
        }, (error: unknown) => {
          if (signal?.aborted) return finish(interrupted(signal));
          // Our own aborts settle first, so an abort or timeout here is client-node's inactivity timer.
          if (isAbortLike(error)) return finish({ kind: 'idle' });
          finish({ kind: 'closed', error: error ?? null, events, openMs: Date.now() - opened });
        })
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        }, (error: unknown) => finish({ kind: 'closed', error, events, openMs: Date.now() - opened }));
    });
  }

  async listPods(namespace: string, labelSelector?: string): Promise<PodRef[]> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    if (this.plan) {
      this.record('GET', labelSelector ? `${path}?labelSelector=${encodeURIComponent(labelSelector)}` : path, `list pods in ${namespace}`);
      return [];
    }
    try {
      const core = this.kc.makeApiClient(CoreV1Api);
      const list = await core.listNamespacedPod(labelSelector ? { namespace, labelSelector } : { namespace });
      return list.items.map(podRef).sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      throw failure(error, `list pods in ${namespace}`);
    }
  }

  /** A ConfigMap's data, or null when there is no such ConfigMap (or no such namespace). */
  async readConfigMapData(namespace: string, name: string): Promise<Record<string, string> | null> {
    if (this.plan) {
      this.record('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`, `read ConfigMap ${namespace}/${name}`);
      return null;
    }
    try {
      const core = this.kc.makeApiClient(CoreV1Api);
      const cm = await core.readNamespacedConfigMap({ name, namespace });
      return { ...(cm.data ?? {}) };
    } catch (error) {
      if (httpStatusOf(error) === 404) return null;
      throw failure(error, `read ConfigMap ${namespace}/${name}`);
    }
  }

  /** Every object of a kind in a namespace; a kind the cluster does not serve (its CRD is not installed) lists as []. */
  async listObjects(apiVersion: string, kind: string, namespace: string): Promise<KubeDocument[]> {
    if (this.plan) {
      this.record('GET', collectionPath({ apiVersion, kind, metadata: { namespace } }), `list ${kind} in ${namespace}`);
      return [];
    }
    try {
      const list = await this.objects().list(apiVersion, kind, namespace);
      return list.items.map((item) => item as unknown as KubeDocument);
    } catch (error) {
      if (httpStatusOf(error) === 404) return [];
      throw failure(error, `list ${kind} in ${namespace}`);
    }
  }

  /** The first container image of each Deployment matching the selector, in name order. */
  async deploymentImages(namespace: string, labelSelector: string): Promise<string[]> {
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`;
    if (this.plan) {
      this.record('GET', `${path}?labelSelector=${encodeURIComponent(labelSelector)}`, `list deployments in ${namespace} (${labelSelector})`);
      return [];
    }
    try {
      const apps = this.kc.makeApiClient(AppsV1Api);
      const list = await apps.listNamespacedDeployment({ namespace, labelSelector });
      return list.items
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
        .map((d) => d.spec?.template?.spec?.containers?.[0]?.image ?? '')
        .filter(Boolean);
    } catch (error) {
      throw failure(error, `list deployments in ${namespace}`);
    }
  }

  /** A raw request through the kubeconfig's auth (client-node's Log and proxy helpers cannot carry a body or keep network causes). */
  private async request(method: HttpMethod, path: string, what: string, init: { body?: string; contentType?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new EnvironmentError('the kubeconfig has no current cluster');
    const ctx = new RequestContext(`${cluster.server}${path}`, method);
    ctx.setHeaderParam('Accept', 'application/json, */*');
    if (init.body !== undefined) {
      ctx.setHeaderParam('Content-Type', init.contentType ?? 'application/json');
      ctx.setBody(init.body);
    }
    const timeout = init.timeoutMs === undefined ? null : AbortSignal.timeout(init.timeoutMs);
    const signals = [...(timeout ? [timeout] : []), ...(init.signal ? [init.signal] : [])];
    if (signals.length) ctx.setSignal(AbortSignal.any(signals));
    try {
      await this.kc.applySecurityAuthentication(ctx);
      const response = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
      const text = await response.body.text();
      if (response.httpStatusCode >= 400) throw failure({ code: response.httpStatusCode, body: text }, what);
      return text;
    } catch (error) {
      if (init.signal?.aborted && !(error instanceof KubeError)) throw interrupted(init.signal);
      if (timeout?.aborted && !(error instanceof KubeError)) {
        throw new KubeError(`${what}: no answer within ${seconds(init.timeoutMs ?? 0)}`, { reason: 'Timeout', hint: 'The API server or the pod behind the proxy is not answering: check `podpath status` and the pod\'s events.', cause: error });
      }
      throw failure(error, what);
    }
  }

  /** A container's log, from `sinceTime` when given (RFC 3339). */
  async logs(pod: PodRef, container: string, options: { sinceTime?: Date } = {}): Promise<string> {
    const query = new URLSearchParams({ container });
    if (options.sinceTime) query.set('sinceTime', options.sinceTime.toISOString());
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/log?${query}`;
    if (this.plan) {
      this.record('GET', path, `logs of ${pod.namespace}/${pod.name} container ${container}`);
      return '';
    }
    return this.request(HttpMethod.GET, path, `read the ${container} log of ${pod.namespace}/${pod.name}`);
  }

  /** POST a probe to the pod's agent through the API server's pod proxy (the control port is outside the mesh). */
  async probe(pod: PodRef, request: ProbeRequest, options: { signal?: AbortSignal } = {}): Promise<ProbeResult[]> {
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}:${CONTROL_PORT}/proxy/probe`;
    if (this.plan) {
      this.record('POST', path, `probe ${request.protocol} ${request.target} from ${pod.namespace}/${pod.name}`);
      return [];
    }
    // The agent answers within timeoutMs per attempt; give the proxy hop a margin on top.
    const budget = request.timeoutMs * (request.count ?? 1) + this.probeMarginMs;
    const text = await this.request(HttpMethod.POST, path, `probe ${request.target} from ${pod.namespace}/${pod.name}`, {
      body: JSON.stringify(request),
      timeoutMs: budget,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new KubeError(`the agent in ${pod.namespace}/${pod.name} answered the probe with something that is not JSON`, { hint: `Is the podpath agent running on :${CONTROL_PORT}? First bytes: ${text.slice(0, 120)}`, cause: error });
    }
    if (!Array.isArray(parsed)) throw new KubeError(`the agent in ${pod.namespace}/${pod.name} answered the probe without a result list`, { hint: 'The agent and podpath versions may differ: re-run `podpath up` to redeploy the agent.' });
    return parsed as ProbeResult[];
  }

  /** The sidecar's Envoy config dump (JSON), via `pilot-agent request GET config_dump?include_eds` in istio-proxy. */
  async configDump(pod: PodRef): Promise<unknown> {
    if (this.plan) {
      const query = new URLSearchParams({ container: SIDECAR_CONTAINER, stdout: 'true', stderr: 'true' });
      for (const part of CONFIG_DUMP_COMMAND) query.append('command', part);
      this.record('GET', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/exec?${query}`, `config dump of ${pod.namespace}/${pod.name} (websocket exec)`);
      return {};
    }
    const out = await this.execTransport(pod, SIDECAR_CONTAINER, CONFIG_DUMP_COMMAND);
    try {
      return JSON.parse(out);
    } catch (error) {
      throw new KubeError(`the config dump of ${pod.namespace}/${pod.name} is not JSON`, { hint: `Is the sidecar running (container ${SIDECAR_CONTAINER})? Output began: ${out.slice(0, 120)}`, cause: error });
    }
  }

  /** The sidecar's Envoy admin `/clusters` text, via `pilot-agent request GET clusters` in istio-proxy. */
  async sidecarClusters(pod: PodRef): Promise<string> {
    if (this.plan) {
      const query = new URLSearchParams({ container: SIDECAR_CONTAINER, stdout: 'true', stderr: 'true' });
      for (const part of CLUSTERS_COMMAND) query.append('command', part);
      this.record('GET', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/exec?${query}`, `Envoy clusters of ${pod.namespace}/${pod.name} (websocket exec)`);
      return '';
    }
    return await this.execTransport(pod, SIDECAR_CONTAINER, CLUSTERS_COMMAND);
  }

  private async execOverWebsocket(pod: PodRef, container: string, command: readonly string[]): Promise<string> {
    const what = `exec ${command.join(' ')} in ${pod.namespace}/${pod.name} (${container})`;
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    const collect = (into: Buffer[]): Writable => new Writable({ write(chunk: Buffer, _enc, cb) { into.push(chunk); cb(); } });
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (!settled) {
          settled = true;
          reject(failure(error, what));
        }
      };
      const onStatus = (status: V1Status): void => {
        if (settled) return;
        if (status.status === 'Success') {
          settled = true;
          resolve(Buffer.concat(chunks).toString('utf8'));
          return;
        }
        const stderr = Buffer.concat(errors).toString('utf8').trim();
        fail(new KubeError(`${what} failed: ${status.message ?? status.reason ?? 'non-zero exit'}${stderr ? ` (${stderr.slice(0, 200)})` : ''}`, {
          reason: status.reason ?? null,
          hint: `Is ${container} running in the pod? kubectl -n ${pod.namespace} get pod ${pod.name} -o wide`,
        }));
      };
      new Exec(this.kc)
        .exec(pod.namespace, pod.name, container, [...command], collect(chunks), collect(errors), null, false, onStatus)
        .then((ws) => {
          ws.on('close', () => fail(new KubeError(`${what}: the connection closed before the command finished`, { hint: 'Retry; if it persists, check the API server and kubelet logs.' })));
        }, fail);
    });
  }

  /**
   * Poll the sidecar's config dump with the shared backoff until `predicate` holds. The timeout
   * message carries the predicate's last state, e.g. "waiting: listener 0.0.0.0_5701 absent".
   */
  async waitForConfig(pod: PodRef, predicate: ConfigPredicate, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    if (this.plan) {
      await this.configDump(pod);
      this.plan.add('wait', `repeat the config dump of ${pod.namespace}/${pod.name} with backoff (${this.backoff.initialMs} ms x${this.backoff.factor}, max ${this.backoff.maxMs} ms) until the expected config holds, up to ${seconds(options.timeoutMs)}`);
      return;
    }
    try {
      await poll(async () => {
        const result = predicate(await this.configDump(pod));
        return result.ok ? { done: true, value: undefined } : { done: false, state: result.state };
      }, { timeoutMs: options.timeoutMs, schedule: this.backoff, now: this.clock.now, pause: this.clock.pause, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (error instanceof PollTimeout) {
        throw new KubeError(`config of ${pod.namespace}/${pod.name} did not converge in ${seconds(options.timeoutMs)} (${error.attempts} config dumps); last state: ${error.lastState}`, {
          reason: 'Timeout',
          hint: `istiod may be slow or the expectation wrong: compare with \`podpath explain\` on a dump of ${pod.name}, and check istiod's logs.`,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Events about one object, oldest first, as `TYPE Reason: message (xN)` lines. */
  async events(namespace: string, name: string): Promise<string[]> {
    const fieldSelector = `involvedObject.name=${name}`;
    if (this.plan) {
      this.record('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events?fieldSelector=${encodeURIComponent(fieldSelector)}`, `events of ${namespace}/${name}`);
      return [];
    }
    try {
      const core = this.kc.makeApiClient(CoreV1Api);
      const list = await core.listNamespacedEvent({ namespace, fieldSelector });
      const when = (e: (typeof list.items)[number]): number => new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? 0).getTime();
      return [...list.items]
        .sort((a, b) => when(a) - when(b))
        .map((e) => `${e.type ?? 'Normal'} ${e.reason ?? ''}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
    } catch (error) {
      throw failure(error, `list events of ${namespace}/${name}`);
    }
  }

  /**
   * Take the coordination.k8s.io Lease NAME in kube-system for `holder`. A lease held by someone
   * else is waited for (backoff) up to waitMs, then refused naming the holder; an expired lease
   * is taken over. While held it is renewed every third of its duration; `lost` aborts (its
   * reason a KubeError 'LeaseLost') when someone else took it over or deleted it, or when no
   * renewal succeeded before it would expire. Disposing releases it (deletes it if still ours).
   */
  async acquireLease(name: string, holder: string, options: { waitMs: number; signal?: AbortSignal }): Promise<HeldLease> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`;
    if (this.plan) {
      this.record('POST', path, `take lease ${name} for ${holder}, waiting up to ${seconds(options.waitMs)} if held; renewed every ${seconds((this.leaseSeconds * 1000) / 3)} until released`);
      const plan = this.plan;
      return { lost: new AbortController().signal, [Symbol.asyncDispose]: async () => plan.add('api', `DELETE ${path}/${name} (release lease ${name})`) };
    }
    const api = this.kc.makeApiClient(CoordinationV1Api);
    const body = (previous?: V1Lease): V1Lease => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: LEASE_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'podpath' }, ...(previous?.metadata?.resourceVersion ? { resourceVersion: previous.metadata.resourceVersion } : {}) },
      spec: { holderIdentity: holder, leaseDurationSeconds: this.leaseSeconds, acquireTime: new V1MicroTime(), renewTime: new V1MicroTime() },
    });
    let held: V1Lease | null = null;
    let holderSeen = 'nobody';
    try {
      held = await poll<V1Lease>(async () => {
        let current: V1Lease | null = null;
        try {
          current = await api.readNamespacedLease({ name, namespace: LEASE_NAMESPACE });
        } catch (error) {
          if (httpStatusOf(error) !== 404) throw error;
        }
        try {
          if (!current) return { done: true, value: await api.createNamespacedLease({ namespace: LEASE_NAMESPACE, body: body() }) };
          const spec = current.spec ?? {};
          const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
          const expired = renewed + (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000 < Date.now();
          if (!spec.holderIdentity || spec.holderIdentity === holder || expired) {
            return { done: true, value: await api.replaceNamespacedLease({ name, namespace: LEASE_NAMESPACE, body: body(current) }) };
          }
          holderSeen = `${spec.holderIdentity} (since ${spec.acquireTime ? new Date(spec.acquireTime).toISOString() : 'unknown'})`;
          return { done: false, state: `held by ${holderSeen}` };
        } catch (error) {
          // Someone took it between our read and write: look again.
          if (httpStatusOf(error) === 409) return { done: false, state: 'lost a race for it (409 Conflict)' };
          throw error;
        }
      }, { timeoutMs: options.waitMs, schedule: this.backoff, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (error instanceof PollTimeout) {
        throw new KubeError(`lease ${LEASE_NAMESPACE}/${name} is held by ${holderSeen}; gave up after ${seconds(options.waitMs)}`, {
          reason: 'LeaseHeld',
          hint: `Another podpath run is using this cluster: wait for it, or if it died, delete the lease: kubectl -n ${LEASE_NAMESPACE} delete lease ${name}`,
          cause: error,
        });
      }
      throw failure(error, `take lease ${LEASE_NAMESPACE}/${name}`);
    }
    let acquired = held;
    let renewing: Promise<void> = Promise.resolve();
    const durationMs = this.leaseSeconds * 1000;
    const intervalMs = durationMs / 3;
    let lastRenewed = Date.now();
    const lost = new AbortController();
    let releasing = false;
    const lose = (why: string, cause?: unknown): void => {
      if (lost.signal.aborted) return;
      clearInterval(renew);
      lost.abort(new KubeError(`lost the lease ${LEASE_NAMESPACE}/${name}: ${why}`, {
        reason: 'LeaseLost',
        hint: 'Another podpath run may be changing this cluster now, so nothing observed from here on can be trusted. Check for other runs on this bed, then run again.',
        cause,
      }));
    };
    const renewOnce = async (): Promise<void> => {
      // A tick queued behind a slow renewal does nothing once the lease is lost or being released.
      if (lost.signal.aborted || releasing) return;
      try {
        acquired = await api.replaceNamespacedLease({ name, namespace: LEASE_NAMESPACE, body: { ...body(acquired), spec: { ...acquired.spec, renewTime: new V1MicroTime() } } });
        lastRenewed = Date.now();
        return;
      } catch (error) {
        const code = httpStatusOf(error);
        if (code === 409 || code === 404) {
          // 409: the lease changed under us. Still ours (a stale resourceVersion) is retried next tick; anyone else's is a takeover.
          try {
            const current = await api.readNamespacedLease({ name, namespace: LEASE_NAMESPACE });
            if (current.spec?.holderIdentity !== holder) return lose(`taken over by ${current.spec?.holderIdentity || 'nobody'} (409 Conflict on renewal)`, error);
            acquired = current;
          } catch (readError) {
            if (httpStatusOf(readError) === 404) return lose('it was deleted by someone else', readError);
          }
        }
        // A missed renewal is retried on the next tick, unless the lease would expire before then.
        if (Date.now() - lastRenewed + intervalMs >= durationMs) {
          lose(`no renewal succeeded for ${seconds(Date.now() - lastRenewed)} of its ${this.leaseSeconds}s (last: ${error instanceof Error ? error.message : String(error)})`, error);
        }
      }
    };
    // Renew well inside the lease duration so a long run is never mistaken for a dead one.
    const renew = setInterval(() => {
      renewing = renewing.then(renewOnce);
    }, intervalMs);
    renew.unref();
    const release = async (resourceVersion: string): Promise<void> => {
      await api.deleteNamespacedLease({ name, namespace: LEASE_NAMESPACE, body: { preconditions: { resourceVersion } } });
    };
    return {
      lost: lost.signal,
      [Symbol.asyncDispose]: async () => {
        releasing = true;
        clearInterval(renew);
        await renewing; // a renewal in flight changes the resourceVersion the delete must name
        try {
          await release(acquired.metadata?.resourceVersion ?? '');
        } catch (error) {
          const code = httpStatusOf(error);
          if (code === 404) return;
          try {
            if (code !== 409) throw error;
            // Changed under us: delete it only if it is still ours (else someone took over an expired lease).
            const current = await api.readNamespacedLease({ name, namespace: LEASE_NAMESPACE });
            if (current.spec?.holderIdentity === holder) await release(current.metadata?.resourceVersion ?? '');
          } catch (inner) {
            if (httpStatusOf(inner) !== 404) throw failure(inner, `release lease ${LEASE_NAMESPACE}/${name}`);
          }
        }
      },
    };
  }
}
