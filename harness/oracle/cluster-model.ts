/**
 * What a Kubernetes cluster would decide about a set of manifests, as the istiod oracle needs it:
 * the pods the workloads run (with the labels Istio's sidecar injector adds), pod IPs and Service
 * cluster IPs, the EndpointSlices/Endpoints the Kubernetes controllers derive, and the Services a
 * kind cluster with istioctl's minimal profile has besides the user's. One implementation, used by
 * `npm run oracle` (the bed, oracle/inputs.ts) and `podpath predict` (the user's manifests).
 *
 * Address ranges are kind's: pods in 10.244.0.0/16, Services in 10.96.0.0/12 (the platform
 * Services at 10.96.0.x, everything else from 10.96.1.1 on). Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubeDocument } from '../manifests/index.ts';
import type { OracleProxy } from './types.ts';

export interface ModelPod {
  name: string;
  namespace: string;
  /** The workload (Deployment, StatefulSet, ...) that runs the pod, or the pod's own name for a bare Pod. */
  workload: string;
  kind: string;
  ip: string;
  labels: Record<string, string>;
  /** Whether the pod gets a sidecar (the injector ran on it). */
  injected: boolean;
  /** The IP came from the manifests or the caller, not from the allocator. */
  ipGiven: boolean;
}

export interface ModelService {
  name: string;
  namespace: string;
  type: string;
  clusterIP: string | null;
  /** The cluster IP was assigned here (the manifest gave none). */
  ipAssigned: boolean;
  externalName: string | null;
  ports: Array<{ name: string; port: number; protocol: string; appProtocol: string | null }>;
  selector: Record<string, string> | null;
  platform: boolean;
}

export interface ClusterModel {
  kubernetes: KubeDocument[];
  /** Istio config (every *.istio.io object), one YAML stream, objects in kind/namespace/name order. */
  istioConfig: string;
  pods: ModelPod[];
  services: ModelService[];
  /** Objects the model does not use, as Kind/namespace/name. */
  ignored: string[];
}

export interface ClusterModelOptions {
  /** Pod IPs the caller fixes for a workload (`namespace/name`), one per replica; others are allocated. */
  podIps?: (workload: { namespace: string; name: string; kind: string }) => readonly string[] | undefined;
  /** What to do with kinds the model does not know: throw (the bed must be fully modelled) or list them in `ignored`. */
  unknownKinds?: 'throw' | 'ignore';
}

/** Services a kind cluster with istioctl's minimal profile has besides the workloads' own. */
export const PLATFORM_SERVICES: readonly KubeDocument[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }] } },
  {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod', istio: 'pilot' } },
    spec: { clusterIP: '10.96.0.20', selector: { app: 'istiod', istio: 'pilot' }, ports: [{ name: 'grpc-xds', port: 15010, protocol: 'TCP' }, { name: 'https-dns', port: 15012, protocol: 'TCP' }, { name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP' }, { name: 'http-monitoring', port: 15014, protocol: 'TCP' }] },
  },
];
export const PLATFORM_NAMESPACES: readonly string[] = ['default', 'kube-system', 'istio-system'];

/** First pod address the allocator hands out (kind's pod range), and the block each workload starts at. */
export const POD_RANGE = '10.244.0.0/16';
export const SERVICE_RANGE = '10.96.1.0 onwards (in 10.96.0.0/12)';
const POD_BASE = ipToInt('10.244.0.0');
const SERVICE_BASE = ipToInt('10.96.1.0');
/** Workload n (from 1) gets 10.244.0.(10n+1)...: replica r is 10n+r+1; a workload with more than 9 replicas takes more blocks. */
const BLOCK = 10;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
// Kinds a cluster stores that istiod's sidecar config does not depend on: dropped without comment.
const INERT_KINDS = new Set(['ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'CronJob', 'Ingress']);

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectKey(doc: KubeDocument): string {
  return `${doc.kind}/${doc.metadata.namespace ?? ''}/${doc.metadata.name}`;
}

export function isIstioConfig(doc: KubeDocument): boolean {
  return /\.istio\.io\//.test(doc.apiVersion);
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

/** The labels Istio's injector adds to a pod (pkg/kube/inject/webhook.go: tlsMode and the canonical service labels). */
export function injectorLabels(labels: Record<string, string>, workload: string): Record<string, string> {
  return {
    ...labels,
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workload,
    'service.istio.io/canonical-revision': labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
  };
}

/** Opted out of injection: `sidecar.istio.io/inject: "false"` on the pod, or `istio-injection: disabled` on its namespace. */
function optedOut(labels: Record<string, string>, annotations: Record<string, string>, namespace: KubeDocument | undefined): boolean {
  const pod = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  if (pod === 'false') return true;
  if (pod === 'true') return false;
  return namespace !== undefined && stringMap(namespace.metadata.labels)['istio-injection'] === 'disabled';
}

interface PodSource {
  doc: KubeDocument;
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  template: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  givenIp: string | null;
}

function podSource(doc: KubeDocument): PodSource | null {
  const namespace = doc.metadata.namespace ?? 'default';
  if (doc.kind === 'Pod') {
    const status = isRecord(doc.status) ? doc.status : {};
    const { name: _n, namespace: _ns, ...metadata } = doc.metadata;
    return { doc, kind: 'Pod', namespace, name: doc.metadata.name, replicas: 1, template: { metadata, spec: isRecord(doc.spec) ? doc.spec : {} }, givenIp: typeof status.podIP === 'string' ? status.podIP : null };
  }
  if (!WORKLOAD_KINDS.has(doc.kind)) return null;
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  // A DaemonSet runs one pod on the one node this model has; a Job its parallelism, at least one.
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : doc.kind === 'Job' && typeof spec.parallelism === 'number' ? spec.parallelism : 1;
  return {
    doc, kind: doc.kind, namespace, name: doc.metadata.name, replicas,
    template: { metadata: isRecord(template.metadata) ? template.metadata : {}, spec: isRecord(template.spec) ? template.spec : {} },
    givenIp: null,
  };
}

/**
 * Workloads in a stable order: by their namespace's place among the Namespace documents (namespaces
 * not declared after them, by name), then as they appear in the input.
 */
function orderWorkloads(sources: PodSource[], namespaces: readonly string[]): PodSource[] {
  const rank = (ns: string): [number, string] => {
    const i = namespaces.indexOf(ns);
    return i < 0 ? [namespaces.length, ns] : [i, ''];
  };
  return sources
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      const [ra, na] = rank(a.s.namespace);
      const [rb, nb] = rank(b.s.namespace);
      return ra - rb || na.localeCompare(nb) || a.i - b.i;
    })
    .map((x) => x.s);
}

function podsOf(source: PodSource, ips: readonly string[], ipGiven: boolean, namespaceDoc: KubeDocument | undefined): Array<{ pod: KubeDocument; info: ModelPod }> {
  const base = stringMap(source.template.metadata.labels);
  const annotations = stringMap(source.template.metadata.annotations);
  const injected = !optedOut(base, annotations, namespaceDoc);
  const podSpec = source.template.spec;
  return ips.map((ip, i) => {
    const name = source.kind === 'Pod' ? source.name : `${source.name}-${i}`;
    const own = source.kind === 'StatefulSet' ? { ...base, 'statefulset.kubernetes.io/pod-name': name } : base;
    const labels = injected ? injectorLabels(own, source.name) : own;
    const serviceAccountName = typeof podSpec.serviceAccountName === 'string' ? podSpec.serviceAccountName : 'default';
    const pod: KubeDocument = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: source.namespace, labels, annotations },
      spec: { ...podSpec, nodeName: 'podpath-control-plane', serviceAccountName },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '172.18.0.2', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    return { pod, info: { name, namespace: source.namespace, workload: source.name, kind: source.kind, ip, labels, injected, ipGiven } };
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
  if (!isRecord(spec.selector) || spec.type === 'ExternalName') return [];
  const selector = stringMap(spec.selector);
  const ns = service.metadata.namespace ?? 'default';
  const selected = pods.filter((p) => p.metadata.namespace === ns && Object.entries(selector).every(([k, v]) => stringMap(p.metadata.labels)[k] === v));
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

function serviceInfo(doc: KubeDocument, platform: boolean, ipAssigned: boolean): ModelService {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  return {
    name: doc.metadata.name,
    namespace: doc.metadata.namespace ?? 'default',
    type: typeof spec.type === 'string' ? spec.type : 'ClusterIP',
    clusterIP: typeof spec.clusterIP === 'string' ? spec.clusterIP : null,
    ipAssigned,
    externalName: typeof spec.externalName === 'string' ? spec.externalName : null,
    ports: (Array.isArray(spec.ports) ? spec.ports : []).filter(isRecord).map((p) => ({
      name: String(p.name ?? ''), port: Number(p.port), protocol: String(p.protocol ?? 'TCP'), appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : null,
    })),
    selector: isRecord(spec.selector) ? stringMap(spec.selector) : null,
    platform,
  };
}

/**
 * The cluster a set of manifests makes. Documents later in the list replace earlier ones with the
 * same kind/namespace/name (kubectl apply of the later file wins).
 */
export function clusterModel(input: readonly KubeDocument[], options: ClusterModelOptions = {}): ClusterModel {
  const byKey = new Map<string, KubeDocument>();
  for (const doc of input) byKey.set(objectKey(doc), doc);
  const docs = [...byKey.values()];
  const ignored: string[] = [];
  const declared = docs.filter((d) => d.kind === 'Namespace');
  const declaredNames = declared.map((d) => d.metadata.name);
  const sources: PodSource[] = [];
  const services: KubeDocument[] = [];
  const given: KubeDocument[] = [];
  const istio: KubeDocument[] = [];
  for (const doc of docs) {
    if (isIstioConfig(doc)) istio.push(doc);
    else if (doc.kind === 'Namespace') continue;
    else if (doc.kind === 'Service') services.push(doc);
    else if (doc.kind === 'Endpoints' || doc.kind === 'EndpointSlice') given.push(doc);
    else {
      const source = podSource(doc);
      if (source) sources.push(source);
      else if (INERT_KINDS.has(doc.kind)) continue;
      else if (options.unknownKinds === 'throw') throw new Error(`the cluster model does not model ${objectKey(doc)}`);
      else ignored.push(objectKey(doc));
    }
  }

  // Namespaces objects live in but no document declares: a cluster would refuse them, so they are assumed to exist.
  const used = [...services, ...given, ...istio, ...sources.map((s) => s.doc)].map((d) => d.metadata.namespace ?? 'default');
  const implied = [...new Set(used)].filter((ns) => !declaredNames.includes(ns) && !PLATFORM_NAMESPACES.includes(ns)).sort();
  const namespaces: KubeDocument[] = [
    ...PLATFORM_NAMESPACES.map((name): KubeDocument => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...declared,
    ...implied.map((name): KubeDocument => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  ];

  const takenPodIps = new Set(sources.flatMap((s) => (s.givenIp ? [s.givenIp] : [])));
  let block = 1;
  const podEntries: Array<{ pod: KubeDocument; info: ModelPod }> = [];
  for (const source of orderWorkloads(sources, declaredNames)) {
    const fixed = source.givenIp ? [source.givenIp] : options.podIps?.({ namespace: source.namespace, name: source.name, kind: source.kind });
    let ips: readonly string[];
    if (fixed) {
      if (fixed.length !== source.replicas) throw new Error(`${source.kind} ${source.namespace}/${source.name} has ${source.replicas} replicas but ${fixed.length} pod IPs were given`);
      ips = fixed;
    } else {
      const out: string[] = [];
      for (let r = 0; out.length < source.replicas; r++) {
        if (r > 0 && r % (BLOCK - 1) === 0) block++;
        const ip = intToIp(POD_BASE + BLOCK * block + (r % (BLOCK - 1)) + 1);
        if (!takenPodIps.has(ip)) out.push(ip);
      }
      block++;
      ips = out;
    }
    for (const ip of ips) takenPodIps.add(ip);
    const ns = declared.find((d) => d.metadata.name === source.namespace);
    podEntries.push(...podsOf(source, ips, fixed !== undefined, ns));
  }
  const pods = podEntries.map((e) => e.pod);

  // Cluster IPs in kind/namespace/name order; an ExternalName Service takes a number but no address.
  const takenServiceIps = new Set(services.map((s) => (isRecord(s.spec) && typeof s.spec.clusterIP === 'string' ? s.spec.clusterIP : '')));
  let next = 1;
  const sorted = [...services].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  const assigned = sorted.map((service) => {
    const spec = isRecord(service.spec) ? { ...service.spec } : {};
    let ip = intToIp(SERVICE_BASE + next++);
    while (takenServiceIps.has(ip)) ip = intToIp(SERVICE_BASE + next++);
    if (spec.type === 'ExternalName' || spec.clusterIP !== undefined) return { doc: { ...service, spec }, ipAssigned: false };
    spec.clusterIP = ip;
    return { doc: { ...service, spec }, ipAssigned: true };
  });
  const allServices = [...PLATFORM_SERVICES, ...assigned.map((a) => a.doc)];
  // Services that come with their own Endpoints/EndpointSlices keep them; the others get the controllers' ones.
  const hasOwn = new Set(given.map((g) => `${g.metadata.namespace ?? 'default'}/${g.kind === 'EndpointSlice' ? stringMap(g.metadata.labels)['kubernetes.io/service-name'] ?? '' : g.metadata.name}`));
  const derived = allServices.filter((s) => !hasOwn.has(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`)).flatMap((s) => endpointsOf(s, pods));

  return {
    kubernetes: [...namespaces, ...allServices, ...pods, ...derived, ...given],
    istioConfig: [...istio].sort((a, b) => objectKey(a).localeCompare(objectKey(b))).map((d) => stringify(d)).join('---\n'),
    pods: podEntries.map((e) => e.info),
    services: [...PLATFORM_SERVICES.map((s) => serviceInfo(s, true, false)), ...assigned.map((a) => serviceInfo(a.doc, false, a.ipAssigned))],
    ignored,
  };
}

/** The proxy record for a pod. */
export function proxyOf(pod: ModelPod, istioVersion: string): OracleProxy {
  return { pod: pod.name, namespace: pod.namespace, ip: pod.ip, labels: pod.labels, istioVersion };
}

/**
 * The hash of what istiod is given (the proxies' Istio version aside, which only says which minor
 * answered): goldens and build caches are keyed by it.
 */
export function inputsHash(parts: { kubernetes: KubeDocument[]; istioConfig: string; meshConfig: string; pilotEnv: Readonly<Record<string, string>>; proxies: Array<Omit<OracleProxy, 'istioVersion'>> }): string {
  const hashed = { kubernetes: parts.kubernetes, istioConfig: parts.istioConfig, meshConfig: parts.meshConfig, pilotEnv: parts.pilotEnv, proxies: parts.proxies };
  return createHash('sha256').update(JSON.stringify(hashed)).digest('hex');
}
