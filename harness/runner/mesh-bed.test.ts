import test from 'ava';
import type { KubeApi, KubeDocument } from '../kube/index.ts';
import { LiveMeshBed } from './mesh-bed.ts';

function recordingKube(calls: string[]): KubeApi {
  const unused = (name: string) => async (): Promise<never> => {
    throw new Error(`LiveMeshBed does not call ${name}`);
  };
  const pod = (name: string, ready: boolean, ip: string, terminating = false) => ({ name, namespace: 'manager', ip, ready, terminating, labels: {}, node: null });
  return {
    apply: async (docs) => void calls.push(`apply ${docs.map((d) => d.metadata.name).join(',')}`),
    delete: async (docs, o) => void calls.push(`delete ${docs.map((d) => d.metadata.name).join(',')} wait=${o?.wait}`),
    listPods: async (ns, selector) => (calls.push(`list ${ns} ${selector}`), [pod('manager-b', true, '10.0.0.2'), pod('manager-c', false, ''), pod('manager-a', true, '10.0.0.1'), pod('manager-0', true, '10.0.0.9', true)]),
    logs: async (p, c, o) => (calls.push(`logs ${p.name} ${c} ${o?.sinceTime?.toISOString()}`), ''),
    probe: async () => [],
    configDump: async () => ({}),
    sidecarClusters: async (p) => (calls.push(`clusters ${p.name}`), ''),
    waitForConfig: async () => {},
    events: async () => [],
    currentContext: () => 'kind-podpath',
    waitForRollout: unused('waitForRollout'),
    readConfigMapData: unused('readConfigMapData'),
    deploymentImages: unused('deploymentImages'),
    listObjects: unused('listObjects'),
    acquireLease: unused('acquireLease'),
  };
}

const doc = (name: string): KubeDocument => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'app' } });
const EXTRAS: Record<string, KubeDocument[]> = { 'app-ext-externalname': [doc('app-ext')], 'fix-drop-port': [doc('app-ext')], 'fix-sidecar-egress': [doc('sidecar')] };

function bed(calls: string[]) {
  return new LiveMeshBed({
    name: 'podpath', target: { istio: '1.22.8', pilotEnv: {} }, kubernetes: '1.30', meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' }, plan: null,
    kube: recordingKube(calls), extraDocuments: async (n) => EXTRAS[n],
  });
}

test('pods: only ready, not terminating ones with an IP, in name order, listed once per workload', async (t) => {
  const calls: string[] = [];
  const b = bed(calls);
  t.deepEqual((await b.pods('manager')).map((p) => p.name), ['manager-a', 'manager-b']);
  await b.pods('manager');
  t.deepEqual(calls, ['list manager app=manager']);
});

test('an object shared by two extras is deleted once, and again after it is re-applied', async (t) => {
  const calls: string[] = [];
  const b = bed(calls);
  await b.apply('app-ext-externalname');
  await b.apply('fix-drop-port');
  await b.remove('fix-drop-port');
  await b.remove('app-ext-externalname');
  await b.apply('app-ext-externalname');
  await b.remove('app-ext-externalname');
  t.deepEqual(calls, ['apply app-ext', 'apply app-ext', 'delete app-ext wait=true', 'apply app-ext', 'delete app-ext wait=true']);
});

test('sidecar logs are read from istio-proxy since the given time', async (t) => {
  const calls: string[] = [];
  await bed(calls).sidecarLog({ name: 'manager-a', namespace: 'manager', ip: '10.0.0.1', workload: 'manager' }, new Date('2026-11-20T10:00:00.000Z'));
  t.deepEqual(calls, ['logs manager-a istio-proxy 2026-11-20T10:00:00.000Z']);
});
