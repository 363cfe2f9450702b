/**
 * Expectation rows shared by the seed scenarios, named the way the seeds describe the paths.
 * Sources: DESIGN.md ("Facts about Istio"), seeds/000 (Hazelcast + ExternalName), seeds/001
 * (direct pod-to-pod HTTP), and istiod's listener code for headless Services (per-pod TCP
 * listeners; HTTP ports take a wildcard route to an ORIGINAL_DST cluster).
 */
import { scenario, type ExpectationRule, type PathExpectation, type Scenario } from '../harness/runner/index.ts';
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

/** The baseline: PassthroughCluster out, the inbound cluster in (its name changed in Istio 1.8). */
export function baselineRows(): ExpectationRule[] {
  return [
    { ...passthroughTcp('<1.8'), server: { cluster: 'inbound', name: `inbound|${TCP_PORT}|tcp-hazelcast|${FQDN.app}`, flags: [] } },
    { ...passthroughTcp('>=1.8'), server: { cluster: 'inbound', name: `inbound|${TCP_PORT}||`, flags: [] } },
  ];
}

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

/** Where the ExternalName collision happens (lint's externalNameCreatesListener agrees). */
export const COLLISION_APPLIES = [{ versions: '<1.24', pilotEnv: { ...ALIAS_OFF } }];

/**
 * A seed fix: on a bed where the collision happens (istiod with ENABLE_EXTERNAL_NAME_ALIAS=false,
 * Istio < 1.24), apply the fix's extras and require the baseline path back.
 */
export function fixScenario(id: string, title: string, extras: string[], why: string): Scenario {
  return scenario(id, title)
    .seed('seeds/000 ("Solving the issue")')
    .mesh({ pilotEnv: { ...ALIAS_OFF } })
    .appliesTo('<1.24')
    .apply(...extras)
    .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: TCP_PORT, protocol: 'tcp' })
    .expect('<1.8', baselineRows()[0])
    .expect('>=1.8', baselineRows()[1])
    .notes(why)
    .build();
}

const HEADLESS_WILDCARD = 'the bed\'s headless Service manager-headless declares HTTP 8080, and istiod gives a headless HTTP port a wildcard route to its ORIGINAL_DST cluster, which probably takes pod-IP Hosts on 8080 before the allow_any passthrough; not yet seen on a live bed';

/** HTTP to app's pod IP (Host = the pod IP): seeds/001 says PassthroughCluster, plaintext. */
export function httpClusterIpRows(mtls: 'PERMISSIVE' | 'STRICT'): ExpectationRule[] {
  if (mtls === 'PERMISSIVE') {
    return [{
      versions: '*', outcome: 'answered', httpStatus: 200, responder: 'target',
      client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] },
      server: { cluster: 'inbound', name: `inbound|${HTTP_PORT}||`, flags: [] },
      observe: HEADLESS_WILDCARD,
    }];
  }
  // The client sidecar's own 503 (the server sidecar closed the plaintext connection); its flags are not pinned.
  return [{
    versions: '*', outcome: 'answered', httpStatus: 503, responder: 'nobody',
    client: { cluster: 'passthrough', name: 'PassthroughCluster' },
    server: { flags: ['NR'], details: 'filter_chain_not_found' },
    observe: HEADLESS_WILDCARD,
  }];
}

/** HTTP to a manager pod IP with the headless Service: its wildcard vhost, mTLS kept (seeds/001). */
export function httpHeadlessRows(mtls: 'PERMISSIVE' | 'STRICT'): ExpectationRule[] {
  const row: ExpectationRule = {
    versions: '*', outcome: 'answered', httpStatus: 200, responder: 'target',
    client: { cluster: 'outbound', name: `outbound|${HTTP_PORT}||${FQDN.managerHeadless}`, flags: [] },
    server: { cluster: 'inbound', name: `inbound|${HTTP_PORT}||`, flags: [] },
  };
  if (mtls === 'STRICT') row.observe = 'seeds/001 says the headless route keeps mTLS under STRICT; auto-mTLS on an ORIGINAL_DST cluster is not yet seen on a live bed';
  return [row];
}
