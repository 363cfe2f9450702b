/**
 * Expectation rows shared by the seed scenarios, named the way the seeds describe the paths.
 * Sources: the Hazelcast ExternalName incident, the direct pod-to-pod HTTP incident, Istio's
 * release notes, and istiod's code for headless Services (listener.go: one <podIP>_PORT
 * listener per endpoint for TCP ports, which is why the bed's headless Service is an extra with HTTP
 * 8080 only; httproute.go: `*.<service>` per-pod domains on the HTTP vhost).
 */
import { scenario, type ExpectationRule, type PathExpectation, type ProbeSpec, type Scenario } from '../harness/runner/index.ts';
import { APP_EXT, FQDN, HTTP_PORT, TCP_PORT } from '../manifests/topology.ts';

export const ALIAS_OFF = { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } as const;
export const ALIAS_ON = { ENABLE_EXTERNAL_NAME_ALIAS: 'true' } as const;

/** Pod-IP traffic on 5701 that Istio knows nothing about: PassthroughCluster, answered by the pod. */
export function passthroughTcp(versions: string): PathExpectation & { versions: string } {
  return {
    versions,
    outcome: 'echoed',
    responder: 'target',
    client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] },
    explain: 'passthrough',
  };
}

/**
 * The baseline: PassthroughCluster out, the inbound cluster in. Its name changed in Istio 1.8: before,
 * `inbound|5701|PORTNAME|FQDN` of the Service selecting the target pod (the Hazelcast incident's logs show
 * `inbound|5701|tcp-hazelcast|manager.manager.svc.cluster.local`); from 1.8, `inbound|5701||`.
 */
export function baselineRows(targetFqdn: string = FQDN.manager): ExpectationRule[] {
  return [
    { ...passthroughTcp('<1.8'), server: { cluster: 'inbound', name: `inbound|${TCP_PORT}|tcp-hazelcast|${targetFqdn}`, flags: [] } },
    { ...passthroughTcp('>=1.8'), server: { cluster: 'inbound', name: `inbound|${TCP_PORT}||`, flags: [] } },
  ];
}

/** The incident's own connection (Hazelcast ExternalName incident): one Hazelcast member dialling the other member's pod IP on 5701. */
export const MEMBER_TO_MEMBER = { name: 'manager → other manager pod IP:5701', from: 'manager', to: { pod: 'other-manager' }, port: TCP_PORT, protocol: 'tcp' } as const satisfies ProbeSpec;

/**
 * The seed collision: the client sidecar accepts, tries the catch-all's STRICT_DNS cluster (idle,
 * which does not bind 5701) and closes: `0 UF,URX`, no server entry. Never a duration: it depends on
 * connectTimeout and on whether kube-proxy drops or rejects the missing port.
 */
export function collision(versions: string, cluster = `outbound|${TCP_PORT}||${APP_EXT.name}.${APP_EXT.namespace}.svc.cluster.local`): ExpectationRule {
  return {
    versions,
    outcome: 'closed-after-connect',
    responder: 'nobody',
    client: { cluster: 'outbound', name: cluster, flags: ['UF', 'URX'] },
    server: 'absent',
    explain: 'captured',
  };
}

/**
 * A seed fix: on a bed where the collision happens (istiod with ENABLE_EXTERNAL_NAME_ALIAS=false,
 * Istio < 1.24), apply the fix's extras and require the baseline path back.
 */
export function fixScenario(id: string, title: string, extras: string[], why: string): Scenario {
  return scenario(id, title)
    .seed('Hazelcast ExternalName incident ("Solving the issue")')
    .mesh({ pilotEnv: { ...ALIAS_OFF } })
    .appliesTo('<1.24')
    .apply(...extras)
    .probe({ ...MEMBER_TO_MEMBER })
    .expect('<1.8', baselineRows()[0])
    .expect('>=1.8', baselineRows()[1])
    .notes(why)
    .build();
}

/**
 * HTTP to app's pod IP (Host = the pod IP) on a bed with only ClusterIP Services: the Host matches no
 * service vhost of route 8080, so the allow_any vhost sends it to PassthroughCluster, plaintext
 * (the direct pod-to-pod HTTP incident). PERMISSIVE: the server sidecar takes plaintext and app answers 200.
 * STRICT: the server sidecar has no plaintext filter chain for 8080 and logs
 * `NR filter_chain_not_found`; the client sidecar, whose upstream closed before any response,
 * answers 503 itself. Its flags (UC, maybe URX after Istio's retries) and details are not pinned.
 */
export function httpClusterIpRows(mtls: 'PERMISSIVE' | 'STRICT'): ExpectationRule[] {
  if (mtls === 'PERMISSIVE') {
    return [{
      versions: '*', outcome: 'answered', httpStatus: 200, responder: 'target',
      client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] },
      server: { cluster: 'inbound', name: `inbound|${HTTP_PORT}||`, flags: [] },
    }];
  }
  return [{
    versions: '*', outcome: 'answered', httpStatus: 503, responder: 'nobody',
    client: { cluster: 'passthrough', name: 'PassthroughCluster' },
    server: { flags: ['NR'], details: 'filter_chain_not_found' },
  }];
}

/** A per-pod name under the headless Service (any label matches its `*.manager-headless…` domains). */
export const HEADLESS_POD_HOST = `manager-1.${FQDN.managerHeadless}`;

const HEADLESS_CLUSTER = `outbound|${HTTP_PORT}||${FQDN.managerHeadless}`;

const HEADLESS_MTLS_UNSEEN = 'the direct pod-to-pod HTTP incident report says the headless route keeps mTLS, so STRICT accepts it; whether auto-mTLS applies to the headless ORIGINAL_DST cluster (no EDS endpoints carry the tlsMode label) is not yet seen on a live bed';

const POD_IP_HOST_UNSEEN = 'the direct pod-to-pod HTTP incident report says a headless Service adds a "*" fallback on its port; istiod\'s generateVirtualHostDomains (pilot/pkg/networking/core/httproute.go) adds only "*.<service>" per-pod domains for a headless Kubernetes Service, so a pod-IP Host may still fall to allow_any/PassthroughCluster (istio.io "503 error while accessing headless services" and istio/istio.io#10071 describe pod-IP requests to an http-named headless port failing under STRICT); not yet seen on a live bed';

/**
 * HTTP to the other manager's pod IP with manager-headless applied (the direct pod-to-pod HTTP incident).
 * - Host = a per-pod name: matches the headless vhost's `*.manager-headless…` domains (istiod code,
 *   istio/istio#34679 shows them), so the request takes the headless ORIGINAL_DST cluster to the
 *   dialled pod IP. Pinned under PERMISSIVE; under STRICT it depends on mTLS being kept (observe).
 * - Host = the pod IP (what that incident is about): its report's "*" fallback; observed, see POD_IP_HOST_UNSEEN.
 */
export function httpHeadlessRows(mtls: 'PERMISSIVE' | 'STRICT', host: 'pod-name' | 'pod-ip'): ExpectationRule[] {
  const row: ExpectationRule = {
    versions: '*', outcome: 'answered', httpStatus: 200, responder: 'target',
    client: { cluster: 'outbound', name: HEADLESS_CLUSTER, flags: [] },
    server: { cluster: 'inbound', name: `inbound|${HTTP_PORT}||`, flags: [] },
  };
  if (host === 'pod-ip') row.observe = mtls === 'STRICT' ? `${POD_IP_HOST_UNSEEN}; and ${HEADLESS_MTLS_UNSEEN}` : POD_IP_HOST_UNSEEN;
  else if (mtls === 'STRICT') row.observe = HEADLESS_MTLS_UNSEEN;
  return [row];
}

/** The two probes of a headless scenario: per-pod name (pinned where it can be), then the pod IP as Host. */
export function headlessProbes(mtls: 'PERMISSIVE' | 'STRICT'): ProbeSpec[] {
  const to = { pod: 'other-manager' } as const;
  return [
    { name: 'manager → other manager pod IP:8080, Host = per-pod name', from: 'manager', to, port: HTTP_PORT, protocol: 'http', httpHost: `${HEADLESS_POD_HOST}:${HTTP_PORT}`, expect: httpHeadlessRows(mtls, 'pod-name') },
    { name: 'manager → other manager pod IP:8080, Host = pod IP', from: 'manager', to, port: HTTP_PORT, protocol: 'http', expect: httpHeadlessRows(mtls, 'pod-ip') },
  ];
}
