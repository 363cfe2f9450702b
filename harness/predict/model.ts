/**
 * The user's manifests as istiod's input: the cluster model (harness/oracle/cluster-model.ts)
 * plus the mesh config, istiod's env and the one sidecar to generate for. Pure.
 */
import { parse, stringify } from 'yaml';
import { UsageError } from '../errors/index.ts';
import type { KubeDocument } from '../manifests/index.ts';
import { clusterModel, inputsHash, proxyOf, type ClusterModel, type ModelPod, type ModelService } from '../oracle/cluster-model.ts';
import type { OracleInput } from '../oracle/types.ts';
import { parseDestination } from '../envoy/index.ts';

export interface MeshConfigSource {
  /** YAML of a meshConfig block; '' is Istio's default (pkg/config/mesh DefaultMeshConfig). */
  meshConfig: string;
  /** istiod env found beside it (an IstioOperator's values.pilot.env). */
  pilotEnv: Record<string, string>;
  /** Where it came from, for the output: 'Istio default' or 'FILE (IstioOperator spec.meshConfig)'. */
  description: string;
}

export const ISTIO_DEFAULT_MESH: MeshConfigSource = { meshConfig: '', pilotEnv: {}, description: "Istio's default" };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function envOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

function pilotEnvOf(values: unknown): Record<string, string> {
  return isRecord(values) && isRecord(values.pilot) ? envOf(values.pilot.env) : {};
}

/**
 * A mesh config file: an IstioOperator (spec.meshConfig, spec.values.pilot.env), Helm values for
 * istiod (meshConfig, pilot.env), the `istio` ConfigMap (data.mesh), or a bare meshConfig block.
 */
export function parseMeshConfig(text: string, file: string): MeshConfigSource {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new UsageError(`predict: --mesh-config ${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return { meshConfig: '', pilotEnv: {}, description: `${file} (empty: Istio's default)` };
  if (!isRecord(value)) throw new UsageError(`predict: --mesh-config ${file} is not a YAML mapping`, { hint: 'Give an IstioOperator, or a meshConfig block (e.g. "connectTimeout: 1s").' });
  const block = (mesh: unknown, what: string, env: Record<string, string>): MeshConfigSource => {
    if (mesh !== undefined && mesh !== null && !isRecord(mesh)) throw new UsageError(`predict: --mesh-config ${file}: ${what} is not a mapping`);
    return { meshConfig: isRecord(mesh) && Object.keys(mesh).length ? stringify(mesh) : '', pilotEnv: env, description: `${file} (${what})` };
  };
  if (value.kind === 'IstioOperator') {
    const spec = isRecord(value.spec) ? value.spec : {};
    return block(spec.meshConfig, 'IstioOperator spec.meshConfig', pilotEnvOf(spec.values));
  }
  if (value.kind === 'ConfigMap') {
    const data = isRecord(value.data) ? value.data : {};
    if (typeof data.mesh !== 'string') throw new UsageError(`predict: --mesh-config ${file} is a ConfigMap without data.mesh`, { hint: "Give the `istio` ConfigMap of istio-system, or an IstioOperator." });
    return block(parse(data.mesh), 'ConfigMap data.mesh', {});
  }
  if ('meshConfig' in value) return block(value.meshConfig, 'meshConfig', pilotEnvOf(value));
  if (typeof value.apiVersion === 'string' && typeof value.kind === 'string') {
    throw new UsageError(`predict: --mesh-config ${file} is a ${value.kind}, not a mesh config`, { hint: 'Give an IstioOperator, the istio ConfigMap, or a meshConfig block.' });
  }
  return block(value, 'meshConfig block', {});
}

export interface WorkloadRef {
  namespace: string;
  name: string;
}

export function parseWorkloadRef(text: string, flag: string): WorkloadRef {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(text);
  if (!m) throw new UsageError(`predict: ${flag} '${text}' is not NAMESPACE/WORKLOAD`, { hint: 'e.g. --from manager/manager (the Deployment, StatefulSet or Pod that sends the traffic).' });
  return { namespace: m[1], name: m[3] };
}

/** `--pod-ip NAMESPACE/WORKLOAD=IP[,IP...]`: pod IPs the user fixes, one per replica. */
export function parsePodIps(values: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const ref = parseWorkloadRef(eq > 0 ? v.slice(0, eq) : v, '--pod-ip');
    const ips = v.slice(eq + 1).split(',').map((s) => s.trim());
    if (eq < 0 || ips.some((ip) => parseDestination(`${ip}:1`) === null)) throw new UsageError(`predict: --pod-ip '${v}' is not NAMESPACE/WORKLOAD=IP[,IP...]`);
    out.set(`${ref.namespace}/${ref.name}`, ips);
  }
  return out;
}

export interface PredictModel {
  cluster: ClusterModel;
  /** ServiceEntries by host, to say where a cluster comes from. */
  serviceEntries: Array<{ namespace: string; name: string; hosts: string[] }>;
  client: ModelPod;
  mesh: MeshConfigSource;
  pilotEnv: Record<string, string>;
  inputsHash: string;
  /** istiod's input, the proxy reporting this Istio release. */
  input(istioVersion: string): OracleInput;
}

/** The cluster the manifests make, and the sidecar of `from` (its first pod) to generate for. */
export function predictModel(documents: readonly KubeDocument[], options: { from: WorkloadRef; mesh: MeshConfigSource; pilotEnv: Record<string, string>; podIps?: Map<string, string[]> }): PredictModel {
  let cluster: ClusterModel;
  try {
    cluster = clusterModel(documents, { podIps: ({ namespace, name }) => options.podIps?.get(`${namespace}/${name}`) });
  } catch (error) {
    throw new UsageError(`predict: ${(error as Error).message}`);
  }
  for (const key of options.podIps?.keys() ?? []) {
    if (!cluster.pods.some((p) => `${p.namespace}/${p.workload}` === key)) throw new UsageError(`predict: --pod-ip names ${key}, which no manifest runs`);
  }
  const { namespace, name } = options.from;
  const client = cluster.pods.filter((p) => p.namespace === namespace && p.workload === name).sort((a, b) => a.name.localeCompare(b.name))[0];
  if (!client) {
    const known = [...new Set(cluster.pods.map((p) => `${p.namespace}/${p.workload}`))];
    throw new UsageError(`predict: --from ${namespace}/${name}: no Deployment, StatefulSet or Pod of that name in the manifests`, {
      hint: known.length ? `Workloads found: ${known.join(', ')}.` : 'The manifests hold no workloads: add the Deployment (or Pod) that sends the traffic, for its labels.',
    });
  }
  if (!client.injected) throw new UsageError(`predict: ${namespace}/${name} has no sidecar (sidecar.istio.io/inject=false, or its namespace has istio-injection=disabled)`, { hint: 'Only a workload with a sidecar has Istio outbound config.' });
  const pilotEnv = { ...options.mesh.pilotEnv, ...options.pilotEnv };
  const proxy = proxyOf(client, '');
  const { istioVersion: _v, ...hashedProxy } = proxy;
  const hash = inputsHash({ kubernetes: cluster.kubernetes, istioConfig: cluster.istioConfig, meshConfig: options.mesh.meshConfig, pilotEnv, proxies: [hashedProxy] });
  const serviceEntries = documents.filter((d) => d.kind === 'ServiceEntry' && /\.istio\.io\//.test(d.apiVersion)).map((d) => {
    const spec = isRecord(d.spec) ? d.spec : {};
    return { namespace: d.metadata.namespace ?? 'default', name: d.metadata.name, hosts: Array.isArray(spec.hosts) ? spec.hosts.map(String) : [] };
  });
  return {
    cluster,
    serviceEntries,
    client,
    mesh: options.mesh,
    pilotEnv,
    inputsHash: hash,
    input: (istioVersion) => ({ inputsHash: hash, kubernetes: cluster.kubernetes, istioConfig: cluster.istioConfig, meshConfig: options.mesh.meshConfig, proxies: [{ ...proxy, istioVersion }] }),
  };
}

export interface Destination {
  /** What the user gave (--dst, or the log). */
  given: string;
  /** IP:PORT the application dials. */
  dst: string;
  /** HTTP Host, when the traffic is HTTP. */
  host?: string;
  /** How a HOST:PORT became an address ('Service app/app, cluster IP ...'), or where a log showed it. */
  resolved?: string;
}

const CLUSTER_DOMAIN = 'svc.cluster.local';

/** The Service a DNS name names, from the client's namespace (the pod's DNS search path). */
export function serviceByName(services: readonly ModelService[], host: string, fromNamespace: string): ModelService | undefined {
  const h = host.replace(/\.$/, '').toLowerCase();
  const parts = h.split('.');
  let name: string;
  let ns: string;
  if (parts.length === 1) [name, ns] = [parts[0], fromNamespace];
  else if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc') || (parts.length === 5 && parts.slice(2).join('.') === CLUSTER_DOMAIN)) [name, ns] = [parts[0], parts[1]];
  else return undefined;
  return services.find((s) => s.name === name && s.namespace === ns);
}

function resolveHost(cluster: ClusterModel, host: string, fromNamespace: string, depth = 0): { ip: string; via: string } | null {
  const svc = serviceByName(cluster.services, host, fromNamespace);
  if (!svc || depth > 5) return null;
  if (svc.type === 'ExternalName' && svc.externalName) {
    const next = resolveHost(cluster, svc.externalName, fromNamespace, depth + 1);
    return next ? { ip: next.ip, via: `ExternalName ${svc.namespace}/${svc.name} → ${svc.externalName} → ${next.via}` } : null;
  }
  if (svc.clusterIP && svc.clusterIP !== 'None') return { ip: svc.clusterIP, via: `Service ${svc.namespace}/${svc.name} cluster IP ${svc.clusterIP}` };
  // Headless: DNS answers the pods' IPs; the first (by IP) stands for them.
  const pods = cluster.pods.filter((p) => svc.selector && p.namespace === svc.namespace && Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v)).sort((a, b) => a.ip.localeCompare(b.ip));
  return pods[0] ? { ip: pods[0].ip, via: `headless Service ${svc.namespace}/${svc.name}, pod ${pods[0].name} ${pods[0].ip}` } : null;
}

/** `IP:PORT`, `[IPv6]:PORT`, or `HOST:PORT` resolved the way the client pod's DNS would, within the manifests. */
export function resolveDestination(model: PredictModel, text: string, host?: string): Destination {
  const withHost = (d: Destination): Destination => (host === undefined ? d : { ...d, host });
  if (parseDestination(text)) return withHost({ given: text, dst: text });
  const m = /^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?\.?):(\d{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`predict: --dst '${text}' is not IP:PORT or HOST:PORT`, { hint: 'e.g. --dst 10.244.0.12:5701 or --dst app.app.svc.cluster.local:8080' });
  const found = resolveHost(model.cluster, m[1], model.client.namespace);
  if (!found) {
    throw new UsageError(`predict: --dst ${text}: ${m[1]} does not resolve to an address within the manifests`, { hint: 'Give the IP:PORT the application dials, or a Service name the manifests define (a headless one needs pods).' });
  }
  return withHost({ given: text, dst: `${found.ip}:${m[3]}`, resolved: found.via });
}
