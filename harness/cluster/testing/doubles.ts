/**
 * TEST DOUBLES for the cluster concern (used by *.test.ts only, never by podpath itself): an Exec
 * that records every call and answers from a script, and an in-memory KubeApi that records its calls.
 */
import { formatCommand, type Exec, type ExecOptions, type ExecResult, type Plan } from '../../exec/index.ts';
import { ExecError } from '../../exec/index.ts';
import { EnvironmentError } from '../../errors/index.ts';
import { KubeError } from '../../kube/errors.ts';
import type { ConfigPredicate, HeldLease, KubeApi, KubeDocument, PodRef } from '../../kube/index.ts';
import type { ProbeRequest, ProbeResult } from '../../probe/index.ts';

export interface RecordedCall {
  file: string;
  args: readonly string[];
  options: ExecOptions;
  line: string;
}

export type Answer = Partial<ExecResult> | Error | 'missing' | 'fail';

/** Answers by the first matching rule (a prefix of the command line), else success with no output. */
export class ScriptedExec implements Exec {
  readonly calls: RecordedCall[] = [];
  readonly rules: Array<{ prefix: string; answer: Answer | ((call: RecordedCall) => Answer | Promise<Answer>) }> = [];

  on(prefix: string, answer: Answer | ((call: RecordedCall) => Answer | Promise<Answer>)): this {
    this.rules.push({ prefix, answer });
    return this;
  }

  lines(): string[] {
    return this.calls.map((c) => c.line);
  }

  async run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const line = formatCommand(file, args);
    const call = { file, args, options, line };
    this.calls.push(call);
    // A rule matches the command line from its start, or after a directory (for /cache/.../kind).
    const rule = this.rules.find((r) => line.startsWith(r.prefix) || line.includes(`/${r.prefix}`));
    const answer = rule ? (typeof rule.answer === 'function' ? await rule.answer(call) : rule.answer) : {};
    if (answer === 'missing') throw new EnvironmentError(`${file}: command not found`);
    if (answer === 'fail') throw new ExecError(line, 1, 'scripted failure');
    if (answer instanceof Error) throw answer;
    return { stdout: answer.stdout ?? '', stderr: answer.stderr ?? '', exitCode: answer.exitCode ?? 0 };
  }
}

/** Records KubeApi calls (in the same Plan as the exec calls when given one). */
export class FakeKube implements KubeApi {
  readonly calls: string[] = [];
  readonly plan: Plan | null;
  readonly context: string;
  /** Per call name, an error to throw once. */
  readonly failures = new Map<string, Error>();
  onCall: ((name: string) => void | Promise<void>) | null = null;

  constructor(context: string, plan: Plan | null = null) {
    this.context = context;
    this.plan = plan;
  }

  private async record(text: string, name: string): Promise<void> {
    this.calls.push(text);
    this.plan?.add('api', text);
    await this.onCall?.(name);
    const failure = this.failures.get(name);
    if (failure) {
      this.failures.delete(name);
      throw failure;
    }
  }

  currentContext(): string {
    return this.context;
  }

  async apply(docs: KubeDocument[]): Promise<void> {
    await this.record(`apply ${docs.map((d) => `${d.kind}/${d.metadata.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata.name}`).join(' ')}`, 'apply');
  }

  async delete(docs: KubeDocument[]): Promise<void> {
    await this.record(`delete ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(' ')}`, 'delete');
  }

  async waitForRollout(namespace: string, deployment: string): Promise<void> {
    await this.record(`rollout ${namespace}/${deployment}`, 'waitForRollout');
  }

  pods: PodRef[] = [];

  async listPods(namespace: string): Promise<PodRef[]> {
    await this.record(`list pods ${namespace}`, 'listPods');
    return this.pods.filter((p) => p.namespace === namespace);
  }

  /** ConfigMap data by `namespace/name` (the marker lives at kube-system/podpath-cluster). */
  readonly configMaps = new Map<string, Record<string, string>>();
  /** What readConfigMapData throws instead of answering (an unreachable API server). */
  configMapError: Error | null = null;

  async readConfigMapData(namespace: string, name: string): Promise<Record<string, string> | null> {
    await this.record(`get ConfigMap/${namespace}/${name}`, 'readConfigMapData');
    if (this.configMapError) throw this.configMapError;
    return this.configMaps.get(`${namespace}/${name}`) ?? null;
  }

  /** Objects listObjects answers with, by `kind/namespace`. */
  readonly objects = new Map<string, KubeDocument[]>();

  async listObjects(apiVersion: string, kind: string, namespace: string): Promise<KubeDocument[]> {
    await this.record(`list ${kind}/${namespace}`, 'listObjects');
    return this.objects.get(`${kind}/${namespace}`) ?? [];
  }

  images: string[] = [];

  async deploymentImages(namespace: string, selector: string): Promise<string[]> {
    await this.record(`images ${namespace} ${selector}`, 'deploymentImages');
    return this.images;
  }

  /** Abort it to play a lease that another run took over. */
  readonly leaseLost = new AbortController();

  /** Set it to play a lease another live run holds: acquireLease refuses like the real client. */
  leaseHeldBy: string | null = null;

  async acquireLease(name: string, holder: string): Promise<HeldLease> {
    await this.record(`lease ${name} ${holder}`, 'acquireLease');
    if (this.leaseHeldBy) throw new KubeError(`lease kube-system/${name} is held by ${this.leaseHeldBy}; gave up after 0s`, { reason: 'LeaseHeld' });
    return { lost: this.leaseLost.signal, [Symbol.asyncDispose]: async () => void this.calls.push(`release ${name}`) };
  }

  // The bring-up never reads pods' logs or probes; these answer empty so a runner over this fake observes nothing.
  async logs(pod: PodRef, container: string): Promise<string> {
    await this.record(`logs ${pod.namespace}/${pod.name} ${container}`, 'logs');
    return '';
  }

  async probe(pod: PodRef, _request: ProbeRequest): Promise<ProbeResult[]> {
    await this.record(`probe ${pod.namespace}/${pod.name}`, 'probe');
    return [];
  }

  async configDump(pod: PodRef): Promise<unknown> {
    await this.record(`config dump ${pod.namespace}/${pod.name}`, 'configDump');
    return null;
  }

  async sidecarClusters(pod: PodRef): Promise<string> {
    await this.record(`clusters ${pod.namespace}/${pod.name}`, 'sidecarClusters');
    return '';
  }

  async waitForConfig(pod: PodRef, _predicate: ConfigPredicate): Promise<void> {
    await this.record(`wait for config ${pod.namespace}/${pod.name}`, 'waitForConfig');
  }

  async events(namespace: string, name: string): Promise<string[]> {
    await this.record(`events ${namespace}/${name}`, 'events');
    return [];
  }
}
