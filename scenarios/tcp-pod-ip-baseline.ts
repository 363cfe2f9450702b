import { scenario } from '../harness/runner/index.ts';
import { FQDN, TCP_PORT } from '../manifests/topology.ts';
import { podIpTcpRows, MEMBER_TO_MEMBER } from './common.ts';

/**
 * The path before anything breaks (Hazelcast ExternalName incident, "This is not perfect, but at least, it's working"):
 * one Hazelcast member dials the other member's pod IP on 5701. The bed has only ClusterIP
 * Services, whose listeners bind their VIPs, so no listener owns a pod IP: the connection leaves
 * through PassthroughCluster and enters the target through its inbound cluster, as in the seed's logs.
 * (A headless Service over manager declaring 5701 would change this: istiod builds a <podIP>_5701
 * listener per endpoint for it. That is why manager-headless is an extra, HTTP only.)
 * A second probe to app's pod IP checks the same path across namespaces. On a bed whose mesh
 * config says outboundTrafficPolicy REGISTRY_ONLY both go to BlackHoleCluster instead (observed).
 */
export default scenario('tcp-pod-ip-baseline', 'TCP to a pod IP leaves through PassthroughCluster and is echoed by that pod')
  .seed('Hazelcast ExternalName incident (Hazelcast on 5701, pod-to-pod)')
  .probe({ ...MEMBER_TO_MEMBER, count: 2 })
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: TCP_PORT, protocol: 'tcp', expect: podIpTcpRows(FQDN.app) })
  .expectRows(podIpTcpRows())
  .build();
