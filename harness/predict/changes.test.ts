import test from 'ava';
import path from 'node:path';
import { explain, loadConfigDump, type Explanation } from '../envoy/index.ts';
import { MANIFESTS_DIR } from '../manifests/index.ts';
import { readGolden } from '../../oracle/goldens.ts';
import { loadManifests } from './load.ts';
import { ISTIO_DEFAULT_MESH, predictModel } from './model.ts';
import { diffSummaries, originOf, summarizeSidecar } from './changes.ts';
import { evidenceOf } from './evidence.ts';

const STATE = 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false';

async function seedModel(extras = ['app-ext-externalname']) {
  const { documents } = await loadManifests([path.join(MANIFESTS_DIR, 'base'), ...extras.map((e) => path.join(MANIFESTS_DIR, 'extras', `${e}.yaml`))], process.cwd());
  return predictModel(documents, { from: { namespace: 'manager', name: 'manager' }, mesh: ISTIO_DEFAULT_MESH, pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } });
}

test('summary of a golden sidecar: the catch-all ports are exactly those where an unknown IP does not go to PassthroughCluster', (t) => {
  const s120 = summarizeSidecar(loadConfigDump(readGolden('1.20', STATE, 'manager')!));
  const s124 = summarizeSidecar(loadConfigDump(readGolden('1.24', STATE, 'manager')!));
  // 0.0.0.0_8080 exists in both (HTTP: an unknown IP's Host falls to the passthrough vhost): not a catch-all.
  t.true(s120.listeners.has('0.0.0.0_8080') && s124.listeners.has('0.0.0.0_8080'));
  t.deepEqual([...s120.catchAlls], [[5701, 'outbound|5701||app-ext.app.svc.cluster.local']]);
  t.deepEqual([...s124.catchAlls], []);
  t.deepEqual(s120.listeners.get('0.0.0.0_5701'), ['outbound|5701||app-ext.app.svc.cluster.local']);
  t.is(s120.clusters.get('outbound|5701||app-ext.app.svc.cluster.local'), 'STRICT_DNS');
  t.false([...s120.clusters.keys()].some((n) => n.startsWith('inbound|')), 'inbound clusters do not carry outbound traffic');
});

test('the diff from 1.20 to 1.24 on the seed, and nothing from 1.24 to 1.26 but what the goldens differ in', async (t) => {
  const model = await seedModel();
  const index = { cluster: model.cluster, serviceEntries: model.serviceEntries };
  const at = (minor: string, release: string) => ({ minor, release, summary: summarizeSidecar(loadConfigDump(readGolden(minor, STATE, 'manager')!)) });
  const changes = diffSummaries(index, at('1.20', '1.20.0'), at('1.24', '1.24.0'), model.pilotEnv);
  t.deepEqual(changes.map((c) => `${c.kind} ${c.subject} ${c.change}`).sort(), [
    'catch-all 5701 gone',
    'cluster outbound|5701||app-ext.app.svc.cluster.local gone',
    'cluster outbound|8080||app-ext.app.svc.cluster.local gone',
    'istiod ENABLE_EXTERNAL_NAME_ALIAS gone',
    'listener 0.0.0.0_5701 gone',
  ]);
  t.true(changes.every((c) => c.minor === '1.24' && c.since === '1.20' && c.text.startsWith('1.24: ')));
  const later = diffSummaries(index, at('1.24', '1.24.0'), at('1.26', '1.26.0'), model.pilotEnv);
  t.false(later.some((c) => c.kind === 'catch-all' || c.subject.includes('app-ext')));
  t.is(originOf(index, 'outbound|5701||app-ext.app.svc.cluster.local'), 'ExternalName app/app-ext');
  t.is(originOf(index, 'outbound|5701||manager.manager.svc.cluster.local'), 'Service manager/manager');
  t.is(originOf(index, 'PassthroughCluster'), null);
});

test('a ServiceEntry is named as the origin of its clusters', async (t) => {
  const model = await seedModel(['serviceentry-dns-5701']);
  const se = model.serviceEntries[0];
  t.truthy(se);
  t.is(originOf({ cluster: model.cluster, serviceEntries: model.serviceEntries }, `outbound|5701||${se.hosts[0]}`), `ServiceEntry ${se.namespace}/${se.name}`);
});

test('evidence: what the client sidecar would log, from the walk and from what answers on the endpoint\'s port', async (t) => {
  const model = await seedModel();
  const dump120 = loadConfigDump(readGolden('1.20', STATE, 'manager')!);
  const ev = (e: Explanation, http = false) => evidenceOf(e, model.cluster, 'manager', http);
  const captured = ev(explain(dump120, { dst: '10.244.0.12:5701' }));
  t.like(captured, { responseCode: 0, flags: ['UF', 'URX'], cluster: 'outbound|5701||app-ext.app.svc.cluster.local', upstreamHost: 'idle.idle.svc.cluster.local:5701' });
  t.regex(captured.why, /Service idle\/idle has no port 5701/);
  // The same catch-all toward a port idle does serve would connect: no flags.
  const viaService = ev({ ...explain(dump120, { dst: '10.244.0.12:5701' }), cluster: { name: 'outbound|8080||app-ext.app.svc.cluster.local', type: 'STRICT_DNS', endpoints: ['idle.idle.svc.cluster.local:8080'] } });
  t.deepEqual(viaService.flags, []);
  const outside = ev({ ...explain(dump120, { dst: '10.244.0.12:5701' }), cluster: { name: 'outbound|5701||db.example.com', type: 'STRICT_DNS', endpoints: ['db.example.com:5701'] } });
  t.deepEqual(outside.flags, ['?']);
  const passthrough = ev(explain(loadConfigDump(readGolden('1.24', STATE, 'manager')!), { dst: '10.244.0.12:5701' }));
  t.like(passthrough, { text: '0 - PassthroughCluster', upstreamHost: '10.244.0.12:5701' });
  const service = ev(explain(dump120, { dst: `${model.cluster.services.find((s) => s.name === 'manager')!.clusterIP}:5701` }));
  t.like(service, { flags: [], cluster: 'outbound|5701||manager.manager.svc.cluster.local' });
  t.regex(service.upstreamHost ?? '', /^10\.244\.0\.1[12]:5701$/);
  const base = explain(dump120, { dst: '10.244.0.12:5701' });
  t.like(ev({ ...base, verdict: 'rejected', route: null, cluster: null }), { text: '0 NR -' });
  t.like(ev({ ...base, verdict: 'rejected', route: { config: '8080', virtualHost: '', route: null }, cluster: null }, true), { text: '404 NR -' });
  t.like(ev({ ...base, verdict: 'blackhole', cluster: { name: 'BlackHoleCluster', type: 'STATIC', endpoints: [] } }), { text: '0 UH BlackHoleCluster' });
  t.like(ev({ ...base, verdict: 'no-healthy-upstream' }, true), { responseCode: 503, flags: ['UH'] });
  t.like(ev({ ...base, verdict: 'unknown' }), { flags: ['?'] });
});
