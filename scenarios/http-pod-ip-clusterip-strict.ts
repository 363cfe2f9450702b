import { scenario } from '../harness/runner/index.ts';
import { HTTP_PORT } from '../manifests/topology.ts';
import { httpClusterIpRows } from './common.ts';

/**
 * The direct pod-to-pod HTTP incident: HTTP to a pod IP whose workload has only a ClusterIP Service. The Host (the pod IP)
 * matches no service vhost, so the request falls to the allow_any passthrough, without mTLS; a
 * STRICT server has no plaintext filter chain and rejects it at the listener
 * (`NR filter_chain_not_found`), and the client sidecar answers 503 itself.
 * Pinned: outcome, status, client cluster and the server's reject. Not pinned: the client's flags
 * and details (how Envoy words the upstream reset, and whether a retry adds URX).
 */
export default scenario('http-pod-ip-clusterip-strict', 'HTTP to a ClusterIP-only pod IP under STRICT mTLS')
  .seed('direct pod-to-pod HTTP incident')
  .mesh({ mtls: 'STRICT' })
  .probe({ name: 'manager → app pod IP:8080', from: 'manager', to: { pod: 'app' }, port: HTTP_PORT, protocol: 'http' })
  .expectRows(httpClusterIpRows('STRICT'))
  .build();
