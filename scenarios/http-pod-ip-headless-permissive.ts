import { scenario } from '../harness/runner/index.ts';
import { HTTP_PORT } from '../manifests/topology.ts';
import { httpHeadlessRows } from './common.ts';

/**
 * seeds/001: HTTP to a pod IP of a workload with a headless Service (manager-headless). The
 * headless Service's wildcard vhost on 8080 sends the request to its ORIGINAL_DST cluster, keeping
 * the mesh path (and mTLS) where the ClusterIP-only case falls to the passthrough.
 */
export default scenario('http-pod-ip-headless-permissive', 'HTTP to a headless-Service pod IP under PERMISSIVE mTLS')
  .seed('seeds/001 (direct pod-to-pod HTTP, headless Service)')
  .mesh({ mtls: 'PERMISSIVE' })
  .probe({ name: 'manager → other manager pod IP:8080', from: 'manager', to: { pod: 'other-manager' }, port: HTTP_PORT, protocol: 'http' })
  .expectRows(httpHeadlessRows('PERMISSIVE'))
  .build();
