import test from 'ava';
import { lint, type Finding as LintFinding } from '../harness/lint/index.ts';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AGENT_HASH_ANNOTATION, agentHash, agentSourcePath, baselineDocuments, extraDocuments } from '../harness/manifests/index.ts';
import type { KubeDocument } from '../harness/kube/index.ts';
import { UsageError } from '../harness/errors/index.ts';
import {
  AGENT_CONFIGMAP, AGENT_ENTRY, AGENT_FILES, AGENT_IMAGE, AGENT_MOUNT, APP_EXT, CONTROL_PORT, DISTINCT_TCP_PORT, EXTRAS, FQDN, HTTP_PORT, MANAGER_HEADLESS, NAMESPACES, PART_OF_LABEL,
  PART_OF_VALUE, SERVICE_ENTRY_HOST, SERVICES, TCP_PORT, WORKLOADS,
} from './topology.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

// Narrow helpers over unknown YAML (the documents are data, not trusted types).
type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function find(docs: KubeDocument[], kind: string, namespace: string | undefined, name: string): KubeDocument {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name && d.metadata.namespace === namespace);
  if (!doc) throw new Error(`${kind} ${namespace}/${name} missing`);
  return doc;
}

function containers(deployment: KubeDocument): Rec[] {
  return arr(rec(rec(rec(deployment.spec).template).spec).containers).map(rec);
}

function containerPorts(deployment: KubeDocument): Array<{ name: unknown; port: unknown }> {
  return containers(deployment).flatMap((c) => arr(c.ports).map(rec)).map((p) => ({ name: p.name, port: p.containerPort }));
}

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(path.join(here, dir))).filter((f) => f.endsWith('.yaml')).map((f) => path.join(here, dir, f));
}

test('every YAML file parses and every document has apiVersion, kind, metadata.name', async (t) => {
  const files = [...(await yamlFiles('base')), ...(await yamlFiles('extras'))];
  t.true(files.length >= 4 + EXTRAS.length);
  for (const file of files) {
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    for (const doc of docs) {
      t.deepEqual(doc.errors, [], file);
      const value = rec(doc.toJS());
      t.is(typeof value.apiVersion, 'string', file);
      t.is(typeof value.kind, 'string', file);
      t.is(typeof rec(value.metadata).name, 'string', file);
      if (value.kind !== 'Namespace') t.is(typeof rec(value.metadata).namespace, 'string', `${file}: namespaced objects name their namespace`);
    }
  }
});

test('the extras on disk are exactly EXTRAS, and each starts with a comment saying what it is for', async (t) => {
  const onDisk = (await yamlFiles('extras')).map((f) => path.basename(f, '.yaml')).sort();
  t.deepEqual(onDisk, [...EXTRAS].sort());
  for (const name of EXTRAS) {
    const text = await readFile(path.join(here, 'extras', `${name}.yaml`), 'utf8');
    t.regex(text, /^# \S/, `${name} opens with a comment`);
    t.regex(text, /^# Used by: .+/m, `${name} names the scenario that uses it`);
  }
});

test('baseline: the three namespaces, injected and labelled, come first', async (t) => {
  const docs = await baselineDocuments();
  const namespaces = docs.filter((d) => d.kind === 'Namespace');
  t.deepEqual(namespaces.map((d) => d.metadata.name), [...NAMESPACES]);
  t.deepEqual(docs.slice(0, 3), namespaces, 'namespaces are applied before what lives in them');
  const firstWorkload = docs.findIndex((d) => d.kind === 'Deployment');
  t.true(docs.slice(0, firstWorkload).some((d) => d.kind === 'ConfigMap'), 'the agent ConfigMaps exist before pods mount them');
  t.deepEqual(docs.filter((d) => d.kind === 'Deployment').map((d) => d.metadata.namespace), [...NAMESPACES], 'workloads in topology order');
  for (const ns of namespaces) {
    const labels = rec(ns.metadata.labels);
    t.is(labels['istio-injection'], 'enabled');
    t.is(labels[PART_OF_LABEL], PART_OF_VALUE);
  }
});

test('baseline: the agent ConfigMap in every namespace holds the real agent files, one key each', async (t) => {
  const docs = await baselineDocuments();
  const sources = Object.fromEntries(await Promise.all(AGENT_FILES.map(async (f) => [f.key, await readFile(agentSourcePath(f), 'utf8')] as const)));
  t.deepEqual(AGENT_FILES.map((f) => f.path), ['workload/agent.ts', 'probe/contract.ts'], 'the agent and the contract it imports');
  t.true(sources['agent.ts'].length > 1000 && sources['contract.ts'].length > 1000, 'the real files');
  for (const ns of NAMESPACES) {
    const cm = find(docs, 'ConfigMap', ns, AGENT_CONFIGMAP);
    t.deepEqual(rec(cm.data), sources, `${ns} ConfigMap holds every shipped file byte for byte, and nothing else`);
    for (const key of Object.keys(rec(cm.data))) t.regex(key, /^[-._a-zA-Z0-9]+$/, 'a valid ConfigMap key (no "/")');
  }
  const yaml = await Promise.all((await yamlFiles('base')).map((f) => readFile(f, 'utf8')));
  t.false(yaml.some((text) => text.includes('startAgent')), 'no YAML holds a copy of the agent');
});

test('baseline: Deployments match topology.ts (replicas, image, command, ports, env, probe, annotations)', async (t) => {
  const docs = await baselineDocuments();
  for (const w of Object.values(WORKLOADS)) {
    const d = find(docs, 'Deployment', w.namespace, w.name);
    const spec = rec(d.spec);
    t.is(spec.replicas, w.replicas, `${w.name} replicas`);
    const template = rec(spec.template);
    t.is(rec(rec(template.metadata).labels).app, w.name);
    t.deepEqual(rec(rec(spec.selector).matchLabels), { app: w.name });
    const annotations = rec(rec(template.metadata).annotations);
    t.is(annotations['traffic.sidecar.istio.io/excludeInboundPorts'], String(CONTROL_PORT));
    t.false('sidecar.istio.io/logLevel' in annotations);
    const [c] = containers(d);
    t.is(c.image, AGENT_IMAGE);
    const pinned = /^docker\.io\/library\/node:24\.(\d+)\.\d+-alpine[\d.]*@sha256:[0-9a-f]{64}$/.exec(String(c.image));
    t.truthy(pinned, `${String(c.image)}: a Node 24 image pinned by digest`);
    t.true(Number(pinned?.[1]) >= 2, 'Node >= 24.2 (the agent was once started by import.meta.main, which older 24.x lack)');
    const argv = [...arr(c.command), ...arr(c.args)].map(String);
    t.deepEqual(argv.slice(0, 2), ['node', AGENT_ENTRY]);
    t.is(AGENT_ENTRY, '/agent/workload/agent.ts');
    const flag = (name: string) => argv.flatMap((a, i) => (a === name ? [Number(argv[i + 1])] : []));
    t.deepEqual(flag('--tcp-port'), [...w.tcpPorts], `${w.name} binds exactly its TCP ports`);
    t.deepEqual(flag('--http-port'), [HTTP_PORT]);
    t.deepEqual(flag('--control-port'), [CONTROL_PORT]);
    const declared = containerPorts(d).filter((p) => p.port !== CONTROL_PORT);
    t.deepEqual(declared, w.ports.map((p) => ({ name: p.name, port: p.port })), `${w.name} container ports`);
    const env = arr(c.env).map(rec);
    const fieldPaths = Object.fromEntries(env.map((e) => [e.name, rec(rec(e.valueFrom).fieldRef).fieldPath]));
    t.deepEqual(fieldPaths, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', POD_IP: 'status.podIP' });
    const probe = rec(rec(c.readinessProbe).httpGet);
    t.deepEqual([probe.path, probe.port], ['/healthz', CONTROL_PORT]);
    t.truthy(rec(rec(c.resources).requests).cpu, 'small but explicit requests');
    const volume = arr(rec(template.spec).volumes).map(rec).find((v) => rec(v.configMap).name === AGENT_CONFIGMAP);
    t.truthy(volume, `${w.name} mounts the agent ConfigMap`);
    const mount = arr(c.volumeMounts).map(rec).find((m) => m.name === volume?.name);
    t.is(mount?.mountPath, AGENT_MOUNT);
    // items lay the keys out as under harness/, so the agent's relative imports resolve in the pod as in the repo.
    t.deepEqual(arr(rec(volume?.configMap).items), AGENT_FILES.map((f) => ({ key: f.key, path: f.path })), `${w.name} projects every shipped key to its path`);
    t.true(AGENT_FILES.some((f) => `${AGENT_MOUNT}/${f.path}` === argv[1]), 'the command runs a file the volume holds');
    t.regex(String(rec(rec(template.metadata).annotations)[AGENT_HASH_ANNOTATION]), /^[0-9a-f]{16}$/, 'the pods carry the agent hash');
  }
});

test('the agent hash covers every shipped file: a change in either one, or in a key, rolls the pods', (t) => {
  const files = { 'agent.ts': 'agent', 'contract.ts': 'contract' };
  const base = agentHash(files);
  t.not(agentHash({ ...files, 'agent.ts': 'agent2' }), base);
  t.not(agentHash({ ...files, 'contract.ts': 'contract2' }), base);
  t.not(agentHash({ 'agent.ts': 'agent', 'other.ts': 'contract' }), base);
  t.not(agentHash({ 'agent.ts': 'agentcontract', 'contract.ts': '' }), base, 'boundaries between files count');
  t.is(agentHash({ 'contract.ts': 'contract', 'agent.ts': 'agent' }), base, 'key order does not');
});

test('baseline: idle neither binds nor declares 5701 (the seed idle pod)', async (t) => {
  const docs = await baselineDocuments();
  const idle = find(docs, 'Deployment', 'idle', 'idle');
  t.false(containerPorts(idle).some((p) => p.port === TCP_PORT));
  t.false(JSON.stringify(containers(idle)[0].args).includes(String(TCP_PORT)));
  t.false(arr(rec(find(docs, 'Service', 'idle', 'idle').spec).ports).some((p) => rec(p).port === TCP_PORT));
});

test('baseline: every Service matches topology.ts and each port targets a container port of the pods it selects', async (t) => {
  const docs = await baselineDocuments();
  const services = docs.filter((d) => d.kind === 'Service');
  t.deepEqual(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort(), Object.values(SERVICES).map((s) => `${s.namespace}/${s.name}`).sort());
  for (const s of Object.values(SERVICES)) {
    const doc = find(docs, 'Service', s.namespace, s.name);
    const spec = rec(doc.spec);
    t.is(spec.clusterIP === 'None', s.headless, `${s.name} headless`);
    const target = find(docs, 'Deployment', s.namespace, WORKLOADS[s.selects].name);
    const podLabels = rec(rec(rec(rec(target.spec).template).metadata).labels);
    for (const [k, v] of Object.entries(rec(spec.selector))) t.is(podLabels[k], v, `${s.name} selects ${target.metadata.name}`);
    const ports = arr(spec.ports).map(rec);
    t.deepEqual(ports.map((p) => ({ name: p.name, port: p.port })), s.ports.map((p) => ({ name: p.name, port: p.port })));
    const cports = containerPorts(target).map((p) => p.port);
    for (const p of ports) t.true(cports.includes(p.targetPort ?? p.port), `${s.name}:${String(p.port)} reaches a container port`);
  }
});

test('baseline: no headless Service (its per-pod TCP listeners would take pod-IP traffic from PassthroughCluster)', async (t) => {
  const services = (await baselineDocuments()).filter((d) => d.kind === 'Service');
  t.true(services.length >= 3);
  for (const s of services) t.not(rec(s.spec).clusterIP, 'None', `${s.metadata.namespace}/${s.metadata.name}`);
  t.false(services.some((s) => s.metadata.name === MANAGER_HEADLESS.name));
});

test('extra manager-headless: headless over the manager pods, HTTP 8080 only, as topology.ts says', async (t) => {
  const docs = await extraDocuments('manager-headless');
  t.is(docs.length, 1);
  const svc = find(docs, 'Service', MANAGER_HEADLESS.namespace, MANAGER_HEADLESS.name);
  t.is(`${svc.metadata.name}.${String(svc.metadata.namespace)}.svc.cluster.local`, FQDN.managerHeadless);
  const spec = rec(svc.spec);
  t.is(spec.clusterIP, 'None');
  t.is(rec(svc.metadata.labels)[PART_OF_LABEL], PART_OF_VALUE);
  const ports = arr(spec.ports).map(rec);
  t.deepEqual(ports.map((p) => ({ name: p.name, port: p.port })), MANAGER_HEADLESS.ports.map((p) => ({ name: p.name, port: p.port })));
  t.false(ports.some((p) => p.port === TCP_PORT), 'no 5701: it would build <podIP>_5701 listeners');
  const manager = find(await baselineDocuments(), 'Deployment', 'manager', WORKLOADS[MANAGER_HEADLESS.selects].name);
  const podLabels = rec(rec(rec(rec(manager.spec).template).metadata).labels);
  for (const [k, v] of Object.entries(rec(spec.selector))) t.is(podLabels[k], v, 'selects the manager pods');
  const cports = containerPorts(manager).map((p) => p.port);
  for (const p of ports) t.true(cports.includes(p.targetPort ?? p.port));
});

test('extras: names, ports and hosts agree with topology.ts', async (t) => {
  const ext = find(await extraDocuments('app-ext-externalname'), 'Service', APP_EXT.namespace, APP_EXT.name);
  const spec = rec(ext.spec);
  t.is(spec.type, 'ExternalName');
  t.is(spec.externalName, FQDN.idle);
  t.deepEqual(arr(spec.ports).map((p) => [rec(p).name, rec(p).port]), [['http-app', HTTP_PORT], ['tcp-hazelcast', TCP_PORT]]);

  const dropped = find(await extraDocuments('fix-drop-port'), 'Service', APP_EXT.namespace, APP_EXT.name);
  t.deepEqual(arr(rec(dropped.spec).ports).map((p) => rec(p).port), [HTTP_PORT]);

  const dot = find(await extraDocuments('fix-exportto-dot'), 'Service', APP_EXT.namespace, APP_EXT.name);
  t.is(rec(dot.metadata.annotations)['networking.istio.io/exportTo'], '.');
  t.deepEqual(arr(rec(dot.spec).ports).map((p) => rec(p).port), [HTTP_PORT, TCP_PORT], 'only the scope changes');

  const distinct = find(await extraDocuments('fix-distinct-ports'), 'Service', APP_EXT.namespace, APP_EXT.name);
  const distinctPorts = arr(rec(distinct.spec).ports).map((p) => rec(p).port);
  t.false(distinctPorts.includes(TCP_PORT));
  t.true(distinctPorts.includes(DISTINCT_TCP_PORT));
  const used: number[] = Object.values(WORKLOADS).flatMap((w) => w.ports.map((p) => p.port));
  t.false(used.includes(DISTINCT_TCP_PORT), 'no workload uses the distinct port');

  const sidecar = find(await extraDocuments('fix-sidecar-egress'), 'Sidecar', 'manager', 'default');
  t.deepEqual(arr(rec(arr(rec(sidecar.spec).egress)[0]).hosts), ['./*', 'istio-system/*']);

  const vsDocs = await extraDocuments('fix-virtualservice');
  t.false(vsDocs.some((d) => d.kind === 'Service'), 'the VirtualService fix holds no ExternalName');
  const vs = vsDocs.find((d) => d.kind === 'VirtualService');
  t.deepEqual(arr(rec(vs?.spec).hosts), [FQDN.app]);
  t.true(JSON.stringify(vs?.spec).includes(`"host":"${FQDN.idle}"`));

  const se = find(await extraDocuments('serviceentry-dns-5701'), 'ServiceEntry', 'app', 'hazelcast-external');
  const seSpec = rec(se.spec);
  t.is(seSpec.resolution, 'DNS');
  t.deepEqual(arr(seSpec.hosts), [SERVICE_ENTRY_HOST]);
  t.is(seSpec.addresses, undefined, 'no addresses: that is what makes the catch-all');
  t.deepEqual(arr(seSpec.ports).map((p) => [rec(p).number, rec(p).protocol]), [[TCP_PORT, 'TCP']]);

  for (const [name, mode] of [['strict-mtls', 'STRICT'], ['permissive-mtls', 'PERMISSIVE']] as const) {
    const pa = (await extraDocuments(name)).find((d) => d.kind === 'PeerAuthentication');
    t.is(rec(rec(pa?.spec).mtls).mode, mode);
    t.is(pa?.metadata.name, 'default', `${name} replaces the other (same object)`);
  }
});

test('extraDocuments rejects unknown names with a UsageError listing the known ones', async (t) => {
  const error = await t.throwsAsync(() => extraDocuments('../base/manager'), { instanceOf: UsageError });
  t.regex(error?.hint ?? '', /app-ext-externalname/);
});

// --- lint: each extra shows the findings it exists to show (harness/lint) ---------


async function lintWith(extras: string[], istio: string, pilotEnv?: Record<string, string>): Promise<LintFinding[]> {
  const files = [...(await yamlFiles('base')), ...extras.map((e) => path.join(here, 'extras', `${e}.yaml`))];
  const inputs = await Promise.all(files.map(async (f) => ({ path: path.relative(here, f), text: await readFile(f, 'utf8') })));
  return lint(inputs, pilotEnv ? { istio, pilotEnv } : { istio });
}

const pick = (findings: LintFinding[], rule: string, resource: string) => findings.filter((f) => f.rule === rule && f.resource === resource).map((f) => f.severity);

test('lint: the baseline alone has no error and no warning', async (t) => {
  for (const istio of ['1.20', '1.24', '1.30']) {
    const findings = await lintWith([], istio);
    t.deepEqual(findings.filter((f) => f.severity !== 'info'), [], `Istio ${istio}`);
  }
});

test('lint: app-ext-externalname is PP001 error on 1.20 and on 1.22 with ENABLE_EXTERNAL_NAME_ALIAS=false, info on 1.24', async (t) => {
  t.deepEqual(pick(await lintWith(['app-ext-externalname'], '1.20'), 'PP001', 'Service/app/app-ext'), ['error']);
  t.deepEqual(pick(await lintWith(['app-ext-externalname'], '1.22', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }), 'PP001', 'Service/app/app-ext'), ['error']);
  t.deepEqual(pick(await lintWith(['app-ext-externalname'], '1.24'), 'PP001', 'Service/app/app-ext'), ['info']);
});

test('lint: fix-drop-port and fix-distinct-ports leave no PP001 error on 1.20', async (t) => {
  const dropped = await lintWith(['fix-drop-port'], '1.20');
  t.deepEqual(pick(dropped, 'PP001', 'Service/app/app-ext'), ['info'], 'HTTP-only ExternalName: no catch-all');
  const distinct = await lintWith(['fix-distinct-ports'], '1.20');
  t.deepEqual(pick(distinct, 'PP001', 'Service/app/app-ext'), ['warning'], 'a catch-all on 5702 that nobody else uses');
});

test('lint: fix-exportto-dot and fix-sidecar-egress keep the catch-all away from manager on 1.20', async (t) => {
  t.deepEqual(pick(await lintWith(['fix-exportto-dot'], '1.20'), 'PP001', 'Service/app/app-ext'), ['warning'], 'only app itself sees it');
  const withSidecar = await lintWith(['app-ext-externalname', 'fix-sidecar-egress'], '1.20');
  t.false(withSidecar.some((f) => f.severity === 'error'), 'manager no longer imports app-ext');
  t.false(withSidecar.some((f) => f.rule === 'PP005' && f.resource === 'Namespace/manager'), 'manager has its Sidecar');
});

test('lint: fix-virtualservice (with app-ext deleted) has no PP001 at all', async (t) => {
  const findings = await lintWith(['fix-virtualservice'], '1.20');
  t.false(findings.some((f) => f.rule === 'PP001'));
  t.false(findings.some((f) => f.severity === 'error'));
});

test('lint: serviceentry-dns-5701 is a PP002 error on 1.24', async (t) => {
  t.deepEqual(pick(await lintWith(['serviceentry-dns-5701'], '1.24'), 'PP002', 'ServiceEntry/app/hazelcast-external'), ['error']);
});

test('lint: the mTLS extras and the headless Service add no error or warning', async (t) => {
  for (const name of ['strict-mtls', 'permissive-mtls', 'manager-headless']) {
    const findings = await lintWith([name], '1.24');
    t.deepEqual(findings.filter((f) => f.severity !== 'info'), [], name);
  }
});
