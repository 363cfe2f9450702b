/**
 * What changes for one sidecar between two Istio versions, among what carries its outbound
 * traffic: listeners, catch-all ports (a wildcard listener that takes every unknown IP on its port
 * away from PassthroughCluster) and outbound clusters, worded for a mesh operator. Pure.
 */
import { explain, type ConfigDump } from '../envoy/index.ts';
import { externalNameAliasFlagRead, externalNameCreatesListener } from '../lint/istio-behaviour.ts';
import type { ClusterModel } from '../oracle/cluster-model.ts';

export interface SidecarSummary {
  /** Outbound listener name → the services its chains send to (cluster FQDNs) or route configs. */
  listeners: Map<string, string[]>;
  /** Port → the cluster an address the mesh does not know goes to on that port, when it is not passthrough. */
  catchAlls: Map<number, string>;
  /** Outbound cluster name → its type. */
  clusters: Map<string, string>;
}

// An address no cluster or listener can own: TEST-NET-1 (RFC 5737), only ever given to explain, never dialled.
const UNKNOWN_IP = '192.0.2.1';
const PASSTHROUGH = /^(PassthroughCluster|InboundPassthroughCluster(Ipv4|Ipv6)?)$/;

function isOutboundCluster(name: string): boolean {
  return name.startsWith('outbound|') || name === 'PassthroughCluster' || name === 'BlackHoleCluster';
}

export function summarizeSidecar(dump: ConfigDump): SidecarSummary {
  const listeners = new Map<string, string[]>();
  const ports = new Set<number>();
  for (const name of dump.listenerNames()) {
    const l = dump.listener(name);
    if (!l || l.trafficDirection === 'INBOUND' || name === 'virtualInbound' || name === 'virtualOutbound') continue;
    const targets = new Set<string>();
    for (const chain of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
      for (const f of chain.filters) {
        if (f.kind === 'tcp_proxy' && f.target) {
          for (const c of f.target.kind === 'cluster' ? [f.target.name] : f.target.clusters.map((x) => x.name)) targets.add(c);
        } else if (f.kind === 'http') targets.add(`route ${f.rds ?? f.routeConfig?.name ?? '(inline)'}`);
      }
    }
    listeners.set(name, [...targets].sort());
    for (const a of l.addresses) if (a.port !== null && (a.address === '0.0.0.0' || a.address === '::')) ports.add(a.port);
  }
  const catchAlls = new Map<number, string>();
  for (const port of [...ports].sort((a, b) => a - b)) {
    const e = explain(dump, { dst: `${UNKNOWN_IP}:${port}` });
    if (e.cluster && !PASSTHROUGH.test(e.cluster.name)) catchAlls.set(port, e.cluster.name);
  }
  const clusters = new Map<string, string>();
  for (const name of dump.clusterNames()) {
    if (!isOutboundCluster(name)) continue;
    clusters.set(name, dump.cluster(name)?.type ?? '?');
  }
  return { listeners, catchAlls, clusters };
}

export type ChangeKind = 'listener' | 'catch-all' | 'cluster' | 'verdict' | 'istiod';

export interface Change {
  /** The version the change appears in, and the one before it it is measured against. */
  minor: string;
  since: string;
  kind: ChangeKind;
  subject: string;
  change: 'appears' | 'gone' | 'changed';
  text: string;
}

export interface OriginIndex {
  cluster: ClusterModel;
  serviceEntries: Array<{ namespace: string; name: string; hosts: string[] }>;
}

/** `outbound|5701||app-ext.app.svc.cluster.local` → the FQDN. */
function hostOfCluster(name: string): string | null {
  const parts = name.split('|');
  return parts.length === 4 && parts[3] ? parts[3] : null;
}

/** Where a cluster comes from in the user's manifests, in words: "ExternalName app/app-ext". */
export function originOf(index: OriginIndex, clusterName: string): string | null {
  const host = hostOfCluster(clusterName);
  if (!host) return null;
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
  const svc = m ? index.cluster.services.find((s) => s.name === m[1] && s.namespace === m[2]) : undefined;
  if (svc) return `${svc.type === 'ExternalName' ? 'ExternalName' : svc.clusterIP === 'None' ? 'headless Service' : 'Service'} ${svc.namespace}/${svc.name}`;
  const se = index.serviceEntries.find((s) => s.hosts.includes(host));
  return se ? `ServiceEntry ${se.namespace}/${se.name}` : null;
}

function fromWords(index: OriginIndex, targets: readonly string[]): string {
  const origins = [...new Set(targets.map((t) => originOf(index, t)).filter((o): o is string => o !== null))];
  return origins.length ? ` (from ${origins.join(', ')})` : '';
}

/** Why an ExternalName's listener went away or came back, when the version table for that behaviour says so. */
function externalNameWhy(index: OriginIndex, targets: readonly string[], before: string, after: string, pilotEnv: Record<string, string>, gone: boolean): string {
  if (!targets.some((t) => originOf(index, t)?.startsWith('ExternalName '))) return '';
  const was = externalNameCreatesListener(before, pilotEnv);
  const now = externalNameCreatesListener(after, pilotEnv);
  if (gone && was === true && now === false) return ': ExternalName is now an alias (a DNS name for its target, no listener of its own)';
  if (!gone && was === false && now === true) return ': ExternalName is no longer an alias here (istiod builds listeners for its ports)';
  return '';
}

/** The changes from one version's sidecar to the next's. */
export function diffSummaries(
  index: OriginIndex,
  a: { minor: string; release: string; summary: SidecarSummary },
  b: { minor: string; release: string; summary: SidecarSummary },
  pilotEnv: Record<string, string>,
): Change[] {
  const out: Change[] = [];
  const add = (kind: ChangeKind, subject: string, change: Change['change'], words: string): void => {
    out.push({ minor: b.minor, since: a.minor, kind, subject, change, text: `${b.minor}: ${words}` });
  };
  if ('ENABLE_EXTERNAL_NAME_ALIAS' in pilotEnv && externalNameAliasFlagRead(a.release) === true && externalNameAliasFlagRead(b.release) === false) {
    add('istiod', 'ENABLE_EXTERNAL_NAME_ALIAS', 'gone', `istiod no longer reads ENABLE_EXTERNAL_NAME_ALIAS=${pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS} (ExternalName is always an alias from 1.24)`);
  }
  const la = a.summary.listeners;
  const lb = b.summary.listeners;
  for (const [name, targets] of la) {
    if (!lb.has(name)) add('listener', name, 'gone', `listener ${name}${fromWords(index, targets)} is gone${externalNameWhy(index, targets, a.release, b.release, pilotEnv, true)}`);
  }
  for (const [name, targets] of lb) {
    const before = la.get(name);
    if (!before) add('listener', name, 'appears', `listener ${name}${fromWords(index, targets)} appears${externalNameWhy(index, targets, a.release, b.release, pilotEnv, false)}`);
    else if (before.join() !== targets.join()) add('listener', name, 'changed', `listener ${name} now sends to ${targets.join(', ') || 'nothing'} (before: ${before.join(', ') || 'nothing'})`);
  }
  const ports = [...new Set([...a.summary.catchAlls.keys(), ...b.summary.catchAlls.keys()])].sort((x, y) => x - y);
  for (const port of ports) {
    const was = a.summary.catchAlls.get(port);
    const now = b.summary.catchAlls.get(port);
    if (was && !now) add('catch-all', String(port), 'gone', `port ${port} is no longer a catch-all: an IP the mesh does not know goes to PassthroughCluster again (before: ${was}${fromWords(index, [was])})`);
    else if (!was && now) add('catch-all', String(port), 'appears', `port ${port} becomes a catch-all: every IP the mesh does not know on ${port} goes to ${now}${fromWords(index, [now])}, not PassthroughCluster`);
    else if (was && now && was !== now) add('catch-all', String(port), 'changed', `port ${port}'s catch-all now goes to ${now} (before: ${was})`);
  }
  for (const [name, type] of a.summary.clusters) {
    if (!b.summary.clusters.has(name)) add('cluster', name, 'gone', `cluster ${name} (${type})${fromWords(index, [name])} is gone`);
  }
  for (const [name, type] of b.summary.clusters) {
    const before = a.summary.clusters.get(name);
    if (before === undefined) add('cluster', name, 'appears', `cluster ${name} (${type})${fromWords(index, [name])} appears`);
    else if (before !== type) add('cluster', name, 'changed', `cluster ${name} is ${type} now (before: ${before})`);
  }
  return out;
}
