/**
 * The dry run's kube client: records every API call the live run would make in the Plan and
 * touches nothing (no kubeconfig is read), so `podpath run --dry-run` works on any machine.
 */
import type { Plan } from '../exec/index.ts';
import type { ConfigPredicate, HeldLease, KubeApi, KubeDocument, PodRef } from '../kube/index.ts';
import type { ProbeRequest, ProbeResult } from '../probe/index.ts';

function docNames(docs: readonly KubeDocument[]): string {
  return docs.map((d) => `${d.kind}/${d.metadata.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata.name}`).join(', ');
}

export class PlanKube implements KubeApi {
  readonly plan: Plan;

  constructor(plan: Plan) {
    this.plan = plan;
  }
  currentContext(): string {
    return '(dry run)';
  }
  async apply(docs: KubeDocument[]): Promise<void> {
    this.plan.add('api', `server-side apply (fieldManager podpath): ${docNames(docs)}`);
  }
  async delete(docs: KubeDocument[], options: { wait?: boolean } = {}): Promise<void> {
    this.plan.add('api', `delete${options.wait ? ' and wait until gone' : ''}: ${docNames(docs)}`);
  }
  async waitForRollout(namespace: string, deployment: string, options: { timeoutMs: number }): Promise<void> {
    this.plan.add('wait', `rollout of deployment ${namespace}/${deployment} (timeout ${Math.round(options.timeoutMs / 1000)}s)`);
  }
  async listPods(namespace: string, labelSelector?: string): Promise<PodRef[]> {
    this.plan.add('api', `list pods in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`);
    return [];
  }
  async logs(pod: PodRef, container: string): Promise<string> {
    this.plan.add('api', `GET logs ${pod.namespace}/${pod.name} -c ${container}`);
    return '';
  }
  async probe(pod: PodRef, request: ProbeRequest): Promise<ProbeResult[]> {
    this.plan.add('api', `POST ${pod.namespace}/${pod.name}:15999/probe ${JSON.stringify(request)}`);
    return [];
  }
  async configDump(pod: PodRef): Promise<unknown> {
    this.plan.add('api', `exec ${pod.namespace}/${pod.name} -c istio-proxy -- pilot-agent request GET config_dump`);
    return null;
  }
  async sidecarClusters(pod: PodRef): Promise<string> {
    this.plan.add('api', `exec ${pod.namespace}/${pod.name} -c istio-proxy -- pilot-agent request GET clusters`);
    return '';
  }
  async waitForConfig(pod: PodRef, _predicate: ConfigPredicate, options: { timeoutMs: number }): Promise<void> {
    this.plan.add('wait', `config dump of ${pod.namespace}/${pod.name} until the predicate holds (timeout ${Math.round(options.timeoutMs / 1000)}s)`);
  }
  async events(namespace: string, name: string): Promise<string[]> {
    this.plan.add('api', `list events for ${namespace}/${name}`);
    return [];
  }
  async listObjects(apiVersion: string, kind: string, namespace: string): Promise<KubeDocument[]> {
    this.plan.add('api', `list ${kind} (${apiVersion}) in ${namespace}`);
    return [];
  }
  async readConfigMapData(namespace: string, name: string): Promise<Record<string, string> | null> {
    this.plan.add('api', `read ConfigMap ${namespace}/${name}`);
    return null;
  }
  async deploymentImages(namespace: string, labelSelector: string): Promise<string[]> {
    this.plan.add('api', `list deployments in ${namespace} (${labelSelector})`);
    return [];
  }
  async acquireLease(name: string, holder: string, options: { waitMs: number }): Promise<HeldLease> {
    this.plan.add('api', `acquire lease ${name} as ${holder} (wait up to ${Math.round(options.waitMs / 1000)}s), renewed until the run ends`);
    const plan = this.plan;
    return { lost: new AbortController().signal, [Symbol.asyncDispose]: async () => void plan.add('api', `release lease ${name}`) };
  }
}
