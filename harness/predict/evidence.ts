/**
 * What the client sidecar would log for a predicted connection: the access-log fields an operator
 * greps for (response flags, upstream cluster, upstream host), from explain's walk of the dump and
 * what the manifests say about the upstream (does the DNS name a STRICT_DNS cluster resolves to
 * serve that port at all?). Pure.
 */
import type { Explanation } from '../envoy/index.ts';
import type { ClusterModel } from '../oracle/cluster-model.ts';
import { serviceByName } from './model.ts';

export interface Evidence {
  /** 0 for TCP; the HTTP status the sidecar itself answers with, when it answers; null when the app answers. */
  responseCode: number | null;
  /** Envoy response flags, e.g. ['UF','URX']; empty is `-`. Unknown: ['?']. */
  flags: string[];
  /** %UPSTREAM_CLUSTER% (null: `-`). */
  cluster: string | null;
  /** %UPSTREAM_HOST%: where the sidecar connects (null: nowhere, or not known from the manifests). */
  upstreamHost: string | null;
  /** The fields as they sit in Istio's TEXT line: `0 UF,URX … outbound|5701||app-ext.app.svc.cluster.local`. */
  text: string;
  /** Why these flags, in words. */
  why: string;
}

type Reach = { state: 'yes' | 'no' | 'unknown'; why: string };

/** Whether anything in the manifests answers on host:port (a Service port with pods behind it, or a pod). */
function reachable(model: ClusterModel, endpoint: string, fromNamespace: string): Reach {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(endpoint.slice(colon + 1));
  const pod = model.pods.find((p) => p.ip === host);
  if (pod) return { state: 'yes', why: `${host} is pod ${pod.namespace}/${pod.name}` };
  const svc = model.services.find((s) => s.clusterIP === host) ?? serviceByName(model.services, host, fromNamespace);
  if (!svc) return { state: 'unknown', why: `${host} is outside the manifests: whether it answers on ${port} is not known here` };
  const where = `Service ${svc.namespace}/${svc.name}`;
  if (svc.type === 'ExternalName') return svc.externalName ? reachable(model, `${svc.externalName}:${port}`, fromNamespace) : { state: 'unknown', why: `${where} has no externalName` };
  if (svc.platform) return { state: 'unknown', why: `${where} is the platform's` };
  if (!svc.ports.some((p) => p.port === port)) return { state: 'no', why: `${where} has no port ${port} (ports ${svc.ports.map((p) => p.port).join(', ') || 'none'}): the connection is refused or times out` };
  if (svc.selector) {
    const selector = svc.selector;
    const behind = model.pods.filter((p) => p.namespace === svc.namespace && Object.entries(selector).every(([k, v]) => p.labels[k] === v));
    if (behind.length === 0) return { state: 'no', why: `${where} selects no pod` };
  }
  return { state: 'yes', why: `${where} serves port ${port}` };
}

function fields(code: number | null, flags: string[], cluster: string | null): string {
  return `${code === null ? '-' : code} ${flags.length ? flags.join(',') : '-'} ${cluster ?? '-'}`;
}

export function evidenceOf(e: Explanation, model: ClusterModel, fromNamespace: string, http: boolean): Evidence {
  const make = (code: number | null, flags: string[], cluster: string | null, upstreamHost: string | null, why: string): Evidence =>
    ({ responseCode: code, flags, cluster, upstreamHost, text: fields(code, flags, cluster), why });
  const ok = http ? null : 0;
  const failed = http ? 503 : 0;
  const cluster = e.cluster?.name ?? null;
  switch (e.verdict) {
    case 'unknown':
      return make(null, ['?'], cluster, null, `explain could not tell: ${e.missing.join('; ') || 'see its steps'}`);
    case 'rejected':
      if (e.route) return make(404, ['NR'], null, null, 'no route for the request: route_not_found');
      return make(0, ['NR'], null, null, 'no filter chain matches: filter_chain_not_found');
    case 'blackhole':
      if (!cluster) return make(null, [], null, null, 'the route answers itself (direct_response)');
      return make(failed, ['UH'], cluster, null, `${cluster} has no endpoints: the connection is closed`);
    case 'no-healthy-upstream':
      return make(failed, ['UH'], cluster, null, `${cluster} has no endpoints: no_healthy_upstream`);
    case 'passthrough':
      return make(ok, [], cluster, e.dst, `connects to ${e.dst} as dialled`);
    case 'service':
    case 'captured': {
      const endpoints = e.cluster?.endpoints ?? [];
      if (endpoints.length === 0) return make(failed, ['UH'], cluster, null, `${cluster} has no endpoints: no_healthy_upstream`);
      if (e.cluster?.type === 'ORIGINAL_DST') return make(ok, [], cluster, e.dst, `${cluster} is ORIGINAL_DST: connects to ${e.dst} as dialled`);
      const reach = endpoints.map((ep) => ({ ep, r: reachable(model, ep, fromNamespace) }));
      const up = reach.find((x) => x.r.state === 'yes');
      if (up) {
        const other = e.verdict === 'captured' ? `, not to ${e.dst} as dialled` : '';
        return make(ok, [], cluster, up.ep, `${up.r.why}: connects to ${up.ep}${other}`);
      }
      if (reach.every((x) => x.r.state === 'no')) {
        // Istio's TCP proxy retries a failed connect; exhausting them adds URX to UF (upstream failure).
        return make(failed, ['UF', 'URX'], cluster, endpoints[0], `no endpoint answers: ${reach.map((x) => `${x.ep}: ${x.r.why}`).join('; ')}`);
      }
      return make(ok, ['?'], cluster, endpoints[0], reach.map((x) => x.r.why).join('; '));
    }
  }
}
