import { scenario } from '../harness/runner/index.ts';
import { TCP_PORT } from '../manifests/topology.ts';
import { baselineRows } from './common.ts';

/**
 * The path before anything breaks (seeds/000, "This is not perfect, but at least, it's working"):
 * a pod IP unknown to the mesh leaves through PassthroughCluster and enters the target through
 * its inbound cluster.
 *
 * The pinned probe goes manager → app's pod IP: app has only a ClusterIP Service. The seed's own
 * probe (manager → the other manager replica) is recorded with `observe`: the bed also has the
 * headless Service manager-headless declaring 5701, and istiod builds one outbound listener per
 * pod IP for a headless Service's TCP ports (PILOT_ENABLE_HEADLESS_SERVICE_POD_LISTENERS, on by
 * default), so that connection most likely takes outbound|5701||manager-headless… instead.
 */
export default scenario('tcp-pod-ip-baseline', 'TCP to a pod IP leaves through PassthroughCluster and is echoed by that pod')
  .seed('seeds/000 (Hazelcast on 5701, pod-to-pod)')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: TCP_PORT, protocol: 'tcp', count: 2 })
  .probe({
    name: 'manager → other manager pod IP:5701',
    from: 'manager',
    to: { pod: 'other-manager' },
    port: TCP_PORT,
    protocol: 'tcp',
    expect: [{
      versions: '*',
      outcome: 'echoed',
      responder: 'target',
      client: { cluster: 'outbound', name: 'outbound|5701||manager-headless.manager.svc.cluster.local' },
      server: { cluster: 'inbound', name: 'inbound|5701||' },
      observe: 'manager-headless declares 5701: per-pod headless listeners probably take this connection; not yet seen on a live bed',
    }],
  })
  .expect('<1.8', baselineRows()[0])
  .expect('>=1.8', baselineRows()[1])
  .build();
