/**
 * The parts of the input the rules reason about, extracted once: Services and ServiceEntries
 * with their ports, Sidecars, workloads' container ports, mesh settings found in the input
 * (IstioOperator, the `istio` ConfigMap, a root-namespace ProxyConfig), and who can see what.
 */
import { parse as parseYaml } from 'yaml';
import { field, num, seqItems, str, stringList, stringMap, type Resource, type Source } from './load.ts';
import { servicePortProtocol, protocolFromName, type IstioProtocol } from './protocol.ts';

export const DEFAULT_NAMESPACE = 'default';
const CLUSTER_DOMAIN = 'cluster.local';

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume',
  'StorageClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PriorityClass', 'IngressClass', 'APIService']);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Namespaced objects without metadata.namespace land in the current context's namespace: assume `default`. */
export function namespaceOf(r: Resource): string {
  return r.namespace ?? DEFAULT_NAMESPACE;
}

export function resourceId(r: Resource): string {
  return isClusterScoped(r.kind) ? `${r.kind}/${r.name}` : `${r.kind}/${namespaceOf(r)}/${r.name}`;
}

export interface ServicePort {
  port: number;
  name: string | null;
  appProtocol: string | null;
  protocol: IstioProtocol;
  targetPort: number | null;
  line: number;
}

export interface ServiceInfo {
  res: Resource;
  namespace: string;
  type: string;
  headless: boolean;
  externalName: string | null;
  ports: ServicePort[];
  /** From the networking.istio.io/exportTo annotation; null = mesh default. */
  exportTo: string[] | null;
  annotations: Record<string, string>;
  hostname: string;
}

export interface ServiceEntryPort {
  port: number;
  name: string | null;
  /** The ServiceEntry port's `protocol:` field, upper-cased; null when unset. */
  declared: string | null;
  line: number;
}

export interface ServiceEntryInfo {
  res: Resource;
  namespace: string;
  hosts: string[];
  addresses: string[];
  resolution: string;
  ports: ServiceEntryPort[];
  exportTo: string[] | null;
}

export interface SidecarInfo {
  res: Resource;
  namespace: string;
  hasSelector: boolean;
  /** null when the Sidecar has no egress section (all hosts visible). */
  egress: { port: number | null; hosts: string[] }[] | null;
}

export interface WorkloadInfo {
  res: Resource;
  namespace: string;
  containerPorts: number[];
  /** StatefulSet spec.serviceName. */
  serviceName: string | null;
}

export interface MeshSettings {
  rootNamespace: string;
  defaultServiceExportTo: string[] | null;
  /** Mesh-wide proxy metadata (meshConfig.defaultConfig.proxyMetadata, root ProxyConfig env). */
  proxyMetadata: Record<string, string>;
  pilotEnv: Record<string, string>;
  /** Whether any mesh configuration was found in the input (or given by flags). */
  known: boolean;
  /** Where the settings came from, for messages. */
  sources: string[];
}

export interface Model {
  services: ServiceInfo[];
  serviceEntries: ServiceEntryInfo[];
  sidecars: SidecarInfo[];
  workloads: WorkloadInfo[];
  namespaces: Map<string, Resource | null>;
  /** First resource seen in each namespace (anchor for namespace-level findings). */
  firstInNamespace: Map<string, Resource>;
  mesh: MeshSettings;
}

const WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'DeploymentConfig']);

function splitExportTo(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function readService(r: Resource): ServiceInfo {
  const s = r.source;
  const spec = field(s, r.node, 'spec');
  const annotations = stringMap(s, field(s, field(s, r.node, 'metadata'), 'annotations'));
  const ports: ServicePort[] = [];
  for (const p of seqItems(s, field(s, spec, 'ports'))) {
    const port = num(field(s, p, 'port'));
    if (port === null) continue;
    const name = str(field(s, p, 'name'));
    const appProtocol = str(field(s, p, 'appProtocol'));
    const transport = str(field(s, p, 'protocol'));
    ports.push({
      port, name, appProtocol, targetPort: num(field(s, p, 'targetPort')),
      protocol: servicePortProtocol({ port, name, transport, appProtocol }),
      line: s.lineOf(p, r.line),
    });
  }
  const namespace = namespaceOf(r);
  return {
    res: r, namespace, ports, annotations,
    type: str(field(s, spec, 'type')) ?? 'ClusterIP',
    headless: str(field(s, spec, 'clusterIP')) === 'None',
    externalName: str(field(s, spec, 'externalName')),
    exportTo: splitExportTo(annotations['networking.istio.io/exportTo']),
    hostname: `${r.name}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  };
}

function readServiceEntry(r: Resource): ServiceEntryInfo {
  const s = r.source;
  const spec = field(s, r.node, 'spec');
  const ports: ServiceEntryPort[] = [];
  for (const p of seqItems(s, field(s, spec, 'ports'))) {
    const port = num(field(s, p, 'number'));
    if (port === null) continue;
    const declared = str(field(s, p, 'protocol'));
    ports.push({ port, name: str(field(s, p, 'name')), declared: declared ? declared.toUpperCase() : null, line: s.lineOf(p, r.line) });
  }
  const exportNode = field(s, spec, 'exportTo');
  return {
    res: r, namespace: namespaceOf(r), ports,
    hosts: stringList(s, field(s, spec, 'hosts')),
    addresses: stringList(s, field(s, spec, 'addresses')),
    resolution: (str(field(s, spec, 'resolution')) ?? 'NONE').toUpperCase(),
    exportTo: exportNode === undefined ? null : stringList(s, exportNode),
  };
}

function readSidecar(r: Resource): SidecarInfo {
  const s = r.source;
  const spec = field(s, r.node, 'spec');
  const egressNode = field(s, spec, 'egress');
  const egress = egressNode === undefined ? null : seqItems(s, egressNode).map((e) => ({
    port: num(field(s, field(s, e, 'port'), 'number')),
    hosts: stringList(s, field(s, e, 'hosts')),
  }));
  return { res: r, namespace: namespaceOf(r), hasSelector: field(s, spec, 'workloadSelector') !== undefined, egress };
}

function podSpecOf(r: Resource): unknown {
  const s = r.source;
  const spec = field(s, r.node, 'spec');
  switch (r.kind) {
    case 'Pod': return spec;
    case 'CronJob': return field(s, field(s, field(s, field(s, spec, 'jobTemplate'), 'spec'), 'template'), 'spec');
    default: return field(s, field(s, spec, 'template'), 'spec');
  }
}

function readWorkload(r: Resource): WorkloadInfo {
  const s = r.source;
  const podSpec = podSpecOf(r);
  const containerPorts: number[] = [];
  for (const key of ['containers', 'initContainers']) {
    for (const c of seqItems(s, field(s, podSpec, key))) {
      for (const p of seqItems(s, field(s, c, 'ports'))) {
        const port = num(field(s, p, 'containerPort'));
        if (port !== null) containerPorts.push(port);
      }
    }
  }
  const serviceName = r.kind === 'StatefulSet' ? str(field(s, field(s, r.node, 'spec'), 'serviceName')) : null;
  return { res: r, namespace: namespaceOf(r), containerPorts, serviceName };
}

function envList(s: Source, node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of seqItems(s, node)) {
    const name = str(field(s, e, 'name'));
    const value = str(field(s, e, 'value'));
    if (name !== null && value !== null) out[name] = value;
  }
  return out;
}

/** meshConfig as plain data (from a ConfigMap's `mesh` string or an IstioOperator's spec.meshConfig). */
function applyMeshConfig(mesh: MeshSettings, config: unknown): void {
  if (config === null || typeof config !== 'object') return;
  const c = config as Record<string, unknown>;
  if (typeof c.rootNamespace === 'string') mesh.rootNamespace = c.rootNamespace;
  if (Array.isArray(c.defaultServiceExportTo)) mesh.defaultServiceExportTo = c.defaultServiceExportTo.filter((x): x is string => typeof x === 'string');
  const dc = c.defaultConfig;
  const pm = dc && typeof dc === 'object' ? (dc as Record<string, unknown>).proxyMetadata : undefined;
  if (pm && typeof pm === 'object') {
    for (const [k, v] of Object.entries(pm as Record<string, unknown>)) if (typeof v === 'string' || typeof v === 'boolean') mesh.proxyMetadata[k] = String(v);
  }
}

function nodeToJs(r: Resource, node: unknown): unknown {
  const n = r.source.deref(node) as { toJSON?: () => unknown } | undefined;
  return n && typeof n.toJSON === 'function' ? n.toJSON() : undefined;
}

function readMeshSource(r: Resource, mesh: MeshSettings): void {
  const s = r.source;
  const spec = field(s, r.node, 'spec');
  if (r.kind === 'IstioOperator') {
    applyMeshConfig(mesh, nodeToJs(r, field(s, spec, 'meshConfig')));
    const values = field(s, spec, 'values');
    Object.assign(mesh.pilotEnv, stringMap(s, field(s, field(s, values, 'pilot'), 'env')));
    Object.assign(mesh.pilotEnv, envList(s, field(s, field(s, field(s, field(s, spec, 'components'), 'pilot'), 'k8s'), 'env')));
    const compat = str(field(s, values, 'compatibilityVersion')) ?? str(field(s, spec, 'compatibilityVersion'));
    // compatibilityVersion 1.20 pins the pre-1.21 ExternalName behaviour (1.21-1.23 only; removed in 1.24).
    if (compat === '1.20' && mesh.pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS === undefined) mesh.pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS = 'false';
  } else if (r.kind === 'ConfigMap') {
    // istio-ca-root-cert and friends share the prefix: only a `mesh` key is mesh config.
    const text = str(field(s, field(s, r.node, 'data'), 'mesh'));
    if (text === null) return;
    try {
      applyMeshConfig(mesh, parseYaml(text));
    } catch {
      return; // a broken mesh string is istiod's problem to report; lint just learns nothing from it
    }
  } else if (r.kind === 'ProxyConfig') {
    Object.assign(mesh.proxyMetadata, stringMap(s, field(s, spec, 'environmentVariables')));
  }
  mesh.known = true;
  mesh.sources.push(resourceId(r));
}

function isMeshSource(r: Resource): boolean {
  if (r.kind === 'IstioOperator') return true;
  if (r.kind === 'ConfigMap') return (r.name === 'istio' || r.name.startsWith('istio-')) && r.namespace === 'istio-system';
  // Only the mesh-wide ProxyConfig (root namespace, no selector) applies to every sidecar.
  return r.kind === 'ProxyConfig' && r.namespace === 'istio-system' && field(r.source, field(r.source, r.node, 'spec'), 'selector') === undefined;
}

export function buildModel(resources: readonly Resource[], pilotEnv: Record<string, string> = {}): Model {
  const model: Model = {
    services: [], serviceEntries: [], sidecars: [], workloads: [],
    namespaces: new Map(), firstInNamespace: new Map(),
    mesh: { rootNamespace: 'istio-system', defaultServiceExportTo: null, proxyMetadata: {}, pilotEnv: {}, known: false, sources: [] },
  };
  for (const r of resources) {
    if (r.kind === 'Namespace') {
      model.namespaces.set(r.name, r);
      continue;
    }
    if (isClusterScoped(r.kind)) continue;
    const ns = namespaceOf(r);
    if (!model.namespaces.has(ns)) model.namespaces.set(ns, null);
    if (!model.firstInNamespace.has(ns)) model.firstInNamespace.set(ns, r);
    if (r.kind === 'Service') model.services.push(readService(r));
    else if (r.kind === 'ServiceEntry') model.serviceEntries.push(readServiceEntry(r));
    else if (r.kind === 'Sidecar') model.sidecars.push(readSidecar(r));
    else if (WORKLOAD_KINDS.has(r.kind)) model.workloads.push(readWorkload(r));
    else if (isMeshSource(r)) readMeshSource(r, model.mesh);
  }
  // Flags win over the input; ISTIO_META_* given with --pilot-env are proxy metadata.
  for (const [k, v] of Object.entries(pilotEnv)) {
    if (k.startsWith('ISTIO_META_')) model.mesh.proxyMetadata[k] = v;
    else model.mesh.pilotEnv[k] = v;
  }
  if (Object.keys(pilotEnv).length > 0) {
    model.mesh.known = true;
    model.mesh.sources.push('--pilot-env');
  }
  return model;
}

/** Port protocol for a ServiceEntry: the `protocol:` field, else (like istioctl analyze IST0134) unset. */
export function serviceEntryPortProtocol(p: ServiceEntryPort): IstioProtocol {
  return p.declared === null ? 'unknown' : protocolFromName(p.declared);
}

/** Something a client's sidecar may import: a Service or ServiceEntry. */
export interface Exported {
  namespace: string;
  hosts: string[];
  exportTo: string[] | null;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/**
 * Which namespaces' sidecars import which services, per Istio's rules: the service's exportTo
 * (annotation / spec.exportTo, else meshConfig.defaultServiceExportTo, else everywhere), then the
 * client namespace's Sidecar without workloadSelector (else the root namespace's), whose egress
 * hosts are `namespace/dnsName` (`*`, `.` = the client's own namespace, `~` = none).
 */
export class Visibility {
  private readonly byNamespace = new Map<string, SidecarInfo>();
  private readonly root: SidecarInfo | undefined;
  private readonly mesh: MeshSettings;

  constructor(model: Model) {
    this.mesh = model.mesh;
    for (const sc of model.sidecars) {
      if (!sc.hasSelector && !this.byNamespace.has(sc.namespace)) this.byNamespace.set(sc.namespace, sc);
    }
    this.root = this.byNamespace.get(model.mesh.rootNamespace);
  }

  /** The Sidecar that scopes `viewer`'s sidecars (namespace default, else mesh default). */
  sidecarFor(viewer: string): SidecarInfo | undefined {
    return this.byNamespace.get(viewer) ?? this.root;
  }

  exported(item: Exported, viewer: string): boolean {
    const exportTo = item.exportTo ?? this.mesh.defaultServiceExportTo ?? ['*'];
    for (const e of exportTo) {
      if (e === '*') return true;
      if (e === '.' && viewer === item.namespace) return true;
      if (e === viewer) return true;
    }
    return false;
  }

  imported(item: Exported, viewer: string, port: number): boolean {
    const sidecar = this.sidecarFor(viewer);
    if (!sidecar || sidecar.egress === null) return true;
    const listeners = sidecar.egress.filter((l) => l.port === null || l.port === port);
    for (const l of listeners) {
      for (const h of l.hosts) {
        const slash = h.indexOf('/');
        const ns = slash >= 0 ? h.slice(0, slash) : '*';
        const dns = slash >= 0 ? h.slice(slash + 1) : h;
        const nsOk = ns === '*' || (ns === '.' ? item.namespace === viewer : ns !== '~' && ns === item.namespace);
        if (nsOk && item.hosts.some((host) => hostMatches(dns, host))) return true;
      }
    }
    return false;
  }

  sees(item: Exported, viewer: string, port: number): boolean {
    return this.exported(item, viewer) && this.imported(item, viewer, port);
  }

  /** Whether the mesh has any default scoping: a root Sidecar or a restricted default exportTo. */
  hasMeshDefaultScope(): boolean {
    const d = this.mesh.defaultServiceExportTo;
    return this.root !== undefined || (d !== null && !d.includes('*'));
  }

  hasNamespaceSidecar(ns: string): boolean {
    return this.byNamespace.has(ns);
  }
}
