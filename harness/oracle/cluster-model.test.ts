import test from 'ava';
import type { KubeDocument } from '../manifests/index.ts';
import { clusterModel, injectorLabels } from './cluster-model.ts';

const deployment = (namespace: string, name: string, replicas: number, labels: Record<string, string> = { app: name }, extra: Record<string, unknown> = {}): KubeDocument => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels, ...extra }, spec: { containers: [{ name: 'c', ports: [{ name: 'tcp', containerPort: 5701 }] }] } } },
});
const service = (namespace: string, name: string, spec: Record<string, unknown>): KubeDocument => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
const ns = (name: string, labels: Record<string, string> = {}): KubeDocument => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

test('pod IPs: one block of ten per workload in namespace-declaration order, then input order; stable', (t) => {
  const docs = [deployment('b', 'web', 2), deployment('a', 'db', 1), deployment('z', 'x', 1), ns('a'), ns('b')];
  const model = clusterModel(docs);
  t.deepEqual(model.pods.map((p) => `${p.namespace}/${p.name}=${p.ip}`), ['a/db-0=10.244.0.11', 'b/web-0=10.244.0.21', 'b/web-1=10.244.0.22', 'z/x-0=10.244.0.31']);
  t.deepEqual(clusterModel(docs).pods, model.pods);
});

test('a workload with more replicas than a block holds takes the next blocks; given IPs are kept and never handed out twice', (t) => {
  const pod: KubeDocument = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'solo', namespace: 'a', labels: { app: 'solo' } }, spec: {}, status: { podIP: '10.244.0.12' } };
  const model = clusterModel([deployment('a', 'big', 11), pod, deployment('a', 'next', 1)]);
  const ips = model.pods.map((p) => p.ip);
  t.is(new Set(ips).size, ips.length);
  t.true(model.pods.find((p) => p.name === 'solo')!.ipGiven);
  t.is(model.pods.find((p) => p.name === 'solo')!.ip, '10.244.0.12');
  t.deepEqual(model.pods.filter((p) => p.workload === 'big').map((p) => p.ip).slice(8), ['10.244.0.21', '10.244.0.22', '10.244.0.23']);
  t.is(model.pods.find((p) => p.workload === 'next')!.ip, '10.244.0.31');
});

test('cluster IPs from 10.96.1.1 in kind/namespace/name order; ExternalName and headless get none; given ones are kept and skipped', (t) => {
  const model = clusterModel([
    service('b', 'svc', { ports: [{ port: 80 }] }),
    service('a', 'ext', { type: 'ExternalName', externalName: 'x.example.com', ports: [{ port: 5701 }] }),
    service('a', 'fixed', { clusterIP: '10.96.1.3', ports: [{ port: 80 }] }),
    service('a', 'headless', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 80 }] }),
  ]);
  const ip = (name: string) => model.services.find((s) => s.name === name)!;
  t.is(ip('ext').clusterIP, null);
  t.is(ip('fixed').clusterIP, '10.96.1.3');
  t.false(ip('fixed').ipAssigned);
  t.is(ip('headless').clusterIP, 'None');
  t.is(ip('svc').clusterIP, '10.96.1.5', 'fourth in order, after skipping the given 10.96.1.3');
  t.true(ip('svc').ipAssigned);
  t.true(model.services.some((s) => s.platform && s.name === 'kube-dns'));
});

test('endpoints: a selector Service gets EndpointSlice and Endpoints of its pods, named targetPorts resolved; user Endpoints are kept instead', (t) => {
  const own: KubeDocument = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'a' }, subsets: [{ addresses: [{ ip: '192.0.2.9' }], ports: [{ port: 5701 }] }] };
  const model = clusterModel([deployment('a', 'db', 2), service('a', 'db', { selector: { app: 'db' }, ports: [{ name: 'tcp', port: 15701, targetPort: 'tcp' }] }), service('a', 'manual', { ports: [{ port: 5701 }] }), own]);
  const slice = model.kubernetes.find((d) => d.kind === 'EndpointSlice' && d.metadata.name === 'db-oracle') as KubeDocument & { endpoints: Array<{ addresses: string[] }>; ports: Array<{ port: number }> };
  t.deepEqual(slice.endpoints.map((e) => e.addresses[0]), ['10.244.0.11', '10.244.0.12']);
  t.is(slice.ports[0].port, 5701);
  t.is(model.kubernetes.filter((d) => d.metadata.name === 'manual' && d.kind === 'Endpoints').length, 1);
  t.deepEqual(model.kubernetes.find((d) => d.metadata.name === 'manual' && d.kind === 'Endpoints'), own);
  t.false(model.kubernetes.some((d) => d.kind === 'EndpointSlice' && d.metadata.name === 'manual-oracle'));
});

test('injection: the injector labels, unless the pod or its namespace opts out', (t) => {
  const model = clusterModel([
    ns('off', { 'istio-injection': 'disabled' }),
    deployment('off', 'a', 1),
    deployment('on', 'b', 1, { app: 'b', 'sidecar.istio.io/inject': 'false' }),
    deployment('on', 'c', 1, { app: 'c', 'app.kubernetes.io/name': 'cee', 'app.kubernetes.io/version': '2' }),
  ]);
  const pod = (w: string) => model.pods.find((p) => p.workload === w)!;
  t.false(pod('a').injected);
  t.false(pod('b').injected);
  t.false('security.istio.io/tlsMode' in pod('a').labels);
  t.true(pod('c').injected);
  t.is(pod('c').labels['security.istio.io/tlsMode'], 'istio');
  // pkg/kube/inject/webhook.go: app.kubernetes.io/name before app, app.kubernetes.io/version before version.
  t.is(pod('c').labels['service.istio.io/canonical-name'], 'cee');
  t.is(pod('c').labels['service.istio.io/canonical-revision'], '2');
  t.is(injectorLabels({}, 'w')['service.istio.io/canonical-name'], 'w');
});

test('namespaces: the platform ones, the declared ones, and those objects live in without a declaration', (t) => {
  const model = clusterModel([deployment('zed', 'a', 1), ns('declared'), service('other', 's', { ports: [{ port: 1 }] })]);
  t.deepEqual(model.kubernetes.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name), ['default', 'kube-system', 'istio-system', 'declared', 'other', 'zed']);
});

test('StatefulSet pods carry their ordinal names and pod-name label; kinds istiod does not read are listed as not modelled, or refused', (t) => {
  const sts: KubeDocument = { ...deployment('a', 'hz', 2), kind: 'StatefulSet' };
  const odd: KubeDocument = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'a' } };
  const cm: KubeDocument = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } };
  const model = clusterModel([sts, odd, cm]);
  t.deepEqual(model.pods.map((p) => p.labels['statefulset.kubernetes.io/pod-name']), ['hz-0', 'hz-1']);
  t.deepEqual(model.ignored, ['Widget/a/w']);
  t.throws(() => clusterModel([odd], { unknownKinds: 'throw' }), { message: /does not model Widget\/a\/w/ });
  t.notThrows(() => clusterModel([cm], { unknownKinds: 'throw' }));
});

test('a later document replaces an earlier one with the same kind, namespace and name', (t) => {
  const model = clusterModel([service('a', 's', { ports: [{ port: 1 }] }), service('a', 's', { ports: [{ port: 2 }] })]);
  t.deepEqual(model.services.filter((s) => !s.platform).map((s) => s.ports.map((p) => p.port)), [[2]]);
});
