/**
 * MeshBed: everything the runner needs from a cluster, as one small interface. The live bed
 * wraps harness/cluster's Bed and harness/kube's KubeClient; a dry run records every call in the
 * Plan instead; podpath's own tests use the loopback double in ./testing/.
 */
import type { Plan } from '../exec/index.ts';
import type { ProbeRequest, ProbeResult } from '../probe/index.ts';
import type { ConfigPredicate, KubeApi, KubeDocument, PodRef } from '../kube/index.ts';
import type { TargetInfo, WorkloadName } from './scenario.ts';
import type { MeshMtls } from '../report/index.ts';

export interface PodInfo {
  name: string;
  namespace: string;
  ip: string;
  workload: WorkloadName;
}

export type { ConfigPredicate };

export interface MeshBed {
  /** kind cluster name, or "test-double". */
  readonly name: string;
  readonly target: TargetInfo;
  readonly kubernetes: string | null;
  /** The kind release and node image the cluster was created with (its podpath marker); null when the bed is no kind cluster or does not say. */
  readonly kind: string | null;
  readonly nodeImage: string | null;
  /** The mesh-wide mTLS mode when the bed was opened; null when it could not tell. */
  readonly mtls: MeshMtls | null;
  readonly meshConfig: { connectTimeout: string | null; accessLogEncoding: 'TEXT' | 'JSON' };
  /** Set for a dry run: calls are recorded here and return placeholders. */
  readonly plan: Plan | null;
  pods(workload: WorkloadName): Promise<PodInfo[]>;
  apply(extra: string, options?: { signal?: AbortSignal }): Promise<void>;
  remove(extra: string): Promise<void>;
  probe(from: PodInfo, request: ProbeRequest, options?: { signal?: AbortSignal }): Promise<ProbeResult[]>;
  sidecarLog(pod: PodInfo, since: Date): Promise<string>;
  configDump(pod: PodInfo): Promise<unknown>;
  /** The sidecar's Envoy admin `/clusters` text (`CLUSTER::HOST::STAT::VALUE` lines). */
  sidecarClusters(pod: PodInfo): Promise<string>;
  waitForConfig(pod: PodInfo, predicate: ConfigPredicate, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  events(pod: PodInfo): Promise<string[]>;
}

/** harness/kube's PodRef, structurally. */

export interface LiveBedFields {
  name: string;
  target: TargetInfo;
  kubernetes: string | null;
  /** From the cluster's marker; omitted: not known (null). */
  kind?: string | null;
  nodeImage?: string | null;
  /** Read from the cluster when it was opened; omitted: not known (null). */
  mtls?: MeshMtls | null;
  meshConfig: MeshBed['meshConfig'];
  plan: Plan | null;
  kube: KubeApi;
  extraDocuments(name: string): Promise<KubeDocument[]>;
}

/** The bed on a real cluster (or, with a plan, the dry run of one: same calls, recorded). */
export class LiveMeshBed implements MeshBed {
  readonly name: string;
  readonly target: TargetInfo;
  readonly kubernetes: string | null;
  readonly kind: string | null;
  readonly nodeImage: string | null;
  readonly mtls: MeshMtls | null;
  readonly meshConfig: MeshBed['meshConfig'];
  readonly plan: Plan | null;
  private readonly kube: KubeApi;
  private readonly documents: (name: string) => Promise<KubeDocument[]>;
  private readonly podCache = new Map<WorkloadName, PodInfo[]>();
  private readonly refs = new Map<string, PodRef>();
  /** Objects already deleted: fixes re-apply app-ext under another extra's name, so it is deleted once. */
  private readonly gone = new Set<string>();

  constructor(fields: LiveBedFields) {
    this.name = fields.name;
    this.target = fields.target;
    this.kubernetes = fields.kubernetes;
    this.kind = fields.kind ?? null;
    this.nodeImage = fields.nodeImage ?? null;
    this.mtls = fields.mtls ?? null;
    this.meshConfig = fields.meshConfig;
    this.plan = fields.plan;
    this.kube = fields.kube;
    this.documents = fields.extraDocuments;
  }

  async pods(workload: WorkloadName): Promise<PodInfo[]> {
    const cached = this.podCache.get(workload);
    if (cached) return cached;
    let pods: PodInfo[];
    if (this.plan) {
      // Dry run: name the pods the way the plan refers to them.
      this.plan.add('api', `list pods in namespace ${workload} (label app=${workload})`);
      pods = [1, 2].map((n) => ({ name: `<${workload}-pod-${n}>`, namespace: workload, ip: `<${workload}-pod-${n} IP>`, workload }));
    } else {
      // A terminating pod still reports Ready until its containers stop (right after a rollout restart, say): never probe from or to it.
      const refs = (await this.kube.listPods(workload, `app=${workload}`)).filter((p) => p.ready && !p.terminating && p.ip).sort((a, b) => a.name.localeCompare(b.name));
      for (const r of refs) this.refs.set(`${r.namespace}/${r.name}`, r);
      pods = refs.map((p) => ({ name: p.name, namespace: p.namespace, ip: p.ip, workload }));
    }
    this.podCache.set(workload, pods);
    return pods;
  }

  /** The PodRef listPods returned (dry-run pods get a placeholder one). */
  private ref(pod: PodInfo): PodRef {
    return this.refs.get(`${pod.namespace}/${pod.name}`) ?? { name: pod.name, namespace: pod.namespace, ip: pod.ip, ready: true, terminating: false, labels: { app: pod.workload }, node: null };
  }

  async apply(extra: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const docs = await this.documents(extra);
    for (const d of docs) this.gone.delete(docKey(d));
    await this.kube.apply(docs, options);
  }

  async remove(extra: string): Promise<void> {
    const docs = (await this.documents(extra)).filter((d) => !this.gone.has(docKey(d)));
    if (docs.length === 0) {
      this.plan?.add('note', `nothing left to delete for ${extra} (its objects were deleted with another extra)`);
      return;
    }
    for (const d of docs) this.gone.add(docKey(d));
    await this.kube.delete(docs, { wait: true });
  }

  async probe(from: PodInfo, request: ProbeRequest, options: { signal?: AbortSignal } = {}): Promise<ProbeResult[]> {
    if (this.plan) {
      this.plan.add('api', `POST ${from.namespace}/${from.name}:15999/probe (API-server pod proxy) ${JSON.stringify(request)}`);
      return [];
    }
    return await this.kube.probe(this.ref(from), request, options);
  }

  async sidecarLog(pod: PodInfo, since: Date): Promise<string> {
    if (this.plan) {
      this.plan.add('api', `GET logs of ${pod.namespace}/${pod.name} container istio-proxy since the probe started`);
      return '';
    }
    return await this.kube.logs(this.ref(pod), 'istio-proxy', { sinceTime: since });
  }

  async configDump(pod: PodInfo): Promise<unknown> {
    if (this.plan) {
      this.plan.add('api', `exec ${pod.namespace}/${pod.name} -c istio-proxy -- pilot-agent request GET config_dump`);
      return null;
    }
    return await this.kube.configDump(this.ref(pod));
  }

  async sidecarClusters(pod: PodInfo): Promise<string> {
    if (this.plan) {
      this.plan.add('api', `exec ${pod.namespace}/${pod.name} -c istio-proxy -- pilot-agent request GET clusters`);
      return '';
    }
    return await this.kube.sidecarClusters(this.ref(pod));
  }

  async waitForConfig(pod: PodInfo, predicate: ConfigPredicate, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    if (this.plan) return; // the runner records what it waits for; a dry run never polls
    await this.kube.waitForConfig(this.ref(pod), predicate, options);
  }

  async events(pod: PodInfo): Promise<string[]> {
    if (this.plan) return [];
    return await this.kube.events(pod.namespace, pod.name);
  }
}

function docKey(d: KubeDocument): string {
  return `${d.apiVersion}/${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
}
