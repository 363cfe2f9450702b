import { scenario } from '../harness/runner/index.ts';
import { SERVICE_ENTRY_HOST, TCP_PORT } from '../manifests/topology.ts';
import { collision, MEMBER_TO_MEMBER } from './common.ts';

/**
 * The seed collision in its >= 1.24 form: a ServiceEntry with resolution DNS, a TCP port 5701 and
 * no addresses builds the same 0.0.0.0_5701 catch-all (STRICT_DNS cluster → idle, no 5701 there).
 * Observed, not pinned: address auto-allocation (on by default from 1.25, used only with DNS
 * proxying) and DNS capture change the outcome; the nightly matrix records what each release does.
 */
export default scenario('serviceentry-dns-5701-collision', 'A DNS ServiceEntry on 5701 without addresses captures pod-IP traffic on 5701')
  .seed('Hazelcast ExternalName incident (same collision, ServiceEntry form for Istio >= 1.24)')
  .apply('serviceentry-dns-5701')
  .probe({ ...MEMBER_TO_MEMBER })
  .expect('*', { ...collision('*', `outbound|${TCP_PORT}||${SERVICE_ENTRY_HOST}`), observe: 'auto-allocation and DNS capture defaults change per release; pinned once the nightly matrix has seen each version' })
  .build();
