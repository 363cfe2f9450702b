/**
 * Expectation rows shared by the seed scenarios, named the way the seeds describe the paths.
 * Sources: the Hazelcast ExternalName incident, the direct pod-to-pod HTTP incident, Istio's
 * release notes, and istiod's code for headless Services (listener.go: one <podIP>_PORT
 * listener per endpoint for TCP ports, which is why the bed's headless Service is an extra with HTTP
 * 8080 only; httproute.go: `*.<service>` per-pod domains on the HTTP vhost), checked against the
 * istiod oracle's golden dumps (oracle/).
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

/** A bed whose mesh config blocks destinations outside the registry. */
export const REGISTRY_ONLY = { outboundTrafficPolicy: 'REGISTRY_ONLY' } as const;

/**
 * Pod-IP TCP that no listener owns, under outboundTrafficPolicy REGISTRY_ONLY: the virtualOutbound
 * catch-all proxies to BlackHoleCluster instead of PassthroughCluster (istio/istio
 * pilot/pkg/networking/core/listener_builder.go: egressCluster is BlackHoleCluster unless
 * IsAllowAnyOutbound), which has no endpoints: accepted, then closed, no server entry. Observed
 * only: neither the oracle's goldens nor a live run have a REGISTRY_ONLY bed yet.
 */
export function registryOnlyTcp(): PathExpectation & { observe: string } {
  return {
    outcome: 'closed-after-connect',
    responder: 'nobody',
    client: { cluster: 'blackhole', name: 'BlackHoleCluster' },
    server: 'absent',
    explain: 'blackhole',
    observe: 'no golden or live run with outboundTrafficPolicy REGISTRY_ONLY yet; pinned once one shows it',
  };
}

/** The baseline rows, behind the REGISTRY_ONLY feature row that replaces PassthroughCluster with BlackHoleCluster. */
export function podIpTcpRows(targetFqdn: string = FQDN.manager): ExpectationRule[] {
  return [{ versions: '*', when: { ...REGISTRY_ONLY }, ...registryOnlyTcp() }, ...baselineRows(targetFqdn)];
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
    .when({ ...REGISTRY_ONLY }, registryOnlyTcp())
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

/**
 * HTTP to the other manager's pod IP with manager-headless applied (the direct pod-to-pod HTTP incident). What istiod builds
 * (the oracle's goldens, every minor built; istio/istio 1.24.0 source cited):
 * - Host = a per-pod name: the headless vhost of route 8080 carries `*.<service>` domains
 *   (pilot/pkg/networking/core/httproute.go generateVirtualHostDomains) and the route config sets
 *   ignore_port_in_host_matching, so `manager-1.manager-headless…:8080` takes the headless
 *   ORIGINAL_DST cluster to the dialled pod. That cluster keeps Istio's mTLS transport socket
 *   outright (cluster_tls.go: auto mTLS is turned into tlsMode socket matches for every cluster
 *   except ORIGINAL_DST), so a STRICT server accepts it: pinned for both modes.
 * - Host = the pod IP: no vhost has a "*" fallback for the headless Service, only `*.<service>`
 *   names, so the pod IP falls to allow_any → PassthroughCluster, plaintext, exactly as with only
 *   a ClusterIP Service (that incident report's "*" fallback claim is not what istiod builds): 200 under
 *   PERMISSIVE, the server's NR reject under STRICT.
 */
export function httpHeadlessRows(mtls: 'PERMISSIVE' | 'STRICT', host: 'pod-name' | 'pod-ip'): ExpectationRule[] {
  if (host === 'pod-ip') return httpClusterIpRows(mtls);
  return [{
    versions: '*', outcome: 'answered', httpStatus: 200, responder: 'target',
    client: { cluster: 'outbound', name: HEADLESS_CLUSTER, flags: [] },
    server: { cluster: 'inbound', name: `inbound|${HTTP_PORT}||`, flags: [] },
  }];
}

/** The two probes of a headless scenario: per-pod name, then the pod IP as Host. */
export function headlessProbes(mtls: 'PERMISSIVE' | 'STRICT'): ProbeSpec[] {
  const to = { pod: 'other-manager' } as const;
  return [
    { name: 'manager → other manager pod IP:8080, Host = per-pod name', from: 'manager', to, port: HTTP_PORT, protocol: 'http', httpHost: `${HEADLESS_POD_HOST}:${HTTP_PORT}`, expect: httpHeadlessRows(mtls, 'pod-name') },
    { name: 'manager → other manager pod IP:8080, Host = pod IP', from: 'manager', to, port: HTTP_PORT, protocol: 'http', expect: httpHeadlessRows(mtls, 'pod-ip') },
  ];
}
