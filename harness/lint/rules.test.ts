import test from 'ava';
import { readFileSync } from 'node:fs';
import { lint } from './lint.ts';
import type { Finding, LintOptions } from './types.ts';

const fixture = (name: string) => {
  const path = `harness/lint/fixtures/seed/${name}.yaml`;
  return { path, text: readFileSync(new URL(`fixtures/seed/${name}.yaml`, import.meta.url), 'utf8') };
};
const run = (text: string, options: LintOptions = {}) => lint([{ path: 't.yaml', text }], options);
const rule = (findings: Finding[], id: string) => findings.filter((f) => f.rule === id);
const errors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error');

/** 1-based line of the n-th (0-based; -1 = last) line equal to `content` in the fixture text. */
function lineOf(text: string, content: string, nth = 0): number {
  const hits = text.split('\n').flatMap((l, i) => (l === content ? [i + 1] : []));
  return hits.at(nth) ?? -1;
}

const svc = (ns: string, name: string, ports: string, extra = '') =>
  `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${extra}spec:\n  ports:\n${ports}`;
const tcp = (port: number, name = `tcp-p${port}`) => `  - name: ${name}\n    port: ${port}\n`;
const http = (port: number) => `  - name: http-web\n    port: ${port}\n`;

// ---- the seed incident and its fixes ----

test('seed broken: PP001 error on app-ext port 5701, naming the manager Service whose pods use 5701', (t) => {
  const f = fixture('broken');
  const findings = lint([f]);
  const pp001 = rule(findings, 'PP001');
  t.is(pp001.length, 1);
  t.like(pp001[0], { severity: 'error', resource: 'Service/app/app-ext', file: f.path, line: lineOf(f.text, '  - name: tcp-hazelcast', -1) });
  t.regex(pp001[0].message, /0\.0\.0\.0_5701/);
  t.regex(pp001[0].message, /Service\/manager\/manager/);
  t.regex(pp001[0].message, /Deployment\/manager\/manager/);
  t.regex(pp001[0].fix, /Drop port 5701/);
  // the HTTP port 8080 routes by Host: never a PP001 finding
  t.false(findings.some((x) => x.rule === 'PP001' && x.line === lineOf(f.text, '  - name: http-app', -1)));
});

test('seed broken: PP003 names every Service sharing TCP 5701 across namespaces', (t) => {
  const findings = rule(lint([fixture('broken')]), 'PP003');
  t.deepEqual(findings.map((x) => x.resource).sort(), ['Service/app/app', 'Service/app/app-ext', 'Service/manager/manager']);
  const manager = findings.find((x) => x.resource === 'Service/manager/manager');
  t.regex(manager?.message ?? '', /Service\/app\/app, Service\/app\/app-ext/);
  t.true(findings.every((x) => x.severity === 'warning'), 'the ExternalName has no VIP: warning');
});

test('seed broken: severity follows the Istio version and ENABLE_EXTERNAL_NAME_ALIAS', (t) => {
  const f = fixture('broken');
  const pp001 = (options: LintOptions) => rule(lint([f], options), 'PP001').map((x) => x.severity);
  t.deepEqual(pp001({ istio: '1.20' }), ['error']);
  t.deepEqual(pp001({ istio: '1.20', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'true' } }), ['info']);
  t.deepEqual(pp001({ istio: '1.22' }), ['info']);
  t.deepEqual(pp001({ istio: '1.22', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } }), ['error']);
  t.deepEqual(pp001({ istio: '1.24' }), ['info']);
  t.deepEqual(pp001({ istio: '1.28.1' }), ['info']);
  t.deepEqual(pp001({ istio: '1.24', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } }), ['info']);
});

test('seed broken: on >= 1.24 the alias has no listener, so it drops out of PP003', (t) => {
  const findings = rule(lint([fixture('broken')], { istio: '1.24' }), 'PP003');
  t.false(findings.some((x) => x.resource === 'Service/app/app-ext'));
  t.true(findings.every((x) => x.severity === 'info'), 'only ClusterIP services left: info');
});

test('an IstioOperator in the input with compatibilityVersion 1.20 pins the old behaviour on 1.22', (t) => {
  const f = fixture('broken');
  const iop = '---\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: mesh, namespace: istio-system}\nspec:\n  values:\n    compatibilityVersion: "1.20"\n';
  t.deepEqual(rule(lint([f, { path: 'iop.yaml', text: iop }], { istio: '1.22' }), 'PP001').map((x) => x.severity), ['error']);
});

for (const [fix, check] of [
  ['fix-drop-port', (fs: Finding[]) => rule(fs, 'PP001').every((x) => x.severity === 'info')],
  ['fix-exportto-dot', (fs: Finding[]) => rule(fs, 'PP001').length === 1 && rule(fs, 'PP001')[0].severity === 'warning' && /namespace app get it/.test(rule(fs, 'PP001')[0].message)],
  ['fix-sidecar-egress', (fs: Finding[]) => rule(fs, 'PP001').length === 1 && !/manager/.test(rule(fs, 'PP001')[0].message.split('get it')[0])],
  ['fix-virtualservice', (fs: Finding[]) => rule(fs, 'PP001').length === 0],
  ['fix-distinct-ports', (fs: Finding[]) => !rule(fs, 'PP003').some((x) => x.resource === 'Service/app/app-ext')],
] as const) {
  test(`seed ${fix}: no error on any version, and the fix is what removes it`, (t) => {
    for (const istio of [undefined, '1.20', '1.22', '1.24']) {
      const findings = lint([fixture(fix)], istio ? { istio } : {});
      t.deepEqual(errors(findings), [], `${fix} on ${istio ?? 'unknown'}`);
      // 1.22 and 1.24 alias ExternalNames anyway; the fix itself shows where the listener exists.
      if (istio === undefined || istio === '1.20') t.true(check(findings), `${fix} on ${istio ?? 'unknown'}: ${JSON.stringify(rule(findings, 'PP001'))}`);
    }
  });
}

test('seed fix-sidecar-egress: a Sidecar in manager takes manager out of the viewers', (t) => {
  const [pp001] = rule(lint([fixture('fix-sidecar-egress')], { istio: '1.20' }), 'PP001');
  t.regex(pp001.message, /sidecars in namespaces app, idle get it/);
});

// ---- PP001 ----

test('PP001: ExternalName without ports is fine; without other users of the port it is a warning', (t) => {
  t.deepEqual(rule(run(svc('a', 'ext', '  []\n').replace('spec:\n  ports:\n  []\n', 'spec:\n  type: ExternalName\n  externalName: x.example.com\n')), 'PP001'), []);
  const lone = run(`---\napiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: a}\nspec:\n  type: ExternalName\n  externalName: db.example.com\n  ports:\n  - {name: tcp-db, port: 6000}\n`, { istio: '1.20' });
  t.deepEqual(rule(lone, 'PP001').map((x) => [x.severity, x.line]), [['warning', 9]]);
});

test('PP001: an ExternalName with only HTTP ports is info (routed by Host)', (t) => {
  const text = `---\napiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: a}\nspec:\n  type: ExternalName\n  externalName: web.example.com\n  ports:\n  - {name: http-web, port: 8080}\n`;
  t.deepEqual(rule(run(text, { istio: '1.20' }), 'PP001').map((x) => x.severity), ['info']);
});

// ---- PP002 ----

const se = (spec: string) => `---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext-db, namespace: app}\nspec:\n  hosts: [db.example.com]\n${spec}`;
const dnsTcp = se('  resolution: DNS\n  location: MESH_EXTERNAL\n  ports:\n  - number: 5701\n    name: tcp-db\n    protocol: TCP\n');
const managerSvc = svc('manager', 'manager', tcp(5701));

test('PP002: DNS ServiceEntry with a TCP port and no addresses, port line, severity by what is known', (t) => {
  t.deepEqual(rule(run(dnsTcp), 'PP002').map((x) => [x.severity, x.line]), [['warning', 10]], 'nothing known: warning');
  t.deepEqual(rule(run(dnsTcp + managerSvc, { istio: '1.24' }), 'PP002').map((x) => x.severity), ['error'], 'no DNS capture by default, another namespace uses 5701');
  t.deepEqual(rule(run(dnsTcp, { istio: '1.24' }), 'PP002').map((x) => x.severity), ['warning'], 'catch-all but nobody else uses 5701');
  t.deepEqual(rule(run(dnsTcp + managerSvc, { istio: '1.25', pilotEnv: { ISTIO_META_DNS_CAPTURE: 'true' } }), 'PP002').map((x) => x.severity), ['info'], '1.25 auto-allocates, capture on');
  t.deepEqual(rule(run(dnsTcp + managerSvc, { istio: '1.24', pilotEnv: { ISTIO_META_DNS_CAPTURE: 'true' } }), 'PP002').map((x) => x.severity), ['error'], '1.24 does not auto-allocate by default');
  t.deepEqual(rule(run(dnsTcp + managerSvc, { istio: '1.25', pilotEnv: { ISTIO_META_DNS_CAPTURE: 'true', PILOT_ENABLE_IP_AUTOALLOCATE: 'false' } }), 'PP002').map((x) => x.severity), ['error']);
});

test('PP002: DNS capture and auto-allocation read from an IstioOperator meshConfig in the input', (t) => {
  const iop = '---\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: m, namespace: istio-system}\nspec:\n  meshConfig:\n    defaultConfig:\n      proxyMetadata:\n        ISTIO_META_DNS_CAPTURE: "true"\n        ISTIO_META_DNS_AUTO_ALLOCATE: "true"\n';
  t.deepEqual(rule(run(dnsTcp + managerSvc + iop), 'PP002').map((x) => x.severity), ['info']);
  const off = iop.replace('ISTIO_META_DNS_CAPTURE: "true"', 'ISTIO_META_DNS_CAPTURE: "false"');
  t.deepEqual(rule(run(dnsTcp + managerSvc + off), 'PP002').map((x) => x.severity), ['error']);
});

test('PP002: DNS capture read from the istio ConfigMap mesh string', (t) => {
  const cm = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    defaultConfig:\n      proxyMetadata:\n        ISTIO_META_DNS_CAPTURE: "true"\n';
  t.deepEqual(rule(run(dnsTcp + managerSvc + cm, { istio: '1.26' }), 'PP002').map((x) => x.severity), ['info']);
});

test('PP002: a ConfigMap without a mesh key (istio-ca-root-cert) says nothing about DNS capture', (t) => {
  const cert = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-ca-root-cert, namespace: istio-system}\ndata:\n  root-cert.pem: x\n';
  t.deepEqual(rule(run(dnsTcp + managerSvc + cert), 'PP002').map((x) => x.severity), ['warning']);
});

test('PP002 negatives: addresses, resolution NONE/STATIC, HTTP or TLS ports', (t) => {
  t.deepEqual(rule(run(se('  addresses: [240.240.0.1]\n  resolution: DNS\n  ports:\n  - {number: 5701, name: tcp, protocol: TCP}\n')), 'PP002'), []);
  t.deepEqual(rule(run(se('  resolution: NONE\n  ports:\n  - {number: 5701, name: tcp, protocol: TCP}\n')), 'PP002'), []);
  t.deepEqual(rule(run(se('  resolution: DNS\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n')), 'PP002'), []);
  t.deepEqual(rule(run(se('  resolution: DNS\n  ports:\n  - {number: 443, name: tls, protocol: TLS}\n')), 'PP002'), []);
  t.is(rule(run(se('  resolution: DNS\n  ports:\n  - {number: 443, name: https}\n')), 'PP002').length, 1, 'protocol unset counts, as in istioctl IST0134');
});

// ---- PP003 ----

test('PP003: ClusterIP Services on one TCP port in namespaces that see each other: info, naming all', (t) => {
  const text = svc('a', 'one', tcp(7000)) + svc('b', 'two', tcp(7000)) + svc('c', 'three', tcp(7000));
  const findings = rule(run(text), 'PP003');
  t.deepEqual(findings.map((x) => x.resource), ['Service/a/one', 'Service/b/two', 'Service/c/three']);
  t.true(findings.every((x) => x.severity === 'info'));
  t.regex(findings[0].message, /Service\/b\/two, Service\/c\/three/);
});

test('PP003 negatives: same namespace, HTTP ports, exportTo ".", Sidecars', (t) => {
  t.deepEqual(rule(run(svc('a', 'one', tcp(7000)) + svc('a', 'two', tcp(7000))), 'PP003'), [], 'same namespace');
  t.deepEqual(rule(run(svc('a', 'one', http(8080)) + svc('b', 'two', http(8080))), 'PP003'), [], 'HTTP routes by Host');
  const dot = '  annotations:\n    networking.istio.io/exportTo: "."\n';
  t.deepEqual(rule(run(svc('a', 'one', tcp(7000), dot) + svc('b', 'two', tcp(7000), dot)), 'PP003'), [], 'both exported to their own namespace');
  t.is(rule(run(svc('a', 'one', tcp(7000), dot) + svc('b', 'two', tcp(7000))), 'PP003').length, 2, 'b is still exported to a');
  const sidecar = (ns: string) => `---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: ${ns}}\nspec:\n  egress:\n  - hosts: ["./*"]\n`;
  t.deepEqual(rule(run(svc('a', 'one', tcp(7000)) + svc('b', 'two', tcp(7000)) + sidecar('a') + sidecar('b')), 'PP003'), [], 'Sidecars keep each namespace to itself');
  const rootSidecar = `---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: istio-system}\nspec:\n  egress:\n  - hosts: ["./*", "istio-system/*"]\n`;
  t.deepEqual(rule(run(svc('a', 'one', tcp(7000)) + svc('b', 'two', tcp(7000)) + rootSidecar), 'PP003'), [], 'a mesh-wide Sidecar where "." is the client namespace');
  const selective = `---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: a}\nspec:\n  egress:\n  - hosts: ["./*", "b/two.b.svc.cluster.local"]\n`;
  t.is(rule(run(svc('a', 'one', tcp(7000)) + svc('b', 'two', tcp(7000)) + selective), 'PP003').length, 2, 'an exact host in egress imports it');
});

test('PP003: exportTo naming the other namespace makes them visible', (t) => {
  const to = (ns: string) => `  annotations:\n    networking.istio.io/exportTo: ".,${ns}"\n`;
  t.is(rule(run(svc('a', 'one', tcp(7000), to('b')) + svc('b', 'two', tcp(7000), to('a'))), 'PP003').length, 2);
  t.deepEqual(rule(run(svc('a', 'one', tcp(7000), to('c')) + svc('b', 'two', tcp(7000), to('c'))), 'PP003').length, 0, 'namespace c is not in the input');
});

// ---- PP004 ----

test('PP004: a port without protocol prefix or appProtocol, at the port line', (t) => {
  const text = svc('a', 'one', '  - name: hazelcast\n    port: 5701\n  - port: 9000\n');
  t.deepEqual(rule(run(text), 'PP004').map((x) => [x.severity, x.line]), [['warning', 9], ['warning', 11]]);
});

test('PP004 negatives: prefixed names, appProtocol, well-known ports, UDP', (t) => {
  const text = svc('a', 'one', '  - name: tcp-hazelcast\n    port: 5701\n  - name: grpc-web-ui\n    port: 81\n  - name: hazelcast\n    appProtocol: tcp\n    port: 5702\n  - name: db\n    port: 3306\n  - name: dns\n    port: 53\n    protocol: UDP\n  - name: Redis-cache\n    port: 6379\n');
  t.deepEqual(rule(run(text), 'PP004'), []);
});

// ---- PP005 ----

test('PP005: each namespace with workloads and no Sidecar, anchored at its Namespace object', (t) => {
  const text = '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' + svc('a', 'one', http(80)) + svc('b', 'two', http(80));
  const findings = rule(run(text), 'PP005');
  t.deepEqual(findings.map((x) => [x.resource, x.line, x.severity]), [['Namespace/a', 2, 'info'], ['Service/b/two', 16, 'info']]);
});

test('PP005 negatives: a namespace Sidecar, a root Sidecar, a restricted defaultServiceExportTo', (t) => {
  const base = svc('a', 'one', http(80));
  t.deepEqual(rule(run(base + '---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: a}\nspec:\n  egress:\n  - hosts: ["./*"]\n'), 'PP005'), []);
  t.deepEqual(rule(run(base + '---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: istio-system}\nspec:\n  egress:\n  - hosts: ["./*"]\n'), 'PP005'), []);
  t.deepEqual(rule(run(base + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    defaultServiceExportTo: ["."]\n'), 'PP005'), []);
  t.is(rule(run(base + '---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: some, namespace: a}\nspec:\n  workloadSelector: {labels: {app: x}}\n  egress:\n  - hosts: ["./*"]\n'), 'PP005').length, 1, 'a Sidecar with a workloadSelector does not cover the namespace');
});

// ---- PP006 ----

test('PP006: annotated or StatefulSet-governing Service that is not headless', (t) => {
  const hinted = svc('a', 'peers', http(8080), '  annotations:\n    podpath.io/direct-pod-traffic: "true"\n');
  t.deepEqual(rule(run(hinted), 'PP006').map((x) => [x.resource, x.line, x.severity]), [['Service/a/peers', 2, 'info']]);
  const sts = '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: a}\nspec:\n  serviceName: peers\n  template:\n    spec:\n      containers: [{name: db, image: x}]\n';
  t.is(rule(run(svc('a', 'peers', http(8080)) + sts), 'PP006').length, 1);
});

test('PP006 negatives: headless, no hint, TCP-only, StatefulSet in another namespace', (t) => {
  const hint = '  annotations:\n    podpath.io/direct-pod-traffic: "true"\n';
  t.deepEqual(rule(run(svc('a', 'peers', http(8080), hint).replace('spec:\n', 'spec:\n  clusterIP: None\n')), 'PP006'), []);
  t.deepEqual(rule(run(svc('a', 'peers', http(8080))), 'PP006'), []);
  t.deepEqual(rule(run(svc('a', 'peers', tcp(5701), hint)), 'PP006'), []);
  const sts = '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: b}\nspec:\n  serviceName: peers\n';
  t.deepEqual(rule(run(svc('a', 'peers', http(8080)) + sts), 'PP006'), []);
});

test('an unknown --istio is a usage error', (t) => {
  t.throws(() => run('', { istio: 'latest' }), { message: /not an Istio version/ });
});
