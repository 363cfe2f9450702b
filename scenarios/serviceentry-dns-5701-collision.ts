import { scenario } from '../harness/runner/index.ts';
import { SERVICE_ENTRY_HOST, TCP_PORT } from '../manifests/topology.ts';
import { baselineRows, collision, MEMBER_TO_MEMBER, REGISTRY_ONLY, registryOnlyTcp } from './common.ts';

const SE_CLUSTER = `outbound|${TCP_PORT}||${SERVICE_ENTRY_HOST}`;
const NO_GOLDEN = 'no istiod oracle build for 1.28, 1.29 or 1.31+ (module proxy); pinned once goldens or a live run show it';
const NO_DNS_CAPTURE_GOLDEN = "the oracle's goldens build sidecars without DNS capture; pinned once a golden or a live run shows it";

/**
 * The seed collision in its >= 1.24 form: a ServiceEntry with resolution DNS, a TCP port 5701 and
 * no addresses builds the same 0.0.0.0_5701 catch-all (STRICT_DNS cluster → idle, no 5701 there).
 * Pinned where the istiod oracle has goldens (1.20, 1.24, 1.26, 1.27, 1.30: 0.0.0.0_5701 → the
 * STRICT_DNS cluster): an auto-allocated address (on by default from 1.25) is only used by a proxy
 * that captures DNS (pilot/pkg/model/service.go GetAddressForProxy / nodeUsesAutoallocatedIPs, the
 * same check on the release-1.30 commit the oracle builds), and sidecars do not by default.
 * Observed on 1.28, 1.29 and 1.31+, where no oracle build exists.
 * Keyed on the bed's features: without DNS capture, the collision; with DNS capture and
 * auto-allocation (ISTIO_META_DNS_CAPTURE + ISTIO_META_DNS_AUTO_ALLOCATE, or from 1.24
 * PILOT_ENABLE_IP_AUTOALLOCATE) the listener binds the allocated address and pod-IP traffic passes
 * through (to BlackHoleCluster under REGISTRY_ONLY). Rows the goldens do not cover (they build sidecars without DNS capture) only observe.
 * The version rows are the fallback for a bed whose istiod could not be read.
 */
export default scenario('serviceentry-dns-5701-collision', 'A DNS ServiceEntry on 5701 without addresses captures pod-IP traffic on 5701')
  .seed('Hazelcast ExternalName incident (same collision, ServiceEntry form for Istio >= 1.24)')
  .apply('serviceentry-dns-5701')
  .probe({ ...MEMBER_TO_MEMBER })
  .when({ dnsCapture: true, dnsAutoAllocate: true, ...REGISTRY_ONLY }, registryOnlyTcp())
  .when({ dnsCapture: true, dnsAutoAllocate: true }, { ...baselineRows()[1], observe: NO_DNS_CAPTURE_GOLDEN }, '>=1.8')
  .when({ dnsCapture: false }, collision('*', SE_CLUSTER), '<=1.27 || 1.30')
  .when({ dnsCapture: false }, { ...collision('*', SE_CLUSTER), observe: NO_GOLDEN }, '>=1.28')
  .when({ dnsAutoAllocate: false }, { ...collision('*', SE_CLUSTER), observe: NO_DNS_CAPTURE_GOLDEN })
  .expect('<=1.27 || 1.30', collision('<=1.27 || 1.30', SE_CLUSTER))
  .expect('>=1.28', { ...collision('>=1.28', SE_CLUSTER), observe: NO_GOLDEN })
  .build();
