/**
 * The bed's mesh-wide mTLS mode, read from its PeerAuthentications the way istiod composes them
 * (istio/istio pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication): a policy in
 * the root namespace without a selector (or with empty matchLabels) is mesh-wide; of several, the
 * oldest wins; none, or mode UNSET, leaves Istio's default PERMISSIVE.
 */
import type { KubeDocument } from '../kube/index.ts';
import type { MeshMtls } from '../report/index.ts';

/** meshConfig.rootNamespace: podpath installs Istio with the default. */
export const ROOT_NAMESPACE = 'istio-system';
export const PEER_AUTHENTICATION_API = 'security.istio.io/v1beta1';

const MODES = new Set(['STRICT', 'PERMISSIVE', 'DISABLE']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function meshWide(doc: KubeDocument, rootNamespace: string): boolean {
  if (doc.metadata.namespace !== rootNamespace) return false;
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const selector = isRecord(spec.selector) ? spec.selector : null;
  return selector === null || !isRecord(selector.matchLabels) || Object.keys(selector.matchLabels).length === 0;
}

function created(doc: KubeDocument): number {
  const at = Date.parse(String(doc.metadata.creationTimestamp ?? ''));
  return Number.isFinite(at) ? at : Number.POSITIVE_INFINITY;
}

export function meshMtls(policies: readonly KubeDocument[], rootNamespace: string = ROOT_NAMESPACE): MeshMtls {
  let chosen: KubeDocument | null = null;
  for (const doc of policies) {
    if (doc.kind !== 'PeerAuthentication' || !meshWide(doc, rootNamespace)) continue;
    if (chosen === null || created(doc) < created(chosen)) chosen = doc;
  }
  if (chosen === null) return { mode: 'PERMISSIVE', policy: null };
  const spec = isRecord(chosen.spec) ? chosen.spec : {};
  const mode = isRecord(spec.mtls) && typeof spec.mtls.mode === 'string' ? spec.mtls.mode : 'UNSET';
  return { mode: MODES.has(mode) ? (mode as MeshMtls['mode']) : 'PERMISSIVE', policy: `${rootNamespace}/${chosen.metadata.name}` };
}
