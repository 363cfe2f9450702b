/**
 * The bed as `podpath up` and the runner would make it, as input for the istiod oracle: computed
 * from manifests/ (base and extras), manifests/topology.ts, the scenario definitions and the mesh
 * settings harness/cluster/config.ts installs — never a second hand-written copy. Pure apart from
 * reading manifests.
 *
 * What the oracle adds, because a live cluster would decide it: pod names, pod and Service IPs
 * (fixed, kind-like), the pods the Deployments' ReplicaSets create with the labels Istio's
 * injector adds, the EndpointSlices/Endpoints the Kubernetes controllers derive, and the Services
 * kind and istioctl bring (kubernetes, kube-dns, istiod).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { baselineDocuments, extraDocuments, AGENT_HASH_ANNOTATION } from '../harness/manifests/index.ts';
import type { KubeDocument } from '../harness/kube/index.ts';
import { istioOperator } from '../harness/cluster/config.ts';
import { DEFAULT_CONNECT_TIMEOUT } from '../harness/runner/suite.ts';
import { extrasFor, type ProbeSpec, type Scenario, type WorkloadName } from '../harness/runner/scenario.ts';
import { SCENARIOS } from '../scenarios/index.ts';

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

/** Services a kind cluster with istioctl's minimal profile has besides the bed's own. */
const PLATFORM_SERVICES: KubeDocument[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }] } },
  {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod', istio: 'pilot' } },
    spec: { clusterIP: '10.96.0.20', selector: { app: 'istiod', istio: 'pilot' }, ports: [{ name: 'grpc-xds', port: 15010, protocol: 'TCP' }, { name: 'https-dns', port: 15012, protocol: 'TCP' }, { name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP' }, { name: 'http-monitoring', port: 15014, protocol: 'TCP' }] },
  },
];
const PLATFORM_NAMESPACES = ['default', 'kube-system', 'istio-system'];

/** The mesh config `podpath up` installs for suite runs (harness/cluster/config.ts, runner default connectTimeout). */
export function meshConfigYaml(): string {
  const operator = istioOperator({ logEncoding: 'text', connectTimeout: DEFAULT_CONNECT_TIMEOUT });
  return stringify((operator.spec as { meshConfig: unknown }).meshConfig);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function key(doc: KubeDocument): string {
  return `${doc.kind}/${doc.metadata.namespace ?? ''}/${doc.metadata.name}`;
}

function isIstioConfig(doc: KubeDocument): boolean {
  return /\.istio\.io\//.test(doc.apiVersion);
}

/** Applies extras over the baseline in order; an extra naming an existing object replaces it (podpath owns every field). */
async function bedDocuments(extras: readonly string[]): Promise<KubeDocument[]> {
  const docs = new Map<string, KubeDocument>();
  for (const doc of await baselineDocuments()) docs.set(key(doc), doc);
  for (const extra of extras) for (const doc of await extraDocuments(extra)) docs.set(key(doc), doc);
  return [...docs.values()];
}

function labelsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

/** The pods a Deployment's ReplicaSet runs, as the sidecar injector leaves them (its labels added). */
function podsOf(deployment: KubeDocument): Array<{ pod: KubeDocument; info: OraclePod }> {
  const spec = isRecord(deployment.spec) ? deployment.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const metadata = isRecord(template.metadata) ? template.metadata : {};
  const podSpec = isRecord(template.spec) ? template.spec : {};
  const workload = deployment.metadata.name as WorkloadName;
  const ips = POD_IPS[workload];
  if (!ips) throw new Error(`oracle/inputs.ts has no pod IPs for Deployment ${deployment.metadata.name}`);
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  if (replicas !== ips.length) throw new Error(`Deployment ${workload} has ${replicas} replicas but oracle/inputs.ts fixes ${ips.length} pod IPs`);
  const base = labelsOf(metadata.labels);
  // Labels istio's injector adds (pkg/kube/inject): tlsMode makes endpoints eligible for auto mTLS.
  const labels = {
    ...base,
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': base.app ?? workload,
    'service.istio.io/canonical-revision': base.version ?? 'latest',
  };
  const annotations = labelsOf(metadata.annotations);
  delete annotations[AGENT_HASH_ANNOTATION];
  return ips.map((ip, i) => {
    const name = `${workload}-${i}`;
    const namespace = deployment.metadata.namespace ?? 'default';
    const pod: KubeDocument = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels, annotations },
      spec: { ...podSpec, nodeName: 'podpath-control-plane', serviceAccountName: 'default' },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '172.18.0.2', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    return { pod, info: { name, namespace, workload, ip, labels } };
  });
}

function containerPort(pod: KubeDocument, name: string): number | undefined {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  for (const c of containers) {
    if (!isRecord(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) if (isRecord(p) && p.name === name && typeof p.containerPort === 'number') return p.containerPort;
  }
  return undefined;
}

/** EndpointSlice and Endpoints of a selector Service, as the Kubernetes controllers derive them. */
function endpointsOf(service: KubeDocument, pods: KubeDocument[]): KubeDocument[] {
  const spec = isRecord(service.spec) ? service.spec : {};
  if (!isRecord(spec.selector)) return [];
  const selector = labelsOf(spec.selector);
  const ns = service.metadata.namespace ?? 'default';
  const selected = pods.filter((p) => p.metadata.namespace === ns && Object.entries(selector).every(([k, v]) => labelsOf(p.metadata.labels)[k] === v));
  const ports = (Array.isArray(spec.ports) ? spec.ports : []).filter(isRecord).map((p) => {
    const target = p.targetPort ?? p.port;
    const port = typeof target === 'number' ? target : containerPort(selected[0] ?? service, String(target)) ?? Number(p.port);
    return { name: String(p.name ?? ''), port, protocol: String(p.protocol ?? 'TCP') };
  });
  const ipOf = (p: KubeDocument): string => String((p.status as { podIP: string }).podIP);
  const ref = (p: KubeDocument) => ({ kind: 'Pod', name: p.metadata.name, namespace: ns });
  const slice: KubeDocument = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service.metadata.name}-oracle`, namespace: ns, labels: { 'kubernetes.io/service-name': service.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: selected.map((p) => ({ addresses: [ipOf(p)], conditions: { ready: true, serving: true, terminating: false }, targetRef: ref(p), nodeName: 'podpath-control-plane' })),
    ports,
  };
  const endpoints: KubeDocument = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: service.metadata.name, namespace: ns },
    subsets: selected.length ? [{ addresses: selected.map((p) => ({ ip: ipOf(p), targetRef: ref(p), nodeName: 'podpath-control-plane' })), ports }] : [],
  };
  return [slice, endpoints];
}

/** Fixed ClusterIPs (kind's 10.96.0.0/12): the bed's Services by topology, extras after them in name order. */
function withClusterIp(service: KubeDocument, index: number): KubeDocument {
  const spec = isRecord(service.spec) ? { ...service.spec } : {};
  if (spec.type === 'ExternalName' || spec.clusterIP !== undefined) return { ...service, spec };
  spec.clusterIP = `10.96.1.${index + 1}`;
  return { ...service, spec };
}

export interface BedModel {
  kubernetes: KubeDocument[];
  istioConfig: string;
  pods: OraclePod[];
}

/** Everything the bed holds in one state, Kubernetes side and Istio side. */
export async function bedModel(extras: readonly string[]): Promise<BedModel> {
  const docs = await bedDocuments(extras);
  const namespaces: KubeDocument[] = [
    ...PLATFORM_NAMESPACES.map((name): KubeDocument => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...docs.filter((d) => d.kind === 'Namespace'),
  ];
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  const podEntries = deployments.flatMap(podsOf);
  const pods = podEntries.map((e) => e.pod);
  const services = [
    ...PLATFORM_SERVICES,
    ...docs.filter((d) => d.kind === 'Service' && !isIstioConfig(d)).sort((a, b) => key(a).localeCompare(key(b))).map(withClusterIp),
  ];
  const unknown = docs.filter((d) => !isIstioConfig(d) && !['Namespace', 'Deployment', 'Service', 'ConfigMap'].includes(d.kind));
  if (unknown.length) throw new Error(`oracle/inputs.ts does not model ${unknown.map(key).join(', ')}`);
  const istio = docs.filter(isIstioConfig).sort((a, b) => key(a).localeCompare(key(b)));
  return {
    kubernetes: [...namespaces, ...services, ...pods, ...services.flatMap((s) => endpointsOf(s, pods))],
    istioConfig: istio.map((d) => stringify(d)).join('---\n'),
    pods: podEntries.map((e) => e.info),
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
  const hashed = { kubernetes: bed.kubernetes, istioConfig: bed.istioConfig, meshConfig, pilotEnv: state.pilotEnv, proxies };
  const inputsHash = createHash('sha256').update(JSON.stringify(hashed)).digest('hex');
  return { inputsHash, kubernetes: bed.kubernetes, istioConfig: bed.istioConfig, meshConfig, proxies: proxies.map((p) => ({ ...p, istioVersion })) };
}
