/**
 * `kubectl get pods,services,endpointslices -A -o json`: resolves IPs to pods and services and
 * answers "is this IP an endpoint (or the ClusterIP) of service X" exactly.
 */
import { UsageError } from '../errors/index.ts';

export interface ServiceInfo { name: string; namespace: string; type: string; clusterIPs: string[]; externalName: string | null; endpoints: Set<string> }
export interface Named { name: string; namespace: string }

export interface Inventory {
  podsByIp: Map<string, Named>;
  servicesByIp: Map<string, Named>;
  /** key `name.namespace` */
  services: Map<string, ServiceInfo>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function loadInventory(json: unknown): Inventory {
  if (!isObj(json) || !Array.isArray(json.items)) {
    throw new UsageError('--inventory: not a Kubernetes list (expected {"kind":"List","items":[...]})', {
      hint: 'Create it with: kubectl get pods,services,endpointslices -A -o json > inventory.json',
    });
  }
  const inventory: Inventory = { podsByIp: new Map(), servicesByIp: new Map(), services: new Map() };
  const service = (name: string, namespace: string): ServiceInfo => {
    const key = `${name}.${namespace}`;
    let info = inventory.services.get(key);
    if (!info) {
      info = { name, namespace, type: 'unknown', clusterIPs: [], externalName: null, endpoints: new Set() };
      inventory.services.set(key, info);
    }
    return info;
  };
  for (const item of json.items) {
    if (!isObj(item) || !isObj(item.metadata)) continue;
    const name = text(item.metadata.name);
    const namespace = text(item.metadata.namespace) ?? 'default';
    if (name === null) continue;
    if (item.kind === 'Pod') {
      const status = isObj(item.status) ? item.status : {};
      const ips = new Set<string>();
      const single = text(status.podIP);
      if (single) ips.add(single);
      for (const p of arr(status.podIPs)) if (isObj(p) && text(p.ip)) ips.add(p.ip as string);
      for (const ip of ips) inventory.podsByIp.set(ip, { name, namespace });
    } else if (item.kind === 'Service') {
      const spec = isObj(item.spec) ? item.spec : {};
      const info = service(name, namespace);
      info.type = text(spec.type) ?? 'ClusterIP';
      info.externalName = text(spec.externalName);
      const ips = new Set<string>();
      if (text(spec.clusterIP) && spec.clusterIP !== 'None') ips.add(spec.clusterIP as string);
      for (const ip of arr(spec.clusterIPs)) if (text(ip) && ip !== 'None') ips.add(ip as string);
      info.clusterIPs = [...ips];
      for (const ip of ips) inventory.servicesByIp.set(ip, { name, namespace });
    } else if (item.kind === 'EndpointSlice') {
      const labels = isObj(item.metadata.labels) ? item.metadata.labels : {};
      const owner = text(labels['kubernetes.io/service-name']);
      if (owner === null) continue;
      const info = service(owner, namespace);
      for (const ep of arr(item.endpoints)) if (isObj(ep)) for (const a of arr(ep.addresses)) if (text(a)) info.endpoints.add(a as string);
    } else if (item.kind === 'Endpoints') {
      const info = service(name, namespace);
      for (const subset of arr(item.subsets)) {
        if (!isObj(subset)) continue;
        for (const a of [...arr(subset.addresses), ...arr(subset.notReadyAddresses)]) if (isObj(a) && text(a.ip)) info.endpoints.add(a.ip as string);
      }
    }
  }
  return inventory;
}

/** `name.ns.svc.cluster.local` (any cluster domain) or `name.ns` → the service, if the inventory has it. */
export function findService(inventory: Inventory, fqdn: string): ServiceInfo | null {
  const labels = fqdn.split('.');
  if (labels.length < 2) return null;
  return inventory.services.get(`${labels[0]}.${labels[1]}`) ?? null;
}

/** true/false when the inventory knows the service; null when it does not. */
export function isEndpointOf(inventory: Inventory, ip: string, fqdn: string): boolean | null {
  const info = findService(inventory, fqdn);
  if (info === null) return null;
  return info.endpoints.has(ip) || info.clusterIPs.includes(ip);
}

export function resolveIp(inventory: Inventory, ip: string | null): string | null {
  if (ip === null) return null;
  const pod = inventory.podsByIp.get(ip);
  if (pod) return `pod ${pod.namespace}/${pod.name}`;
  const svc = inventory.servicesByIp.get(ip);
  if (svc) return `service ${svc.namespace}/${svc.name}`;
  return null;
}
