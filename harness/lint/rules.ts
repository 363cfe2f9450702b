/**
 * The lint rules (docs/lint.md). Each reads the Model built in one pass; port collisions are found by
 * grouping ports by number first and checking visibility only inside a group (no pair loops).
 */
import { SEVERITY_ORDER, type Finding, type Severity } from './types.ts';
import { envBool, dnsAutoAllocateDefault, externalNameAliasFlagRead, externalNameCreatesListener, parseIstioVersion } from './istio-behaviour.ts';
import { isCatchAllProtocol, isHttpProtocol, PROTOCOL_PREFIXES } from './protocol.ts';
import { resourceId, serviceEntryPortProtocol, Visibility, type Exported, type Model, type ServiceInfo, type ServiceEntryInfo } from './model.ts';
import type { Resource } from './load.ts';

export interface RuleOptions {
  istio?: string;
}

/** Annotation that marks a Service whose pods are called directly by pod IP or per-pod name (PP006). */
export const DIRECT_POD_ANNOTATION = 'podpath.io/direct-pod-traffic';

const SEED = 'docs/lint.md#the-seed-incident';
const MAX_NAMES = 8;

interface PortUser {
  namespace: string;
  id: string;
  res: Resource;
}

function names(list: string[]): string {
  const unique = [...new Set(list)];
  return unique.length <= MAX_NAMES ? unique.join(', ') : `${unique.slice(0, MAX_NAMES).join(', ')} and ${unique.length - MAX_NAMES} more`;
}

export class Context {
  readonly findings: Finding[] = [];
  readonly vis: Visibility;
  readonly namespaces: string[];
  /** Port number → namespace → the Services (port or targetPort) and workloads (containerPort) that use it. */
  readonly portUsers = new Map<number, Map<string, PortUser[]>>();
  readonly model: Model;
  readonly options: RuleOptions;

  constructor(model: Model, options: RuleOptions) {
    this.model = model;
    this.options = options;
    this.vis = new Visibility(model);
    this.namespaces = [...model.namespaces.keys()];
    const add = (port: number, user: PortUser): void => {
      let byNs = this.portUsers.get(port);
      if (byNs === undefined) this.portUsers.set(port, (byNs = new Map()));
      const list = byNs.get(user.namespace);
      if (list === undefined) byNs.set(user.namespace, [user]);
      else if (list[list.length - 1].res !== user.res) list.push(user);
    };
    for (const s of model.services) {
      if (s.type === 'ExternalName') continue; // an ExternalName has no pods of its own
      const user = { namespace: s.namespace, id: resourceId(s.res), res: s.res };
      for (const p of s.ports) {
        add(p.port, user);
        if (p.targetPort !== null && p.targetPort !== p.port) add(p.targetPort, user);
      }
    }
    for (const w of model.workloads) {
      const user = { namespace: w.namespace, id: resourceId(w.res), res: w.res };
      for (const port of w.containerPorts) add(port, user);
    }
  }

  /** The reporter `rule.match` gets: its findings carry the rule's id and name, never a severity above the rule's. */
  reporter(rule: LintRule): Report {
    return (severity, res, line, message, fix) => {
      // A rule that reports above its record's severity makes its docs row and --help lie.
      if (SEVERITY_ORDER[severity] < SEVERITY_ORDER[rule.severity]) throw new Error(`${rule.id} reported ${severity}, above its record's ${rule.severity}`);
      this.findings.push({ rule: rule.id, name: rule.name, severity, resource: resourceId(res), file: res.file, line, message, fix });
    };
  }

  viewers(item: Exported, port: number): string[] {
    return this.namespaces.filter((ns) => this.vis.sees(item, ns, port));
  }

  /**
   * Severity of a wildcard listener on `port`: error when it reaches another namespace whose own
   * Services or pods use the port (their pod-to-pod traffic gets captured: the seed incident),
   * warning when it stays in its own namespace or nobody else in the input uses the port.
   */
  catchAllImpact(item: Exported, port: number, self: Resource): { severity: Severity; detail: string } {
    const viewers = this.viewers(item, port);
    const byNs = this.portUsers.get(port);
    const cross: PortUser[] = [];
    let own: PortUser[] = [];
    for (const ns of viewers) {
      const users = byNs?.get(ns);
      if (!users) continue;
      if (ns === item.namespace) own = users.filter((u) => u.res !== self);
      else for (const u of users) cross.push(u);
    }
    const seenBy = viewers.length ? `sidecars in namespace${viewers.length > 1 ? 's' : ''} ${names(viewers)} get it` : 'no namespace in the input imports it';
    if (cross.length) {
      return { severity: 'error', detail: `${seenBy}; ${names(cross.map((u) => u.id))} use${cross.length === 1 ? 's' : ''} port ${port} there, so pod-to-pod connections to it are captured` };
    }
    if (own.length) {
      return { severity: 'warning', detail: `${seenBy}; only its own namespace uses port ${port} (${names(own.map((u) => u.id))}): pod-to-pod connections from ${item.namespace} on ${port} are captured` };
    }
    return { severity: 'warning', detail: `${seenBy}; nothing else in the input uses port ${port}, but any workload added later that does will be captured` };
  }
}

function serviceExported(s: ServiceInfo): Exported {
  return { namespace: s.namespace, hosts: [s.hostname], exportTo: s.exportTo };
}

function entryExported(e: ServiceEntryInfo): Exported {
  return { namespace: e.namespace, hosts: e.hosts, exportTo: e.exportTo };
}

function portLabel(port: number, name: string | null): string {
  return name ? `${port} (${name})` : `${port} (unnamed)`;
}

/** What ExternalName ports do on the version in hand: true, false, 'unknown', or null when --istio was not given. */
function externalNameBehaviour(ctx: Context): boolean | 'unknown' | null {
  return ctx.options.istio === undefined ? null : externalNameCreatesListener(ctx.options.istio, ctx.model.mesh.pilotEnv);
}

function versionText(ctx: Context, behaviour: boolean | 'unknown' | null): string {
  if (behaviour === null) return 'with no --istio, podpath assumes a version that builds ExternalName listeners (<= 1.20, or 1.21-1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false)';
  const flag = ctx.model.mesh.pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS;
  if (flag === undefined) return `on Istio ${ctx.options.istio}`;
  // istio/istio 1.24.0 pilot/pkg/serviceregistry/kube/conversion.go: Alias unconditionally, the env is never read.
  const v = parseIstioVersion(ctx.options.istio ?? '');
  const late = v !== null && (v.major > 1 || v.minor >= 24);
  const note = externalNameAliasFlagRead(ctx.options.istio ?? '') === false ? (late ? ' (istiod no longer reads that flag from 1.24)' : ' (istiod reads that flag only from 1.20)') : '';
  return `on Istio ${ctx.options.istio} with ENABLE_EXTERNAL_NAME_ALIAS=${flag}${note}`;
}

function pp001(ctx: Context, add: Report): void {
  const behaviour = externalNameBehaviour(ctx);
  for (const s of ctx.model.services) {
    if (s.type !== 'ExternalName' || s.ports.length === 0) continue;
    const target = s.externalName ?? '(no externalName)';
    const catchAll = s.ports.filter((p) => isCatchAllProtocol(p.protocol));
    if (catchAll.length === 0) {
      // HTTP ports route by Host on every version: the version decides nothing here, so say the same thing on all.
      add('info', s.res, s.res.line,
        `ExternalName declares only HTTP ports (${s.ports.map((p) => portLabel(p.port, p.name)).join(', ')}): on no Istio version do they make a catch-all (HTTP routes by Host, so a pod-IP Host still falls through to passthrough); ${behaviour === false ? `${versionText(ctx, behaviour)} they are ignored altogether (ExternalName is an alias of ${target})` : 'Istio >= 1.21 ignores them altogether (ExternalName is an alias)'}.`,
        'Remove spec.ports if nothing needs them.');
      continue;
    }
    if (behaviour === false) {
      add('info', s.res, s.res.line,
        `ExternalName declares ports ${s.ports.map((p) => p.port).join(', ')}; ${versionText(ctx, behaviour)}, ExternalName is an alias of ${target} and its ports are ignored (no listener), but the same manifest on Istio <= 1.20 (or 1.21-1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false) makes its non-HTTP port${catchAll.length > 1 ? 's' : ''} ${catchAll.map((p) => p.port).join(', ')} a mesh-wide catch-all: the behaviour changed in 1.21 (ExternalName became an alias).`,
        'Remove spec.ports: an ExternalName needs none. See ' + SEED);
      continue;
    }
    for (const p of catchAll) {
      const impact = ctx.catchAllImpact(serviceExported(s), p.port, s.res);
      const severity: Severity = behaviour === 'unknown' ? 'warning' : impact.severity;
      const unknownNote = behaviour === 'unknown' ? ` ('${ctx.options.istio}' is not a version podpath can read, so it assumes the listener)` : '';
      add(severity, s.res, p.line,
        `ExternalName to ${target} declares ${p.protocol === 'unknown' ? 'non-HTTP' : p.protocol.toUpperCase()} port ${portLabel(p.port, p.name)}: ${versionText(ctx, behaviour)}${unknownNote}, istiod builds a 0.0.0.0_${p.port} listener whose catch-all chain sends every connection on ${p.port}, to any IP including pod IPs, to ${target}:${p.port}; ${impact.detail}.`,
        `Drop port ${p.port} from ${s.res.name} (an ExternalName needs no ports); or use a VirtualService routing to ${target} instead of an ExternalName; or scope it with the annotation networking.istio.io/exportTo: "." or a Sidecar limiting egress hosts in the client namespaces; or run Istio >= 1.21 without ENABLE_EXTERNAL_NAME_ALIAS=false. See ${SEED}`);
    }
  }
}

type Known = boolean | 'unknown';

function dnsCapture(ctx: Context): Known {
  const explicit = envBool(ctx.model.mesh.proxyMetadata.ISTIO_META_DNS_CAPTURE);
  if (explicit !== undefined) return explicit;
  // Off by default in sidecar mode on every version; only unknown when we know nothing of the mesh.
  return ctx.options.istio !== undefined || ctx.model.mesh.known ? false : 'unknown';
}

function dnsAutoAllocate(ctx: Context): Known {
  const { proxyMetadata, pilotEnv } = ctx.model.mesh;
  if (envBool(proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE) === true) return true;
  const explicit = envBool(pilotEnv.PILOT_ENABLE_IP_AUTOALLOCATE);
  if (explicit !== undefined) return explicit;
  return ctx.options.istio !== undefined ? dnsAutoAllocateDefault(ctx.options.istio) : 'unknown';
}

/** Resolutions whose address-less TCP ports get a 0.0.0.0_PORT listener (istioctl analyze IST0134: "all traffic on the port ... is matched, regardless of the host"). */
const WILDCARD_RESOLUTIONS = new Set(['DNS', 'DNS_ROUND_ROBIN', 'STATIC', 'NONE']);

function pp002(ctx: Context, add: Report): void {
  const capture = dnsCapture(ctx);
  const allocate = dnsAutoAllocate(ctx);
  for (const e of ctx.model.serviceEntries) {
    if (!WILDCARD_RESOLUTIONS.has(e.resolution) || e.addresses.length > 0) continue;
    for (const p of e.ports) {
      const protocol = serviceEntryPortProtocol(p);
      if (!isCatchAllProtocol(protocol)) continue;
      const impact = ctx.catchAllImpact(entryExported(e), p.port, e.res);
      const hosts = e.hosts.join(', ') || '(no hosts)';
      const base = `ServiceEntry (resolution ${e.resolution}, no addresses) for ${hosts} has ${protocol === 'unknown' ? 'a port without protocol' : `a ${protocol.toUpperCase()} port`} ${portLabel(p.port, p.name)}`;
      if (e.resolution === 'NONE') {
        // istiod never auto-allocates for NONE (it could not know the address dialled: serviceentry controller's autoAllocateIPs).
        // The cluster is ORIGINAL_DST, so connections still reach the address dialled: never the seed's capture, so never an error.
        add(impact.severity === 'error' ? 'warning' : 'info', e.res, p.line,
          `${base}: on every Istio version istiod builds a 0.0.0.0_${p.port} listener for it (address auto-allocation never applies to NONE). Its cluster forwards to the original destination, so connections on ${p.port} still reach the address dialled, but all of them are this ServiceEntry's traffic: its DestinationRule (TLS mode, connection pool) applies and telemetry names ${hosts}; ${impact.detail.split(';')[0]}${impact.severity === 'error' ? `, where other workloads use port ${p.port}` : ''}.`,
          `Give the ServiceEntry addresses (the IPs or CIDR it is for), declare the port's protocol as HTTP or TLS if it is, or scope it with exportTo / Sidecar egress hosts. See ${SEED}`);
        continue;
      }
      const target = e.resolution === 'STATIC' ? 'its STATIC endpoints' : 'the DNS cluster';
      const fix = `Give the ServiceEntry addresses (a VIP), declare the port's protocol as HTTP or TLS if it is, enable DNS capture with auto-allocation (ISTIO_META_DNS_CAPTURE=true; auto-allocation is on by default from Istio 1.25, before that ISTIO_META_DNS_AUTO_ALLOCATE=true), or scope it with exportTo / Sidecar egress hosts. See ${SEED}`;
      let severity: Severity;
      let why: string;
      if (capture === true && allocate === true) {
        severity = 'info';
        why = `DNS capture and address auto-allocation are on, so the listener binds the allocated address; only clients that bypass the sidecar's DNS proxy still hit the 0.0.0.0_${p.port} catch-all`;
      } else if (capture === false || allocate === false) {
        severity = impact.severity;
        why = `without ${capture === false ? 'DNS capture' : 'address auto-allocation'} istiod builds a 0.0.0.0_${p.port} listener whose catch-all chain sends every connection on ${p.port} to ${target}; ${impact.detail}`;
      } else {
        severity = 'warning';
        why = `unless DNS capture with auto-allocation is on (not known from the input: give --istio, --pilot-env or the mesh config), istiod builds a 0.0.0.0_${p.port} catch-all on every version; ${impact.detail}`;
      }
      add(severity, e.res, p.line, `${base}: ${why}.`, fix);
    }
  }
}

interface PortEntry {
  item: Exported;
  res: Resource;
  id: string;
  line: number;
  /** Makes a wildcard (0.0.0.0) listener rather than one on its own VIP. */
  wildcard: boolean;
}

function pp003(ctx: Context, add: Report): void {
  const behaviour = externalNameBehaviour(ctx);
  const byPort = new Map<number, PortEntry[]>();
  const push = (port: number, entry: PortEntry): void => {
    const list = byPort.get(port);
    if (list) list.push(entry);
    else byPort.set(port, [entry]);
  };
  for (const s of ctx.model.services) {
    const isExternal = s.type === 'ExternalName';
    if (isExternal && behaviour === false) continue; // an alias has no listener of its own
    for (const p of s.ports) {
      if (!isCatchAllProtocol(p.protocol)) continue;
      push(p.port, { item: serviceExported(s), res: s.res, id: resourceId(s.res), line: p.line, wildcard: isExternal });
    }
  }
  for (const e of ctx.model.serviceEntries) {
    for (const p of e.ports) {
      if (!isCatchAllProtocol(serviceEntryPortProtocol(p))) continue;
      const wildcard = e.addresses.length === 0 && WILDCARD_RESOLUTIONS.has(e.resolution);
      push(p.port, { item: entryExported(e), res: e.res, id: resourceId(e.res), line: p.line, wildcard });
    }
  }
  for (const [port, entries] of byPort) {
    if (entries.length < 2) continue;
    const spread = new Set(entries.map((e) => e.item.namespace));
    if (spread.size < 2) continue;
    const colliding = new Set<PortEntry>();
    const viewersOf = new Map<PortEntry, string[]>();
    for (const viewer of ctx.namespaces) {
      const visible = entries.filter((e) => ctx.vis.sees(e.item, viewer, port));
      if (new Set(visible.map((e) => e.item.namespace)).size < 2) continue;
      for (const e of visible) {
        colliding.add(e);
        const list = viewersOf.get(e);
        if (list) list.push(viewer);
        else viewersOf.set(e, [viewer]);
      }
    }
    if (colliding.size === 0) continue;
    const all = [...colliding];
    const severity: Severity = all.some((e) => e.wildcard) ? 'warning' : 'info';
    const perNamespace = new Map<string, number>();
    for (const e of all) perNamespace.set(e.item.namespace, (perNamespace.get(e.item.namespace) ?? 0) + 1);
    for (const e of all) {
      // Name the first few others and count the rest: listing all would be quadratic in output.
      const others: string[] = [];
      for (const o of all) {
        if (o.item.namespace === e.item.namespace) continue;
        if (others.length === MAX_NAMES) break;
        others.push(o.id);
      }
      const more = all.length - (perNamespace.get(e.item.namespace) ?? 0) - others.length;
      add(severity, e.res, e.line,
        `TCP port ${port} is shared with ${others.join(', ')}${more > 0 ? ` and ${more} more` : ''} in other namespaces, and sidecars in ${names(viewersOf.get(e) ?? [])} see them together` +
          (severity === 'warning' ? `; one of them has no address of its own, so its 0.0.0.0_${port} listener can capture the others' pod-to-pod traffic.` : '; each has its own VIP today, but one ExternalName, ServiceEntry without addresses or headless change away from a collision.'),
        'Use distinct TCP port numbers per service where you can, scope services with networking.istio.io/exportTo, add Sidecar resources limiting egress hosts, or use TLS with SNI so Envoy can tell them apart. See ' + SEED);
    }
  }
}

function pp004(ctx: Context, add: Report): void {
  for (const s of ctx.model.services) {
    if (s.type === 'ExternalName') continue; // PP001 covers ExternalName ports
    for (const p of s.ports) {
      if (p.protocol !== 'unknown' || p.appProtocol) continue;
      add('warning', s.res, p.line,
        `port ${portLabel(p.port, p.name)} has no Istio protocol prefix and no appProtocol: Istio sniffs the protocol (HTTP vs TCP) on every connection, which adds latency to server-first protocols and changes how pod-IP traffic is routed.`,
        `Name it <protocol>[-suffix] (one of ${PROTOCOL_PREFIXES.join(', ')}), e.g. tcp-${p.name ?? 'app'}, or set appProtocol.`);
    }
  }
}

function pp005(ctx: Context, add: Report): void {
  if (ctx.vis.hasMeshDefaultScope()) return;
  const active = new Set<string>();
  for (const s of ctx.model.services) active.add(s.namespace);
  for (const w of ctx.model.workloads) active.add(w.namespace);
  for (const ns of ctx.namespaces) {
    if (!active.has(ns) || ns === ctx.model.mesh.rootNamespace || ctx.vis.hasNamespaceSidecar(ns)) continue;
    const anchor = ctx.model.namespaces.get(ns) ?? ctx.model.firstInNamespace.get(ns);
    if (!anchor) continue;
    add('info', anchor, anchor.line,
      `namespace ${ns} has no Sidecar and the input sets no mesh-wide scope (root-namespace Sidecar or meshConfig.defaultServiceExportTo): its sidecars import every Service in the mesh, so any namespace's ExternalName or ServiceEntry can add listeners to them.`,
      `Add a Sidecar in ${ns} with egress hosts limited to what it calls (e.g. "./*" and "istio-system/*"), or set meshConfig.defaultServiceExportTo: ["."]. See ${SEED}`);
  }
}

function pp006(ctx: Context, add: Report): void {
  const statefulSetServices = new Set<string>();
  for (const w of ctx.model.workloads) if (w.serviceName) statefulSetServices.add(`${w.namespace}/${w.serviceName}`);
  for (const s of ctx.model.services) {
    if (s.headless || s.type === 'ExternalName') continue;
    const httpPorts = s.ports.filter((p) => isHttpProtocol(p.protocol) || p.protocol === 'unknown');
    if (httpPorts.length === 0) continue;
    const hinted = s.annotations[DIRECT_POD_ANNOTATION] === 'true';
    const governs = statefulSetServices.has(`${s.namespace}/${s.res.name}`);
    if (!hinted && !governs) continue;
    const why = hinted ? `is annotated ${DIRECT_POD_ANNOTATION}: "true"` : 'is the serviceName of a StatefulSet (its pods are addressed one by one)';
    add('info', s.res, s.res.line,
      `Service ${why} but is not headless: HTTP sent to a pod IP on ${httpPorts.map((p) => p.port).join(', ')} carries a Host no virtual host knows, falls to the passthrough route and leaves without mTLS, so a STRICT server rejects it.`,
      'Add a headless Service (clusterIP: None) for the same pods and call them by per-pod name: Istio gives each pod a hostname and a "*" fallback on its ports, keeping mTLS. See docs/lint.md#rules');
  }
}

/** Reports one finding of the rule being run; the rule's id and name are added. */
export type Report = (severity: Severity, res: Resource, line: number, message: string, fix: string) => void;

/** One lint rule, one record: how findings name it, the most severe finding it gives, what it means, the usual fixes, the check. */
export interface LintRule {
  id: string;
  /** Readable, stable: what a finding says besides the id. */
  name: string;
  /** The most severe finding the rule reports (each finding's own severity depends on the input). */
  severity: Severity;
  /** One line: --help and the docs table's first column. */
  summary: string;
  /** The usual remedies; each finding's `fix` says which applies to that resource. */
  fixes: readonly string[];
  match: (ctx: Context, add: Report) => void;
}

export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'PP001',
    name: 'externalname-ports',
    severity: 'error',
    summary: 'ExternalName Service declares ports (catch-all listener on Istio <= 1.20, 1.21-1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false)',
    fixes: ['drop the port from the ExternalName', 'a VirtualService instead of the ExternalName', 'networking.istio.io/exportTo: "." or a Sidecar limiting egress hosts', 'Istio >= 1.21 without ENABLE_EXTERNAL_NAME_ALIAS=false'],
    match: pp001,
  },
  {
    id: 'PP002',
    name: 'serviceentry-catch-all',
    severity: 'error',
    summary: 'ServiceEntry with resolution DNS, a TCP/unset-protocol port and no addresses (catch-all on every version)',
    fixes: ['addresses on the ServiceEntry', 'the port\'s protocol as HTTP or TLS', 'DNS capture with address auto-allocation', 'exportTo or Sidecar egress hosts'],
    match: pp002,
  },
  {
    id: 'PP003',
    name: 'shared-tcp-port',
    severity: 'warning',
    summary: 'TCP port number shared by Services/ServiceEntries in different namespaces that see each other',
    fixes: ['distinct TCP port numbers', 'exportTo or Sidecar egress hosts', 'TLS with SNI'],
    match: pp003,
  },
  {
    id: 'PP004',
    name: 'port-without-protocol',
    severity: 'warning',
    summary: 'Service port without an Istio protocol prefix and without appProtocol (protocol sniffing)',
    fixes: ['name the port <protocol>[-suffix]', 'set appProtocol'],
    match: pp004,
  },
  {
    id: 'PP005',
    name: 'namespace-without-sidecar',
    severity: 'info',
    summary: 'Namespace without a Sidecar and no mesh-wide default scope in the input',
    fixes: ['a Sidecar limiting egress hosts in the namespace', 'meshConfig.defaultServiceExportTo: ["."]'],
    match: pp005,
  },
  {
    id: 'PP006',
    name: 'direct-pod-http-not-headless',
    severity: 'info',
    summary: 'Service used for direct pod-to-pod HTTP that is not headless',
    fixes: ['a headless Service for the same pods, called by per-pod name'],
    match: pp006,
  },
];

export function runRules(model: Model, options: RuleOptions, rules: readonly LintRule[] = LINT_RULES): Finding[] {
  const ctx = new Context(model, options);
  for (const rule of rules) rule.match(ctx, ctx.reporter(rule));
  return ctx.findings;
}
