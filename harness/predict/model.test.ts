import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors/index.ts';
import { istioOperator } from '../cluster/config.ts';
import { DEFAULT_CONNECT_TIMEOUT } from '../runner/suite.ts';
import { MANIFESTS_DIR, type KubeDocument } from '../manifests/index.ts';
import { bedStates, meshConfigYaml, oracleInput } from '../../oracle/inputs.ts';
import { oracleVersion } from '../../oracle/versions.ts';
import { loadManifests } from './load.ts';
import { parsePilotEnv } from '../cluster/config.ts';
import { ISTIO_DEFAULT_MESH, parseMeshConfig, parsePodIps, predictModel, resolveDestination, type MeshConfigSource } from './model.ts';
import { selectMinors } from './versions.ts';

const FROM = { namespace: 'manager', name: 'manager' };

/** What a user would pass for a bed state: manifests/base and the state's extras as files. */
async function bedFiles(extras: readonly string[]): Promise<KubeDocument[]> {
  return (await loadManifests([path.join(MANIFESTS_DIR, 'base'), ...extras.map((e) => path.join(MANIFESTS_DIR, 'extras', `${e}.yaml`))], process.cwd())).documents;
}

const BED_MESH: MeshConfigSource = parseMeshConfig(stringify(istioOperator({ logEncoding: 'text', connectTimeout: DEFAULT_CONNECT_TIMEOUT })), 'podpath-up.yaml');

test("for every bed state, predict's input from the manifest files is exactly what oracle/inputs.ts gives istiod (the goldens' input)", async (t) => {
  const states = bedStates();
  t.true(states.length > 5);
  for (const state of states) {
    const release = oracleVersion('1.24')!.release;
    const model = predictModel(await bedFiles(state.extras), { from: FROM, mesh: BED_MESH, pilotEnv: { ...state.pilotEnv } });
    const ours = model.input(release);
    const oracle = await oracleInput(state, release);
    t.deepEqual(ours, oracle, state.id);
    t.is(ours.inputsHash, oracle.inputsHash, state.id);
  }
});

test("without --mesh-config predict gives istiod Istio's default mesh config: the one documented difference from the bed's input", async (t) => {
  const state = bedStates().find((s) => s.id === 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false')!;
  const model = predictModel(await bedFiles(state.extras), { from: FROM, mesh: ISTIO_DEFAULT_MESH, pilotEnv: { ...state.pilotEnv } });
  const ours = model.input('1.24.0');
  const oracle = await oracleInput(state, '1.24.0');
  t.is(ours.meshConfig, '');
  t.not(oracle.meshConfig, '');
  t.deepEqual({ ...ours, meshConfig: oracle.meshConfig, inputsHash: '' }, { ...oracle, inputsHash: '' });
  t.not(ours.inputsHash, oracle.inputsHash, 'the hash covers the mesh config');
});

test('mesh config: an IstioOperator (with its pilot env), Helm values, the istio ConfigMap, a bare block; other kinds refused', (t) => {
  t.is(BED_MESH.meshConfig, meshConfigYaml());
  const op = parseMeshConfig('kind: IstioOperator\napiVersion: install.istio.io/v1alpha1\nspec:\n  meshConfig: { connectTimeout: 2s }\n  values: { pilot: { env: { ENABLE_EXTERNAL_NAME_ALIAS: false } } }\n', 'op.yaml');
  t.is(op.meshConfig, 'connectTimeout: 2s\n');
  t.deepEqual(op.pilotEnv, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' });
  t.is(parseMeshConfig('meshConfig:\n  outboundTrafficPolicy: { mode: REGISTRY_ONLY }\npilot: { env: { A: "1" } }\n', 'values.yaml').meshConfig, 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n');
  t.is(parseMeshConfig('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio }\ndata:\n  mesh: |-\n    connectTimeout: 3s\n', 'cm.yaml').meshConfig, 'connectTimeout: 3s\n');
  t.is(parseMeshConfig('connectTimeout: 1s\n', 'block.yaml').meshConfig, 'connectTimeout: 1s\n');
  t.is(parseMeshConfig('', 'empty.yaml').meshConfig, '');
  t.throws(() => parseMeshConfig('apiVersion: v1\nkind: Service\nmetadata: { name: x }\n', 'svc.yaml'), { instanceOf: UsageError, message: /is a Service, not a mesh config/ });
  t.throws(() => parseMeshConfig('- a\n', 'list.yaml'), { instanceOf: UsageError });
});

test('--pilot-env and --pod-ip are checked before anything runs', (t) => {
  t.deepEqual(parsePilotEnv(['A=1', 'B=x=y']), { A: '1', B: 'x=y' });
  t.throws(() => parsePilotEnv(['=1']), { instanceOf: UsageError });
  t.throws(() => parsePilotEnv(['NOEQUALS']), { instanceOf: UsageError });
  t.deepEqual([...parsePodIps(['manager/manager=10.1.0.1,10.1.0.2'])], [['manager/manager', ['10.1.0.1', '10.1.0.2']]]);
  t.throws(() => parsePodIps(['manager/manager=nope']), { instanceOf: UsageError });
});

test('--pod-ip fixes a workload\'s pods; --from must name a workload with a sidecar', async (t) => {
  const docs = await bedFiles(['app-ext-externalname']);
  const model = predictModel(docs, { from: FROM, mesh: ISTIO_DEFAULT_MESH, pilotEnv: {}, podIps: parsePodIps(['manager/manager=10.1.0.1,10.1.0.2']) });
  t.is(model.client.ip, '10.1.0.1');
  t.is(model.input('1.24.0').proxies[0].ip, '10.1.0.1');
  t.throws(() => predictModel(docs, { from: FROM, mesh: ISTIO_DEFAULT_MESH, pilotEnv: {}, podIps: parsePodIps(['manager/manager=10.1.0.1']) }), { instanceOf: UsageError, message: /2 replicas but 1 pod IPs/ });
  t.throws(() => predictModel(docs, { from: { namespace: 'manager', name: 'nope' }, mesh: ISTIO_DEFAULT_MESH, pilotEnv: {} }), { instanceOf: UsageError, message: /no Deployment, StatefulSet or Pod/ });
  const off = docs.map((d) => (d.kind === 'Namespace' && d.metadata.name === 'manager' ? { ...d, metadata: { ...d.metadata, labels: { 'istio-injection': 'disabled' } } } : d));
  t.throws(() => predictModel(off, { from: FROM, mesh: ISTIO_DEFAULT_MESH, pilotEnv: {} }), { instanceOf: UsageError, message: /has no sidecar/ });
});

test('a HOST:PORT destination resolves as the client pod\'s DNS would, within the manifests', async (t) => {
  const docs = await bedFiles(['app-ext-externalname', 'manager-headless']);
  const model = predictModel(docs, { from: FROM, mesh: ISTIO_DEFAULT_MESH, pilotEnv: {} });
  const ip = (name: string) => model.cluster.services.find((s) => s.name === name)!.clusterIP;
  t.is(resolveDestination(model, '10.244.0.12:5701').dst, '10.244.0.12:5701');
  t.is(resolveDestination(model, 'idle.idle.svc.cluster.local:8080').dst, `${ip('idle')}:8080`);
  t.is(resolveDestination(model, 'manager:5701').dst, `${ip('manager')}:5701`, 'a short name is the client namespace\'s');
  const ext = resolveDestination(model, 'app-ext.app:5701');
  t.is(ext.dst, `${ip('idle')}:5701`);
  t.regex(ext.resolved!, /ExternalName app\/app-ext → idle\.idle\.svc\.cluster\.local/);
  const headless = model.cluster.services.find((s) => s.clusterIP === 'None')!;
  t.regex(resolveDestination(model, `${headless.name}.${headless.namespace}.svc.cluster.local:5701`).dst, /^10\.244\.0\.1[12]:5701$/);
  t.is(resolveDestination(model, '10.244.0.12:8080', 'x.example').host, 'x.example');
  t.throws(() => resolveDestination(model, 'db.example.com:5432'), { instanceOf: UsageError, message: /does not resolve/ });
  t.throws(() => resolveDestination(model, 'nope'), { instanceOf: UsageError, message: /not IP:PORT or HOST:PORT/ });
});

test('--istio: lists and ranges over the minors podpath knows, in version order; a named minor is explicit', (t) => {
  t.deepEqual(selectMinors('1.24,1.20'), [{ minor: '1.20', explicit: true }, { minor: '1.24', explicit: true }]);
  const range = selectMinors('1.20..1.30');
  t.deepEqual(range.map((m) => m.minor), ['1.20', '1.21', '1.22', '1.23', '1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30']);
  t.true(range.every((m) => !m.explicit));
  t.deepEqual(selectMinors('1.22..1.23,1.23.4').map((m) => [m.minor, m.explicit]), [['1.22', false], ['1.23', true]]);
  t.throws(() => selectMinors('1.19'), { instanceOf: UsageError, message: /not an Istio minor the oracle knows/ });
  t.throws(() => selectMinors('1.26..1.24'), { instanceOf: UsageError, message: /backwards/ });
  t.throws(() => selectMinors(','), { instanceOf: UsageError });
});

test('manifest directories are read recursively in name order, and kind: List is opened', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'podpath-predict-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'b.yaml'), 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: { name: s, namespace: a }\n  spec: { ports: [{ port: 1 }] }\n');
  writeFileSync(path.join(dir, 'a.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'not yaml');
  const { files, documents } = await loadManifests([dir], '/');
  t.deepEqual(files.map((f) => path.basename(f)), ['a.yml', 'b.yaml']);
  t.deepEqual(documents.map((d) => d.kind), ['Namespace', 'Service']);
  await t.throwsAsync(loadManifests([path.join(dir, 'missing')], '/'), { instanceOf: UsageError });
});
