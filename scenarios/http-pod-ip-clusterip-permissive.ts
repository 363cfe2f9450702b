import { scenario } from '../harness/runner/index.ts';
import { HTTP_PORT } from '../manifests/topology.ts';
import { httpClusterIpRows } from './common.ts';

/**
 * seeds/001: HTTP to a pod IP whose workload has only a ClusterIP Service. The Host (the pod IP)
 * matches no service vhost, so the request falls to the allow_any passthrough, without mTLS;
 * a PERMISSIVE server accepts the plaintext.
 * Observed until a live run: see httpClusterIpRows in common.ts (the bed's headless Service).
 */
export default scenario('http-pod-ip-clusterip-permissive', 'HTTP to a ClusterIP-only pod IP under PERMISSIVE mTLS')
  .seed('seeds/001 (direct pod-to-pod HTTP)')
  .mesh({ mtls: 'PERMISSIVE' })
  .probe({ name: 'manager → app pod IP:8080', from: 'manager', to: { pod: 'app' }, port: HTTP_PORT, protocol: 'http' })
  .expectRows(httpClusterIpRows('PERMISSIVE'))
  .build();
