import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { KubeClient } from '../kube/index.ts';
import { extraDocuments } from '../manifests/index.ts';
import { FakeApiServer } from '../kube/testing/fake-api-server.ts';
import type { ProbeRequest } from '../probe/index.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { DEFAULT_PIPELINE, runAttempt } from './pipeline.ts';
import { LiveMeshBed } from './mesh-bed.ts';
import { LoopbackMesh } from './testing/loopback-mesh.ts';

// Block 127.0.25.0/24 belongs to this file.
const BLOCK = 25;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);

/**
 * The live path end to end without a cluster: LiveMeshBed → the REAL KubeClient (client-node) →
 * harness/kube's fake API server, whose pod proxy, exec and log endpoints are wired to the
 * loopback double's agents, config dumps and sidecar logs; applying or deleting app-ext through
 * the API changes the double's routing.
 */
test('LiveMeshBed on the real KubeClient: the seed collision, probed through the pod proxy, read from pod logs', async (t) => {
  const fake = await FakeApiServer.start();
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(async () => {
    await mesh.close();
    await fake.close();
  });
  const pods = [...(await mesh.pods('manager')), ...(await mesh.pods('app')), ...(await mesh.pods('idle'))];
  for (const p of pods) {
    fake.put(`/api/v1/namespaces/${p.namespace}/pods/${p.name}`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: { app: p.workload } },
      status: { podIP: p.ip, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  fake.proxyHandler = async ({ namespace, pod, port, body }) => {
    const from = pods.find((p) => p.namespace === namespace && p.name === pod);
    if (!from || port !== 15999) return { status: 404, body: '{}' };
    return { status: 200, body: JSON.stringify(await mesh.probe(from, JSON.parse(body) as ProbeRequest)) };
  };
  fake.execHandler = ({ pod, container }) => (container === 'istio-proxy' ? { stdout: JSON.stringify(mesh.dumpOf(pod)), exitCode: 0 } : { stdout: '', exitCode: 1 });
  fake.onRequest.push((req) => {
    if (req.path.endsWith('/log')) {
      for (const p of pods) fake.logs.set(`${p.namespace}/${p.name}/istio-proxy`, mesh.logLines(p.name).map((l) => ({ time: new Date(l.at), line: l.line })));
    }
    if (req.path.endsWith('/namespaces/app/services/app-ext')) {
      if (req.method === 'PATCH') void mesh.apply('app-ext-externalname');
      if (req.method === 'DELETE') void mesh.remove('app-ext-externalname');
    }
  });
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: await fake.writeKubeconfig() });
  const bed = new LiveMeshBed({
    name: 'fake', target: { istio: '1.20.8', pilotEnv: {} }, kubernetes: null, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' },
    plan: null, kube, extraDocuments,
  });
  const s = SCENARIOS.find((x) => x.id === 'externalname-5701-collision')!;
  const r = await runAttempt(bed, s, 1, { ...DEFAULT_PIPELINE, probeMarginMs: 1000, pushWindowMs: 2000, convergeTimeoutMs: 5000, logDeadlineMs: 5000, keepOnFailure: false });
  t.is(r.status, 'passed', JSON.stringify({ error: r.error, mismatches: r.probes.map((p) => p.mismatches) }));
  const observed = r.probes[0].observed[0];
  t.deepEqual(observed.client?.flags, ['UF', 'URX']);
  t.is(observed.client?.cluster, 'outbound|5701||app-ext.app.svc.cluster.local');
  t.is(r.probes[0].prediction?.verdict, 'captured');
  t.true(fake.calls().some((c) => c.method === 'PATCH' && c.path.endsWith('/services/app-ext')), 'server-side apply of app-ext');
  t.true(fake.calls().some((c) => c.method === 'DELETE' && c.path.endsWith('/services/app-ext')), 'and its deletion');
  t.true(fake.calls().some((c) => c.path.endsWith('/log') && c.query.get('container') === 'istio-proxy' && c.query.has('sinceTime')));
  t.deepEqual(mesh.applied, []);
});
