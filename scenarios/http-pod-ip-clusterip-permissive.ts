import { scenario } from '../harness/runner/index.ts';
import { HTTP_PORT } from '../manifests/topology.ts';
import { httpClusterIpRows } from './common.ts';

/**
 * The direct pod-to-pod HTTP incident: HTTP to a pod IP whose workload has only a ClusterIP Service. The Host (the pod IP)
 * matches no service vhost of route 8080, so the request falls to the allow_any passthrough vhost
 * (PassthroughCluster), without mTLS; a PERMISSIVE server accepts the plaintext and app answers 200.
 * Pinned: the bed has no headless Service (manager-headless is an extra), so no per-pod domains or
 * fallback on 8080 can take the pod-IP Host first.
 */
export default scenario('http-pod-ip-clusterip-permissive', 'HTTP to a ClusterIP-only pod IP under PERMISSIVE mTLS')
  .seed('direct pod-to-pod HTTP incident')
  .mesh({ mtls: 'PERMISSIVE' })
  .probe({ name: 'manager → app pod IP:8080', from: 'manager', to: { pod: 'app' }, port: HTTP_PORT, protocol: 'http' })
  .expectRows(httpClusterIpRows('PERMISSIVE'))
  .build();
