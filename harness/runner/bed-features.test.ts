import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { baselineRows, MEMBER_TO_MEMBER } from '../../scenarios/common.ts';
import { scenario } from './scenario.ts';
import { FakeKube } from '../cluster/testing/doubles.ts';
import { Plan } from '../exec/index.ts';
import type { KubeDocument } from '../kube/index.ts';
import { bedFeatures, defaultFeatures, FeaturesUnreadable, featuresMatch, istiodSettings, type BedFeatures } from './bed-features.ts';
import { DEFAULT_PIPELINE, runAttempt, type PipelineOptions } from './pipeline.ts';
import { PlanKube } from './plan-kube.ts';
import { readBedFeatures, runningConnectTimeout, runSuite } from './suite.ts';
import { recordingSink } from './events.ts';
import { readReport } from '../report/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackMesh } from './testing/loopback-mesh.ts';
import { LOOPBACK_BUDGETS } from './testing/budgets.ts';

// Block 127.0.27.0/24 belongs to this file.
const BLOCK = 27;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);
const FAST: PipelineOptions = { ...DEFAULT_PIPELINE, ...LOOPBACK_BUDGETS, keepOnFailure: false };

function istiod(env: Record<string, string> | Array<Record<string, unknown>>, container = 'discovery'): KubeDocument {
  const list = Array.isArray(env) ? env : Object.entries(env).map(([name, value]) => ({ name, value }));
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { template: { spec: { containers: [{ name: container, env: list }] } } } };
}

const on = (istio: string, env: Record<string, string> = {}, mesh: Record<string, unknown> = {}): BedFeatures => bedFeatures(istio, { env, mesh })!;

test('ExternalName alias: no flag before 1.20, default off on 1.20, on 1.21–1.23, read from the env there, never read from 1.24', (t) => {
  t.false(on('1.19.4', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }).externalNameAlias, '1.19 has no flag');
  t.is(on('1.19.4').source.externalNameAlias, 'not configurable in Istio 1.19');
  t.false(on('1.20.8').externalNameAlias);
  t.is(on('1.20.8').source.externalNameAlias, 'default for Istio 1.20');
  t.true(on('1.20.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }).externalNameAlias);
  t.is(on('1.20.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }).source.externalNameAlias, 'istiod');
  t.true(on('1.21.0').externalNameAlias);
  t.false(on('1.23.6', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }).externalNameAlias);
  t.true(on('1.23.6', { ENABLE_EXTERNAL_NAME_ALIAS: 'maybe' }).externalNameAlias, 'not a Go bool: the default stays');
  t.true(on('1.24.0', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }).externalNameAlias, 'istiod 1.24 no longer reads the flag');
  t.is(on('1.30.1', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }).source.externalNameAlias, 'not configurable in Istio 1.30');
});

test('DNS capture and auto-allocation: proxyMetadata, and PILOT_ENABLE_IP_AUTOALLOCATE from 1.24 (default on from 1.25)', (t) => {
  const md = (m: Record<string, string>) => ({ defaultConfig: { proxyMetadata: m } });
  t.false(on('1.26.0').dnsCapture);
  t.is(on('1.26.0').source.dnsCapture, 'default for Istio 1.26');
  t.true(on('1.26.0', {}, md({ ISTIO_META_DNS_CAPTURE: 'true' })).dnsCapture);
  t.is(on('1.26.0', {}, md({ ISTIO_META_DNS_CAPTURE: 'true' })).source.dnsCapture, 'istiod');
  t.false(on('1.23.0', { PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }).dnsAutoAllocate, 'before 1.24 only the proxy metadata enables it');
  t.true(on('1.23.0', {}, md({ ISTIO_META_DNS_AUTO_ALLOCATE: 'true' })).dnsAutoAllocate);
  t.false(on('1.24.2').dnsAutoAllocate, '1.24 default off');
  t.true(on('1.24.2', { PILOT_ENABLE_IP_AUTOALLOCATE: 'true' }).dnsAutoAllocate);
  t.true(on('1.25.0').dnsAutoAllocate, '1.25 default on');
  t.false(on('1.25.0', { PILOT_ENABLE_IP_AUTOALLOCATE: 'false' }).dnsAutoAllocate);
  t.is(on('1.25.0', { PILOT_ENABLE_IP_AUTOALLOCATE: 'false' }).source.dnsAutoAllocate, 'istiod');
});

test('outbound traffic policy and connectTimeout: read from the mesh config, Istio defaults ALLOW_ANY and 10s', (t) => {
  t.is(on('1.30.0').outboundTrafficPolicy, 'ALLOW_ANY');
  t.is(on('1.30.0').connectTimeout, '10s');
  t.is(on('1.30.0').source.connectTimeout, 'default for Istio 1.30');
  const read = on('1.30.0', {}, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, connectTimeout: '1s' });
  t.is(read.outboundTrafficPolicy, 'REGISTRY_ONLY');
  t.is(read.connectTimeout, '1s');
  t.is(read.source.outboundTrafficPolicy, 'istiod');
  t.is(bedFeatures('latest', { env: {}, mesh: {} }), null, 'no version, no defaults');
});

test('istiod settings: plain env of the discovery container and the mesh YAML; anything else is unreadable, saying what', (t) => {
  const s = istiodSettings([istiod([{ name: 'A', value: '1' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }])], { mesh: 'connectTimeout: 1s\ndefaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n' });
  t.deepEqual(s.env, { A: '1' }, 'valueFrom env has no value in the Deployment');
  t.is(s.mesh.connectTimeout, '1s');
  t.deepEqual(istiodSettings([istiod({})], {}).mesh, {}, 'no mesh key: nothing set');
  t.throws(() => istiodSettings([], {}), { instanceOf: FeaturesUnreadable, message: /no Deployment istio-system\/istiod/ });
  t.throws(() => istiodSettings([istiod({}, 'pilot')], {}), { message: /no container 'discovery'/ });
  t.throws(() => istiodSettings([istiod({})], null), { message: /no ConfigMap istio-system\/istio/ });
  t.throws(() => istiodSettings([istiod({})], { mesh: 'a: [' }), { message: /not YAML/ });
  t.throws(() => istiodSettings([istiod({})], { mesh: '- a' }), { message: /not a mapping/ });
});

test('readBedFeatures through a KubeApi: the fake cluster answers, the dry run records both reads and reads nothing', async (t) => {
  const fake = new FakeKube('kind-podpath');
  fake.objects.set('Deployment/istio-system', [istiod({ ENABLE_EXTERNAL_NAME_ALIAS: 'false' })]);
  fake.configMaps.set('istio-system/istio', { mesh: 'connectTimeout: 1s\n' });
  const read = await readBedFeatures(fake, '1.22.8');
  t.is(read.problem, null);
  t.false(read.features?.externalNameAlias);
  t.is(read.features?.source.externalNameAlias, 'istiod');
  t.is(read.features?.connectTimeout, '1s');

  const plan = new Plan();
  const dry = await readBedFeatures(new PlanKube(plan), '1.22.8');
  t.is(dry.features, null);
  t.true(plan.steps.some((s) => s.kind === 'api' && s.text === 'list Deployment (apps/v1) in istio-system'), JSON.stringify(plan.steps));
  t.true(plan.steps.some((s) => s.kind === 'api' && s.text === 'read ConfigMap istio-system/istio'));

  const down = new FakeKube('kind-podpath');
  down.failures.set('listObjects', new Error('connection refused'));
  const failed = await readBedFeatures(down, '1.22.8');
  t.is(failed.features, null);
  t.regex(failed.problem ?? '', /connection refused.*chosen by Istio version range/);
});

test('featuresMatch: every named feature must have the value; none named matches all', (t) => {
  const f = on('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' });
  t.true(featuresMatch({ externalNameAlias: false }, f));
  t.false(featuresMatch({ externalNameAlias: false, dnsCapture: true }, f));
  t.true(featuresMatch({}, f));
  t.deepEqual(defaultFeatures('1.22.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }), f);
});

const collisionScenario = SCENARIOS.find((s) => s.id === 'externalname-5701-collision')!;

test('a bed whose istiod runs with the alias flag on is judged by the feature row, where the version row would expect the collision', async (t) => {
  // Asked for no env (the marker says none), so '<=1.20' would expect the 1.20 default: the collision.
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8', istiodEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'true' } });
  t.teardown(() => mesh.close());
  t.is(mesh.target.features?.externalNameAlias, true);
  const r = await runAttempt(mesh, collisionScenario, 1, FAST);
  t.is(r.status, 'passed', JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.is(r.probes[0].rowChosenBy, 'features');
  t.regex(r.probes[0].notes?.[0] ?? '', /chosen by the bed's features: externalNameAlias=true \(istiod\)/);
  t.is(r.probes[0].expected.client?.clusterKind, 'passthrough');
});

test('a bed whose features could not be read falls back to the version rows and says so', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8', featuresUnreadable: true });
  t.teardown(() => mesh.close());
  const r = await runAttempt(mesh, collisionScenario, 1, FAST);
  t.is(r.status, 'passed', JSON.stringify(r.probes.map((p) => p.mismatches)));
  t.is(r.probes[0].rowChosenBy, 'versions');
  t.regex(r.probes[0].notes?.[0] ?? '', /features were not read: row \d+ \(<=1\.20\) chosen by Istio version 1\.20\.8 as a fallback/);
  t.is(r.probes[0].expected.client?.clusterKind, 'outbound', 'the 1.20 default: the collision');
});

test('a scenario of version rows only carries no row note', async (t) => {
  const mesh = await LoopbackMesh.start({ block: BLOCK, istio: '1.20.8' });
  t.teardown(() => mesh.close());
  const versionRows = scenario('version-rows', 'version rows only').probe({ ...MEMBER_TO_MEMBER }).expectRows(baselineRows()).build();
  const r = await runAttempt(mesh, versionRows, 1, FAST);
  t.is(r.status, 'passed');
  for (const p of r.probes) {
    t.is(p.rowChosenBy, undefined);
    t.is(p.notes, undefined);
  }
});

test('the run records each bed\'s features in report.json, and judges by them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-features-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const beds: LoopbackMesh[] = [];
  t.teardown(() => Promise.all(beds.map((b) => b.close())));
  const { report, runDir } = await runSuite(
    { scenarios: ['^externalname-5701-collision$'], istio: ['1.20'], reuse: false, keep: false, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir: dir, dryRun: false, logEncoding: 'text' },
    recordingSink(),
    {
      scenarios: SCENARIOS,
      openBed: async (spec) => {
        const bed = await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, istiodEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'true' } });
        beds.push(bed);
        return bed;
      },
      pipeline: LOOPBACK_BUDGETS,
    },
  );
  t.is(report.targets[0].features?.externalNameAlias, true);
  t.is(report.targets[0].features?.source.externalNameAlias, 'istiod');
  t.is(report.targets[0].scenarios[0].status, 'passed', JSON.stringify(report.targets[0].scenarios[0]));
  t.deepEqual((await readReport(runDir)).report.targets[0].features, report.targets[0].features);
});

test('connectTimeout: what istiod runs when read (a mesh that sets none runs Istio\'s default), else what the marker says was installed', (t) => {
  t.is(runningConnectTimeout(on('1.26.0', {}, { connectTimeout: '2s' }), '1s'), '2s', 'the mesh config wins over the marker');
  t.is(runningConnectTimeout(on('1.26.0'), '1s'), null, 'installed with 1s, but the mesh sets none now');
  t.is(runningConnectTimeout(null, '1s'), '1s');
  t.is(runningConnectTimeout(null, ''), null);
});
