/**
 * KubeApi: what podpath asks of a cluster, as one interface. KubeClient (client-node) is the live
 * implementation, the runner's PlanKube records a dry run, and the tests' FakeKube scripts answers;
 * harness/cluster and harness/runner depend on this interface, never on one implementation.
 */
import type { ProbeRequest, ProbeResult } from '../probe/index.ts';
import type { KubeDocument } from './resources.ts';

export interface PodRef {
  name: string;
  namespace: string;
  ip: string;
  ready: boolean;
  /** metadata.deletionTimestamp is set: the pod is going away, though it may still report Ready. */
  terminating: boolean;
  labels: Record<string, string>;
  node: string | null;
}

/** A Lease this process holds. */
export interface HeldLease extends AsyncDisposable {
  /** Aborts, with a KubeError (reason 'LeaseLost') as its reason, once the lease is no longer ours. */
  readonly lost: AbortSignal;
}

/** Reads a config dump: `ok` once it shows what is awaited, `state` says what it shows so far. */
export type ConfigPredicate = (dump: unknown) => { ok: boolean; state: string };

export interface KubeApi {
  /** The kubeconfig context the calls go to. */
  currentContext(): string;
  /** Server-side apply (field manager podpath). */
  apply(docs: KubeDocument[], options?: { signal?: AbortSignal }): Promise<void>;
  /** Deletes (absent is fine); `wait` until the objects are gone. */
  delete(docs: KubeDocument[], options?: { wait?: boolean; signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  waitForRollout(namespace: string, deployment: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  listPods(namespace: string, labelSelector?: string): Promise<PodRef[]>;
  /** A ConfigMap's data, or null when it does not exist. */
  readConfigMapData(namespace: string, name: string): Promise<Record<string, string> | null>;
  /** Every object of a kind in a namespace ([] when none, or when the cluster does not know the kind). */
  listObjects(apiVersion: string, kind: string, namespace: string): Promise<KubeDocument[]>;
  /** The container images of the deployments matching the selector. */
  deploymentImages(namespace: string, labelSelector: string): Promise<string[]>;
  logs(pod: PodRef, container: string, options?: { sinceTime?: Date }): Promise<string>;
  /** Asks the pod's agent to probe (through the API server's pod proxy). */
  probe(pod: PodRef, request: ProbeRequest, options?: { signal?: AbortSignal }): Promise<ProbeResult[]>;
  /** The sidecar's Envoy config dump (parsed JSON). */
  configDump(pod: PodRef): Promise<unknown>;
  /** The sidecar's Envoy admin /clusters text. */
  sidecarClusters(pod: PodRef): Promise<string>;
  waitForConfig(pod: PodRef, predicate: ConfigPredicate, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** Event messages about the named object, oldest first. */
  events(namespace: string, name: string): Promise<string[]>;
  acquireLease(name: string, holder: string, options: { waitMs: number; signal?: AbortSignal }): Promise<HeldLease>;
}
