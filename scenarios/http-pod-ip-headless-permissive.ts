import { scenario } from '../harness/runner/index.ts';
import { headlessProbes } from './common.ts';

/**
 * The direct pod-to-pod HTTP incident: HTTP to the other manager's pod IP with the headless Service manager-headless applied
 * (an extra: in the baseline its TCP side would change the first seed's paths). Two probes, rows in
 * common.ts (httpHeadlessRows):
 * - Host = a per-pod name under manager-headless: istiod gives the headless vhost `*.<service>`
 *   domains, so the request takes outbound|8080||manager-headless… (ORIGINAL_DST) to the dialled pod.
 * - Host = the pod IP: the seed's "*" fallback, which istiod's code does not show plainly: observed.
 * Under PERMISSIVE: plaintext or mTLS, the server accepts; the per-pod-name probe is pinned.
 */
export default scenario('http-pod-ip-headless-permissive', 'HTTP to a headless-Service pod IP under PERMISSIVE mTLS')
  .seed('direct pod-to-pod HTTP incident (headless Service)')
  .mesh({ mtls: 'PERMISSIVE' })
  .apply('manager-headless')
  .probe(headlessProbes('PERMISSIVE')[0])
  .probe(headlessProbes('PERMISSIVE')[1])
  .build();
