/**
 * The bed as `podpath up` and the runner would make it, as input for the istiod oracle: computed
 * from manifests/ (base and extras), manifests/topology.ts, the scenario definitions and the mesh
 * settings harness/cluster/config.ts installs — never a second hand-written copy. Pure apart from
 * reading manifests.
 *
 * What the oracle adds, because a live cluster would decide it, comes from the cluster model
 * `podpath predict` uses too (harness/oracle/cluster-model.ts): pod names, Service IPs, the pods
 * the Deployments' ReplicaSets create with the labels Istio's injector adds, the
 * EndpointSlices/Endpoints the Kubernetes controllers derive, and the Services kind and istioctl
 * bring (kubernetes, kube-dns, istiod). The bed's pod IPs are fixed here (POD_IPS).
 */
import { stringify } from 'yaml';
import { baselineDocuments, extraDocuments, withoutAgentStamp } from '../harness/manifests/index.ts';
import type { KubeDocument } from '../harness/kube/index.ts';
import { istioOperator } from '../harness/cluster/config.ts';
import { DEFAULT_CONNECT_TIMEOUT } from '../harness/runner/suite.ts';
import { extrasFor, type ProbeSpec, type Scenario, type WorkloadName } from '../harness/runner/scenario.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { clusterModel, inputsHash as hashInputs } from '../harness/oracle/cluster-model.ts';

/** A bed state: extras applied in order on the baseline, and the istiod env it was installed with. */
export interface BedState {
  id: string;
  extras: readonly string[];
  pilotEnv: Readonly<Record<string, string>>;
}

export interface OraclePod {
  name: string;
  namespace: string;
  workload: WorkloadName;
  ip: string;
  labels: Record<string, string>;
}

/** What the Go program reads on stdin (oracle/common/main.go, type Input). */
export interface OracleInput {
  inputsHash: string;
  kubernetes: KubeDocument[];
  istioConfig: string;
  meshConfig: string;
  proxies: Array<{ pod: string; namespace: string; ip: string; labels: Record<string, string>; istioVersion: string }>;
}

/** Fixed pod IPs, like kind's 10.244.0.0/16 pod range: index = replica number. */
export const POD_IPS: Readonly<Record<WorkloadName, readonly string[]>> = {
  manager: ['10.244.0.11', '10.244.0.12'],
  app: ['10.244.0.21'],
  idle: ['10.244.0.31'],
};

/** The mesh config `podpath up` installs for suite runs (harness/cluster/config.ts, runner default connectTimeout). */
export function meshConfigYaml(): string {
  const operator = istioOperator({ logEncoding: 'text', connectTimeout: DEFAULT_CONNECT_TIMEOUT });
  return stringify((operator.spec as { meshConfig: unknown }).meshConfig);
}

function key(doc: KubeDocument): string {
  return `${doc.kind}/${doc.metadata.namespace ?? ''}/${doc.metadata.name}`;
}

/** Applies extras over the baseline in order; an extra naming an existing object replaces it (podpath owns every field). */
async function bedDocuments(extras: readonly string[]): Promise<KubeDocument[]> {
  const docs = new Map<string, KubeDocument>();
  for (const doc of await baselineDocuments()) docs.set(key(doc), doc);
  for (const extra of extras) for (const doc of await extraDocuments(extra)) docs.set(key(doc), doc);
  return [...docs.values()];
}

export interface BedModel {
  kubernetes: KubeDocument[];
  istioConfig: string;
  pods: OraclePod[];
}

/** Everything the bed holds in one state, Kubernetes side and Istio side, with the bed's fixed pod IPs. */
export async function bedModel(extras: readonly string[]): Promise<BedModel> {
  const docs = (await bedDocuments(extras)).map(withoutAgentStamp);
  const model = clusterModel(docs, {
    unknownKinds: 'throw',
    podIps: ({ name, kind }) => {
      const ips = kind === 'Deployment' ? POD_IPS[name as WorkloadName] : undefined;
      if (!ips) throw new Error(`oracle/inputs.ts has no pod IPs for ${kind} ${name}`);
      return ips;
    },
  });
  return {
    kubernetes: model.kubernetes,
    istioConfig: model.istioConfig,
    pods: model.pods.map((p) => ({ name: p.name, namespace: p.namespace, workload: p.workload as WorkloadName, ip: p.ip, labels: p.labels })),
  };
}

/** The pod a probe runs from (the first replica of its workload). */
export function clientPod(pods: readonly OraclePod[], from: WorkloadName): OraclePod {
  const pod = pods.find((p) => p.workload === from);
  if (!pod) throw new Error(`no pod of workload ${from} in the bed`);
  return pod;
}

/** The address a probe dials, as the runner resolves it on a live bed (pod targets only). */
export function probeDestination(pods: readonly OraclePod[], probe: ProbeSpec): string | null {
  const client = clientPod(pods, probe.from);
  if ('service' in probe.to) return null;
  const target = probe.to.pod === 'other-manager'
    ? pods.find((p) => p.workload === 'manager' && p.name !== client.name)
    : pods.find((p) => p.workload === (probe.to as { pod: WorkloadName }).pod);
  return target ? `${target.ip}:${probe.port}` : null;
}

function envId(env: Readonly<Record<string, string>>): string {
  return Object.entries(env).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
}

export function stateId(extras: readonly string[], pilotEnv: Readonly<Record<string, string>>): string {
  const e = envId(pilotEnv);
  return `${extras.length ? extras.join('+') : 'baseline'}${e ? `@${e}` : ''}`;
}

/** The pilot env a scenario's row needs on top of the scenario's own (rows with pilotEnv describe other beds). */
export function rowEnv(scenario: Scenario, rowPilotEnv: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return { ...(scenario.mesh?.pilotEnv ?? {}), ...(rowPilotEnv ?? {}) };
}

/** Every bed state the seed suite uses: each scenario's extras under its own env and each env one of its rows names. */
export function bedStates(scenarios: readonly Scenario[] = SCENARIOS): BedState[] {
  const states = new Map<string, BedState>();
  const add = (extras: readonly string[], pilotEnv: Record<string, string>): void => {
    const id = stateId(extras, pilotEnv);
    if (!states.has(id)) states.set(id, { id, extras: [...extras], pilotEnv });
  };
  add([], {});
  for (const s of scenarios) {
    const extras = extrasFor(s);
    add(extras, rowEnv(s, undefined));
    for (const row of [...s.expect, ...s.probes.flatMap((p) => p.expect ?? [])]) if (row.pilotEnv) add(extras, rowEnv(s, row.pilotEnv));
  }
  return [...states.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Client workloads the seed suite probes from. */
export function clientWorkloads(scenarios: readonly Scenario[] = SCENARIOS): WorkloadName[] {
  return [...new Set(scenarios.flatMap((s) => s.probes.map((p) => p.from)))].sort();
}

/** The input for one state (for every client), with its hash; istioVersion is the proxy's, set per minor. */
export async function oracleInput(state: BedState, istioVersion: string, clients: readonly WorkloadName[] = clientWorkloads()): Promise<OracleInput> {
  const bed = await bedModel(state.extras);
  const meshConfig = meshConfigYaml();
  const proxies = clients.map((w) => {
    const p = clientPod(bed.pods, w);
    return { pod: p.name, namespace: p.namespace, ip: p.ip, labels: p.labels };
  });
  const inputsHash = hashInputs({ kubernetes: bed.kubernetes, istioConfig: bed.istioConfig, meshConfig, pilotEnv: state.pilotEnv, proxies });
  return { inputsHash, kubernetes: bed.kubernetes, istioConfig: bed.istioConfig, meshConfig, proxies: proxies.map((p) => ({ ...p, istioVersion })) };
}
