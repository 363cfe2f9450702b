/**
 * REST paths of the kinds podpath applies. Live calls resolve kinds by API discovery (client-node's
 * KubernetesObjectApi); this table lets a dry run print the same paths without any network, and
 * lets delete-with-wait watch the right collection.
 */
/** A Kubernetes object as podpath applies it: the fields the API server needs, anything else as is. */
export type KubeDocument = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface Resource {
  plural: string;
  namespaced: boolean;
}

const KNOWN: Record<string, Resource> = {
  Namespace: { plural: 'namespaces', namespaced: false },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  Pod: { plural: 'pods', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  Lease: { plural: 'leases', namespaced: true },
  Sidecar: { plural: 'sidecars', namespaced: true },
  VirtualService: { plural: 'virtualservices', namespaced: true },
  DestinationRule: { plural: 'destinationrules', namespaced: true },
  ServiceEntry: { plural: 'serviceentries', namespaced: true },
  PeerAuthentication: { plural: 'peerauthentications', namespaced: true },
  Gateway: { plural: 'gateways', namespaced: true },
};

function apiRoot(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function resourceOf(kind: string): Resource {
  // Unknown kinds follow the usual lowercase-plural naming; a dry run says so in its summary.
  return KNOWN[kind] ?? { plural: `${kind.toLowerCase()}s`, namespaced: true };
}

export function isKnownKind(kind: string): boolean {
  return kind in KNOWN;
}

/** Collection path, e.g. /apis/apps/v1/namespaces/app/deployments. */
export function collectionPath(doc: Pick<KubeDocument, 'apiVersion' | 'kind'> & { metadata: { namespace?: string } }): string {
  const r = resourceOf(doc.kind);
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(doc.metadata.namespace ?? 'default')}` : '';
  return `${apiRoot(doc.apiVersion)}${ns}/${r.plural}`;
}

/** Object path, e.g. /apis/apps/v1/namespaces/app/deployments/app. */
export function objectPath(doc: Pick<KubeDocument, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${collectionPath(doc)}/${encodeURIComponent(doc.metadata.name)}`;
}

/** `Kind/namespace/name` (or `Kind/name` when cluster-scoped), as plans and errors print it. */
export function describe(doc: Pick<KubeDocument, 'kind' | 'metadata'>): string {
  return doc.metadata.namespace ? `${doc.kind}/${doc.metadata.namespace}/${doc.metadata.name}` : `${doc.kind}/${doc.metadata.name}`;
}
