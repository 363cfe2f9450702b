import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { down, status, up, upgradeIstio, type BedDeps, type BedOptions } from './bed.ts';
import { preflight } from './preflight.ts';
import { ensureIstioctl, ensureKind } from './tools.ts';
import { FakeKube, ScriptedExec } from './testing/doubles.ts';
import { DryRunExec, Plan } from '../exec/index.ts';
import { EnvironmentError, InterruptedError, UsageError } from '../errors/index.ts';
import { ExecError } from '../exec/index.ts';
import type { KubeDocument } from '../kube/index.ts';
import { tempDir } from '../testing/temp-dir.ts';

// Baseline as the harness/kube contract describes it (namespaces, agent ConfigMap, deployments, services).
const BASELINE = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'manager', labels: { 'istio-injection': 'enabled' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: { 'istio-injection': 'enabled' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'idle', labels: { 'istio-injection': 'enabled' } } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'podpath-agent', namespace: 'manager' }, data: { 'agent.ts': '', 'contract.ts': '' } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'manager', namespace: 'manager' }, spec: { replicas: 2, template: { metadata: { labels: { app: 'manager' } } } } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: 'app' }, spec: { template: { metadata: {} } } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'idle', namespace: 'idle' }, spec: {} },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manager', namespace: 'manager' } },
] as KubeDocument[];

const MARKER_122: Record<string, string> = { name: 'podpath', istio: '1.22.8', revision: '', kind: 'v0.27.0', nodeImage: 'kindest/node:v1.30.10@sha256:x', logEncoding: 'json', connectTimeout: '1s', pilotEnv: '{"ENABLE_EXTERNAL_NAME_ALIAS":"false"}', createdAt: '2026-11-23T09:00:00Z', podpath: 'podpath' };

interface World {
  exec: ScriptedExec;
  kube: FakeKube;
  overrides: Partial<BedDeps>;
  written: Map<string, string>;
  work: string;
}

const MARKER = 'kube-system/podpath-cluster';

async function world(setup: (exec: ScriptedExec, kube: FakeKube) => void = () => {}): Promise<World> {
  const work = await tempDir('podpath-bed-');
  const exec = new ScriptedExec();
  const kube = new FakeKube('kind-podpath');
  setup(exec, kube);
  exec.on('docker info', { stdout: '27.3.1|/var/lib/docker\n' });
  exec.on('kind get clusters', { stdout: 'No kind clusters found.\n' });
  const written = new Map<string, string>();
  let t = 0;
  const overrides: Partial<BedDeps> = {
    exec,
    plan: null,
    kube: async () => kube,
    baseline: async () => structuredClone(BASELINE),
    ensureKind: async (version) => ({ tool: 'kind', version, path: '/cache/kind', origin: 'cache' }),
    ensureIstioctl: async (version) => ({ tool: 'istioctl', version, path: '/cache/istioctl', origin: 'cache' }),
    preflight: () => preflight({ exec, cacheDir: work, platform: 'linux', arch: 'x64', freeBytes: async () => 100 * 1024 ** 3 }),
    writeFile: async (path, content) => void written.set(path, content),
    workDir: (name) => join(work, name),
    now: () => (t += 10),
    holder: 'test-holder',
  };
  return { exec, kube, overrides, written, work };
}

const base: BedOptions = { name: 'podpath', istio: '1.22', logEncoding: 'text', reuse: false, keep: false, dryRun: false };

/** Index of the first call matching each pattern, asserting they appear in this order. */
function inOrder(lines: string[], patterns: RegExp[]): number[] {
  let from = 0;
  return patterns.map((pattern) => {
    const at = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (at === -1) throw new Error(`no ${pattern} after position ${from} in:\n${lines.join('\n')}`);
    from = at + 1;
    return at;
  });
}

test('fresh up: preflight, kind create from the generated config, marker, preload, istioctl, baseline, rollouts, in that order', async (t) => {
  const w = await world((exec) => exec.on("docker image inspect --format '{{.Id}}' docker.io/istio/proxyv2", 'fail'));
  const bed = await up({ ...base, pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }, connectTimeout: '1s' }, w.overrides);
  const calls = w.exec.lines();
  t.notThrows(() =>
    inOrder(calls, [
      /^docker info/,
      /^\/cache\/kind get clusters$/,
      /^\/cache\/kind create cluster --name podpath --config .*\/podpath\/kind-config\.yaml --kubeconfig \S+\/podpath\/kubeconfig --wait 120s$/,
      // The agent image is pinned by digest: the node's CRI pulls it (a kind-loaded copy would lose the digest).
      /^docker exec podpath-control-plane crictl pull docker\.io\/library\/node:24\.\d+\.\d+-alpine[\d.]*@sha256:[0-9a-f]{64}$/,
      /^docker image inspect .* docker\.io\/istio\/pilot:1\.22\.8$/,
      // Docker 27 predates `save --platform` (API 1.48): a plain save.
      /^docker image save -o \S+\/podpath\/preload-\w+\/docker\.io_istio_pilot_1\.22\.8\.tar docker\.io\/istio\/pilot:1\.22\.8$/,
      /^\/cache\/kind load image-archive \S+\/preload-\w+\/docker\.io_istio_pilot_1\.22\.8\.tar --name podpath$/,
      /^docker pull --platform linux\/amd64 docker\.io\/istio\/proxyv2:1\.22\.8$/,
      /^\/cache\/istioctl install -y -f .*\/podpath\/istio-operator\.yaml --kubeconfig \S+\/podpath\/kubeconfig --context kind-podpath$/,
    ]),
  );
  t.false(calls.some((l) => /^docker pull .*pilot/.test(l)), 'images already present are not pulled again');
  t.false(calls.some((l) => /load docker-image/.test(l)), 'never kind load docker-image: it imports --all-platforms (kind#3795)');
  t.deepEqual(w.kube.calls.slice(0, 2), ['apply ConfigMap/kube-system/podpath-cluster', 'lease podpath-bed test-holder']);
  t.true(w.kube.calls.includes('rollout istio-system/istiod'));
  t.deepEqual(w.kube.calls.filter((c) => c.startsWith('rollout')).slice(1), ['rollout manager/manager', 'rollout app/app', 'rollout idle/idle']);
  t.false(w.kube.calls.includes('release podpath-bed'), 'the lease is held for the whole run, not only the bring-up');
  t.false(bed.lease.lost.aborted);
  t.true(bed.created);
  t.is(bed.context, 'kind-podpath');
  t.is(bed.istio.version, '1.22.8');
  for (const phase of ['preflight', 'tools', 'cluster', 'marker', 'lock', 'preload', 'istio', 'baseline', 'ready']) t.true(phase in bed.timings, phase);
  t.is(bed.marker.connectTimeout, '1s', 'the marker records connectTimeout so reports can say so');

  const kindConfig = parse(w.written.get(join(w.work, 'podpath', 'kind-config.yaml')) ?? '');
  t.is(kindConfig.kind, 'Cluster');
  t.is(kindConfig.apiVersion, 'kind.x-k8s.io/v1alpha4');
  t.is(kindConfig.name, 'podpath');
  t.regex(kindConfig.nodes[0].image, /^kindest\/node:v1\.30\.\d+@sha256:/, 'Istio 1.22 supports Kubernetes up to 1.30');
  t.is(kindConfig.nodes[0].labels['podpath.io/cluster'], 'podpath');

  const operator = parse(w.written.get(join(w.work, 'podpath', 'istio-operator.yaml')) ?? '');
  t.is(operator.kind, 'IstioOperator');
  t.is(operator.spec.profile, 'minimal');
  t.is(operator.spec.meshConfig.accessLogFile, '/dev/stdout');
  t.is(operator.spec.meshConfig.accessLogEncoding, 'TEXT');
  t.is(operator.spec.meshConfig.connectTimeout, '1s');
  t.deepEqual(operator.spec.values.pilot.env, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' });
  t.false(operator.spec.components.ingressGateways[0].enabled);
});

test('json encoding and no connectTimeout: JSON access log, connectTimeout left to Istio', async (t) => {
  const w = await world();
  await up({ ...base, logEncoding: 'json' }, w.overrides);
  const operator = parse(w.written.get(join(w.work, 'podpath', 'istio-operator.yaml')) ?? '');
  t.is(operator.spec.meshConfig.accessLogEncoding, 'JSON');
  t.false('connectTimeout' in operator.spec.meshConfig);
  t.false('values' in operator.spec, 'no pilot env asked for, none set');
});

test('idempotent: an existing podpath cluster with the same Istio is healed, not recreated', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'other\npodpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  const bed = await up(base, w.overrides);
  t.false(bed.created);
  t.false(w.exec.lines().some((l) => / create cluster /.test(l)));
  t.true(w.exec.lines().some((l) => /istioctl install -y/.test(l)));
  t.true(w.kube.calls.some((c) => c.startsWith('apply Namespace/manager')));
  t.is(bed.marker.createdAt, '2026-11-23T09:00:00Z', 'the original creation time is kept');
  t.is(bed.marker.logEncoding, 'text', 'the marker follows the settings this run installed (it said json before)');
  t.deepEqual(bed.marker.pilotEnv, {});
});

test('safety: an existing kind cluster without the podpath marker is refused', async (t) => {
  const w = await world((exec) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
  });
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: UsageError });
  t.regex(error.shortMessage, /refusing to change kind cluster 'podpath': podpath did not create it/);
  t.regex(error.hint ?? '', /--allow-context kind-podpath/);
  t.deepEqual(w.kube.calls, ['get ConfigMap/kube-system/podpath-cluster'], 'only the marker was read, through the private kubeconfig');
  t.false(w.exec.lines().some((l) => /istioctl|kind (create|delete|load)/.test(l)));
});

test('safety: --allow-context names an unmarked cluster explicitly', async (t) => {
  const w = await world((exec) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
  });
  const bed = await up({ ...base, allowContext: 'kind-podpath' }, w.overrides);
  t.false(bed.created);
  t.true(w.kube.calls.includes('apply ConfigMap/kube-system/podpath-cluster'), 'it is marked from now on');
});

test('an existing podpath cluster with another Istio version is not silently reinstalled', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  const error = await t.throwsAsync(up({ ...base, istio: '1.24' }, w.overrides), { instanceOf: UsageError });
  t.regex(error.shortMessage, /already runs Istio 1\.22\.8, not 1\.24\.6/);
});

test('--reuse only checks readiness: no create, no install, no apply', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  let istioctlAsked = false;
  const bed = await up({ ...base, reuse: true }, { ...w.overrides, ensureIstioctl: async () => ((istioctlAsked = true), { tool: 'istioctl', version: 'x', path: 'x', origin: 'cache' }) });
  t.false(istioctlAsked);
  t.deepEqual(w.kube.calls, ['get ConfigMap/kube-system/podpath-cluster', 'lease podpath-bed test-holder', 'rollout istio-system/istiod', 'rollout manager/manager', 'rollout app/app', 'rollout idle/idle'], 'the marker is read and the lease taken through the private kubeconfig; nothing is applied');
  t.true(w.exec.lines().includes(`/cache/kind export kubeconfig --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`), 'the private kubeconfig is (re)written from the running cluster');
  t.false(w.exec.lines().some((l) => /istioctl|create|load|pull/.test(l)));
  t.is(bed.marker.logEncoding, 'json', 'the marker tells how the cluster was set up');
  t.deepEqual(Object.keys(bed.timings), ['preflight', 'tools', 'cluster', 'lock', 'ready']);
  t.is(bed.istio.version, '1.22.8', 'the bed describes what runs, not what was asked');
  t.false(bed.warnings.some((w) => /--reuse: cluster/.test(w)), 'same version asked: no warning');
});

test('--reuse without a cluster is a UsageError pointing at podpath up', async (t) => {
  const w = await world();
  const error = await t.throwsAsync(up({ ...base, reuse: true }, w.overrides), { instanceOf: UsageError });
  t.regex(error.hint ?? '', /without --reuse/);
});

test('Ctrl-C during istioctl install: the child gets the signal, the new cluster is deleted, exit 130', async (t) => {
  const controller = new AbortController();
  const w = await world((exec, kube) =>
    exec.on('/cache/istioctl install', (call) => {
      controller.abort(new Error('SIGINT'));
      t.true(call.options.signal?.aborted, 'the child process is tied to the signal');
      return new InterruptedError('interrupted: istioctl install');
    }),
  );
  const error = await t.throwsAsync(up({ ...base, signal: controller.signal }, w.overrides), { instanceOf: InterruptedError });
  t.is(error.exitCode, 130);
  t.regex(error.hint ?? '', /Removed kind cluster 'podpath'/);
  t.is(w.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`);
  t.is(w.exec.calls.at(-1)?.options.signal, undefined, 'cleanup is not cancelled by the same Ctrl-C');
  t.true(w.kube.calls.includes('release podpath-bed'), 'the lease is released on the way out');
});

test('Ctrl-C with --keep leaves the cluster and says how to remove it', async (t) => {
  const controller = new AbortController();
  const w = await world((exec) => exec.on('/cache/istioctl install', () => (controller.abort(), new InterruptedError('interrupted'))));
  const error = await t.throwsAsync(up({ ...base, keep: true, signal: controller.signal }, w.overrides), { instanceOf: InterruptedError });
  t.regex(error.hint ?? '', /Kept kind cluster 'podpath' \(--keep\).*podpath down --name podpath/);
  t.false(w.exec.lines().some((l) => / delete cluster /.test(l)));
});

test('Ctrl-C between phases stops before the next one', async (t) => {
  const controller = new AbortController();
  const w = await world();
  w.kube.onCall = (name) => {
    if (name === 'apply') controller.abort();
  };
  await t.throwsAsync(up({ ...base, signal: controller.signal }, w.overrides), { instanceOf: InterruptedError });
  t.false(w.exec.lines().some((l) => /istioctl|kind load/.test(l)), 'nothing after the marker ran');
  t.is(w.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`);
});

test('Ctrl-C on an existing cluster deletes nothing (this run created nothing)', async (t) => {
  const controller = new AbortController();
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
    exec.on('/cache/istioctl install', () => (controller.abort(), new InterruptedError('interrupted')));
  });
  const error = await t.throwsAsync(up({ ...base, signal: controller.signal }, w.overrides), { instanceOf: InterruptedError });
  t.regex(error.hint ?? '', /Nothing was created/);
  t.false(w.exec.lines().some((l) => / delete cluster /.test(l)));
});

test('a failure after creating the cluster removes it and keeps the original error', async (t) => {
  const w = await world();
  w.kube.failures.set('waitForRollout', new EnvironmentError('rollout of istio-system/istiod timed out'));
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: EnvironmentError });
  t.is(error.shortMessage, 'rollout of istio-system/istiod timed out');
  t.regex(error.hint ?? '', /Removed kind cluster 'podpath'/);
});

test('preflight failure: Docker missing is exit 2 naming what to install, and nothing else runs', async (t) => {
  const w = await world((exec) => exec.on('docker info', 'missing'));
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: EnvironmentError });
  t.is(error.exitCode, 2);
  t.regex(error.shortMessage, /Docker is not installed/);
  t.regex(error.hint ?? '', /Install Docker Engine/);
  t.deepEqual(w.exec.lines(), ['docker info --format \'{{.ServerVersion}}|{{.DockerRootDir}}|{{.OSType}}|{{.Architecture}}\'']);
});

test('disposing a bed deletes only a cluster it created, and never with --keep', async (t) => {
  const w = await world();
  const bed = await up(base, w.overrides);
  await bed[Symbol.asyncDispose]();
  t.is(w.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`);
  const kept = await world();
  const keptBed = await up({ ...base, keep: true }, kept.overrides);
  await keptBed[Symbol.asyncDispose]();
  t.false(kept.exec.lines().some((l) => / delete cluster /.test(l)));
});

test('dry run: the whole plan for --istio 1.22 --pilot-env ENABLE_EXTERNAL_NAME_ALIAS=false, in order, touching nothing', async (t) => {
  const cache = await tempDir('podpath-dry-');
  const plan = new Plan();
  const exec = new DryRunExec(plan);
  const env = { XDG_CACHE_HOME: cache };
  const kube = new FakeKube('kind-podpath', plan);
  const tools = { exec, env, plan, platform: 'linux', arch: 'x64' };
  const bed = await up(
    { ...base, dryRun: true, pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } },
    {
      exec,
      plan,
      env,
      kube: async () => kube,
      baseline: async () => structuredClone(BASELINE),
      ensureKind: (v) => ensureKind(v, tools),
      ensureIstioctl: (v) => ensureIstioctl(v, tools),
      preflight: () => preflight({ exec, cacheDir: join(cache, 'podpath'), plan, platform: 'linux', arch: 'x64' }),
    },
  );
  const steps = plan.steps.map((s) => `[${s.kind}] ${s.text}`);
  t.notThrows(() =>
    inOrder(steps, [
      /^\[exec\] docker info --format/,
      /^\[note\] use kind v0\.27\.0 .*download https:\/\/github\.com\/kubernetes-sigs\/kind\/releases\/download\/v0\.27\.0\/kind-linux-amd64/,
      /^\[note\] use istioctl 1\.22\.8 .*istioctl-1\.22\.8-linux-amd64\.tar\.gz/,
      /^\[exec\] \S+\/kind get clusters$/,
      /^\[file\] write \S+\/clusters\/podpath\/kind-config\.yaml/,
      /^\[exec\] \S+\/kind create cluster --name podpath --config \S+\/kind-config\.yaml --kubeconfig \S+\/clusters\/podpath\/kubeconfig --wait 120s$/,
      /^\[api\] apply ConfigMap\/kube-system\/podpath-cluster$/,
      /^\[api\] lease podpath-bed/,
      /^\[file\] create temporary directory \S+\/clusters\/podpath\/preload-XXXXXX$/,
      /^\[exec\] docker exec podpath-control-plane crictl pull docker\.io\/library\/node:24\.\d+\.\d+-alpine[\d.]*@sha256:[0-9a-f]{64}$/,
      /^\[exec\] docker image inspect --format '\{\{\.Id\}\}' docker\.io\/istio\/pilot:1\.22\.8$/,
      /^\[exec\] docker image save --platform linux\/amd64 -o \S+\/preload-XXXXXX\/docker\.io_istio_pilot_1\.22\.8\.tar docker\.io\/istio\/pilot:1\.22\.8$/,
      /^\[exec\] \S+\/kind load image-archive \S+\/docker\.io_istio_pilot_1\.22\.8\.tar --name podpath$/,
      /^\[exec\] docker image save --platform linux\/amd64 -o \S+\/docker\.io_istio_proxyv2_1\.22\.8\.tar docker\.io\/istio\/proxyv2:1\.22\.8$/,
      /^\[exec\] \S+\/kind load image-archive \S+\/docker\.io_istio_proxyv2_1\.22\.8\.tar --name podpath$/,
      /^\[file\] remove \S+\/clusters\/podpath\/preload-XXXXXX$/,
      /^\[file\] write \S+\/clusters\/podpath\/istio-operator\.yaml/,
      /^\[exec\] \S+\/istioctl install -y -f \S+\/istio-operator\.yaml --kubeconfig \S+\/clusters\/podpath\/kubeconfig --context kind-podpath$/,
      /^\[api\] apply Namespace\/manager Namespace\/app Namespace\/idle .*Deployment\/manager\/manager/,
      /^\[api\] rollout istio-system\/istiod$/,
      /^\[api\] rollout idle\/idle$/,
    ]),
  );
  t.deepEqual(await readdir(cache), [], 'nothing written to the cache');
  const operator = parse([...bed.files.entries()].find(([p]) => p.endsWith('istio-operator.yaml'))?.[1] ?? '');
  t.deepEqual(operator.spec.values.pilot.env, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' });
  t.is(bed.plan, plan);
});

test('down: deletes a podpath cluster, refuses others, and is a no-op when absent', async (t) => {
  const ours = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  t.true((await down({ name: 'podpath', dryRun: false }, ours.overrides)).deleted);
  t.is(ours.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(ours.work, 'podpath', 'kubeconfig')}`);

  const theirs = await world((exec) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
  });
  const error = await t.throwsAsync(down({ name: 'podpath', dryRun: false }, theirs.overrides), { instanceOf: UsageError });
  t.regex(error.shortMessage, /refusing to delete/);
  t.false(theirs.exec.lines().some((l) => / delete cluster /.test(l)));
  t.true((await down({ name: 'podpath', dryRun: false, allowContext: 'kind-podpath' }, theirs.overrides)).deleted);

  const none = await world();
  const result = await down({ name: 'podpath', dryRun: false }, none.overrides);
  t.false(result.deleted);
  t.regex(result.message, /nothing to delete/);
});

test('status: Istio version from the istiod image, workloads and readiness', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
    kube.images = ['docker.io/istio/pilot:1.22.8'];
  });
  const pod = (name: string, namespace: string, ready = true) => ({ name, namespace, ip: '10.244.0.5', ready, terminating: false, labels: {}, node: 'podpath-control-plane' });
  w.kube.pods = [pod('istiod-1', 'istio-system'), pod('manager-1', 'manager'), pod('manager-2', 'manager'), pod('app-1', 'app'), pod('idle-1', 'idle', false)];
  const { status: s } = await status({ name: 'podpath', dryRun: false }, w.overrides);
  t.true(s.exists);
  t.true(s.podpath);
  t.deepEqual(s.istio, { version: '1.22.8', source: 'istiod image' });
  t.deepEqual(s.workloads.map((x) => [x.namespace, x.pods.length]), [['istio-system', 1], ['manager', 2], ['app', 1], ['idle', 1]]);
  t.false(s.ready, 'idle is not ready');
});

test('status of a missing cluster says so without calling the API', async (t) => {
  const w = await world();
  const { status: s } = await status({ name: 'podpath', dryRun: false }, w.overrides);
  t.false(s.exists);
  t.deepEqual(w.kube.calls, []);
});

test('upgradeIstio canary: revision install, namespaces relabelled istio.io/rev, workloads restarted, marker updated', async (t) => {
  const w = await world();
  const bed = await up(base, w.overrides);
  w.kube.calls.length = 0;
  const before = w.exec.calls.length;
  await upgradeIstio(bed, '1.23', { canary: true });
  const calls = w.exec.lines().slice(before);
  t.true(calls.some((l) => /^\/cache\/istioctl install -y -f \S+istio-operator-1-23-6\.yaml --kubeconfig \S+\/podpath\/kubeconfig --context kind-podpath --set revision=1-23-6$/.test(l)));
  t.is(w.kube.calls[0], 'rollout istio-system/istiod-1-23-6');
  t.regex(w.kube.calls[1], /^apply Namespace\/manager Namespace\/app Namespace\/idle Deployment\/manager\/manager Deployment\/app\/app Deployment\/idle\/idle$/);
  t.is(w.kube.calls.at(-1), 'apply ConfigMap/kube-system/podpath-cluster');
  t.is(bed.istio.version, '1.23.6');
  t.is(bed.marker.revision, '1-23-6');
});

test('upgradeIstio canary relabels namespaces and annotates pod templates', async (t) => {
  const w = await world();
  const applied: KubeDocument[][] = [];
  const bed = await up(base, w.overrides);
  const kube = bed.kube;
  const original = kube.apply.bind(kube);
  kube.apply = async (docs) => (applied.push(docs), original(docs));
  await upgradeIstio(bed, '1.23.6', { canary: true });
  const [changes] = applied;
  const ns = changes.find((d) => d.kind === 'Namespace' && d.metadata.name === 'app') as unknown as { metadata: { labels: Record<string, string> } };
  t.deepEqual(ns.metadata.labels, { 'istio.io/rev': '1-23-6' }, 'istio-injection removed: it would win over istio.io/rev');
  const deployment = changes.find((d) => d.kind === 'Deployment' && d.metadata.name === 'idle') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
  t.is(deployment.spec.template.metadata.annotations['podpath.io/restarted-for'], 'istio-1.23.6');
});

test('upgradeIstio in place: the new istioctl installs over the old control plane, no revision', async (t) => {
  const w = await world();
  const bed = await up(base, w.overrides);
  const before = w.exec.calls.length;
  w.kube.calls.length = 0;
  await upgradeIstio(bed, '1.23', { canary: false });
  t.is(w.kube.calls[0], 'rollout istio-system/istiod');
  t.regex(w.kube.calls[1], /^apply Deployment\/manager\/manager Deployment\/app\/app Deployment\/idle\/idle$/, 'workloads restart onto the new sidecar');
  const install = w.exec.lines().slice(before).find((l) => /istioctl install/.test(l)) ?? '';
  t.regex(install, /install -y -f \S+\/istio-operator\.yaml --kubeconfig \S+\/podpath\/kubeconfig --context kind-podpath$/);
  t.false(w.kube.calls.some((c) => c.startsWith('apply Namespace')), 'namespaces keep istio-injection');
});

test('invalid inputs are UsageErrors before anything runs', async (t) => {
  const w = await world();
  await t.throwsAsync(up({ ...base, name: 'Bad_Name' }, w.overrides), { instanceOf: UsageError });
  await t.throwsAsync(up({ ...base, istio: '1.9' }, w.overrides), { instanceOf: UsageError });
  await t.throwsAsync(up({ ...base, connectTimeout: 'soon' }, w.overrides), { instanceOf: UsageError });
  t.deepEqual(w.exec.lines(), []);
});

test('generated files are written for real when not a dry run', async (t) => {
  const w = await world();
  const { writeFile: _ignored, ...rest } = w.overrides;
  await up(base, rest);
  const config = await readFile(join(w.work, 'podpath', 'kind-config.yaml'), 'utf8');
  t.regex(config, /^# Generated by podpath/);
});

test('with the real baseline from harness/kube: every deployment in it is waited for, canary relabels its namespaces', async (t) => {
  const w = await world();
  const { baseline: _fake, ...overrides } = w.overrides;
  const bed = await up(base, overrides);
  const rollouts = w.kube.calls.filter((c) => c.startsWith('rollout ')).sort();
  t.deepEqual(rollouts, ['rollout app/app', 'rollout idle/idle', 'rollout istio-system/istiod', 'rollout manager/manager']);
  const applied: KubeDocument[][] = [];
  const kube = bed.kube;
  const original = kube.apply.bind(kube);
  kube.apply = async (docs) => (applied.push(docs), original(docs));
  await upgradeIstio(bed, '1.23', { canary: true });
  const namespaces = applied[0].filter((d) => d.kind === 'Namespace');
  t.deepEqual(namespaces.map((d) => d.metadata.name).sort(), ['app', 'idle', 'manager']);
  for (const ns of namespaces) {
    const labels = ns.metadata.labels as Record<string, string>;
    t.is(labels['istio.io/rev'], '1-23-6');
    t.false('istio-injection' in labels);
    t.is(labels['app.kubernetes.io/part-of'], 'podpath', 'other labels are kept');
  }
});

test('--reuse on a cluster running another Istio version says so', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  const bed = await up({ ...base, istio: '1.30', reuse: true }, w.overrides);
  t.is(bed.istio.version, '1.22.8');
  t.true(bed.warnings.some((w) => /runs Istio 1\.22\.8, not the 1\.30\.5 asked for/.test(w)));
});

/** `docker image save ... -o PATH IMAGE` writes PATH, as the real one does, so tests can see it removed. */
async function fakeSave(call: { args: readonly string[] }): Promise<{ stdout: string }> {
  const { writeFile } = await import('node:fs/promises');
  const out = call.args[call.args.indexOf('-o') + 1];
  await writeFile(out, 'archive');
  return { stdout: '' };
}

test('preload on Docker 29 (containerd store, arm64): pull and save only the daemon platform, load the archive', async (t) => {
  const w = await world((exec) => {
    exec.on('docker info', { stdout: '29.1.3|/var/lib/docker|linux|aarch64\n' });
    exec.on('docker image inspect', 'fail');
    exec.on('docker image save', fakeSave);
  });
  await up(base, w.overrides);
  const calls = w.exec.lines();
  t.notThrows(() =>
    inOrder(calls, [
      /^docker exec podpath-control-plane crictl pull docker\.io\/library\/node:24\.\d+\.\d+-alpine[\d.]*@sha256:[0-9a-f]{64}$/,
      /^docker pull --platform linux\/arm64 docker\.io\/istio\/pilot:1\.22\.8$/,
      /^docker image save --platform linux\/arm64 -o \S+ docker\.io\/istio\/pilot:1\.22\.8$/,
      /^\/cache\/kind load image-archive \S+\/docker\.io_istio_pilot_1\.22\.8\.tar --name podpath$/,
      /^docker image save --platform linux\/arm64 -o \S+ docker\.io\/istio\/proxyv2:1\.22\.8$/,
      /^\/cache\/kind load image-archive \S+\/docker\.io_istio_proxyv2_1\.22\.8\.tar --name podpath$/,
    ]),
  );
  // The archive kind loaded is the one docker saved.
  const saved = calls.filter((l) => l.startsWith('docker image save')).map((l) => l.split(' ').at(-2));
  const loaded = calls.filter((l) => l.includes('load image-archive')).map((l) => l.split(' ')[3]);
  t.deepEqual(loaded, saved);
  t.deepEqual(await readdir(join(w.work, 'podpath')), [], 'every archive and the temporary directory are removed');
});

test('preload: a Docker that refuses save --platform gets a plain save of the same image', async (t) => {
  const w = await world((exec) => {
    exec.on('docker info', { stdout: '28.0.0|/var/lib/docker|linux|x86_64\n' });
    exec.on('docker image save --platform', new Error('unknown flag: --platform'));
    exec.on('docker image save', fakeSave);
  });
  const bed = await up(base, w.overrides);
  const saves = w.exec.lines().filter((l) => l.startsWith('docker image save'));
  t.is(saves.length, 4, 'each of the two Istio images: --platform refused, then a plain save (the agent image is pulled by the node)');
  t.regex(saves[1], /^docker image save -o \S+\/docker\.io_istio_pilot_1\.22\.8\.tar docker\.io\/istio\/pilot:1\.22\.8$/);
  t.false(bed.warnings.some((x) => /preload/.test(x)), 'the fallback worked: nothing to warn about');
});

test('preload failure (kind#3795 "content digest not found") is a warning: bring-up continues, cluster kept, archive removed', async (t) => {
  const warned: string[] = [];
  const w = await world((exec) => {
    exec.on('docker image save', fakeSave);
    exec.on('/cache/kind load image-archive', (call) =>
      call.line.includes('pilot')
        ? new ExecError(call.line, 1, 'ERROR: failed to load image: command "docker exec --privileged -i podpath-control-plane ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit status 1\nctr: content digest sha256:b1addbe7: not found')
        : {},
    );
  });
  const bed = await up({ ...base, onWarning: (x) => warned.push(x) }, w.overrides);
  const calls = w.exec.lines();
  t.true(calls.some((l) => /istioctl install -y/.test(l)), 'istioctl install still ran');
  t.true(calls.some((l) => /load image-archive \S+proxyv2/.test(l)), 'the images after the failed one are still loaded');
  t.false(calls.some((l) => / delete cluster /.test(l)), 'the cluster is not torn down');
  t.true(w.kube.calls.includes('rollout idle/idle'));
  const warning = bed.warnings.find((x) => /preload/.test(x)) ?? '';
  t.regex(warning, /could not preload docker\.io\/istio\/pilot:1\.22\.8 into kind cluster 'podpath' \(ctr: content digest sha256:b1addbe7: not found\)/);
  t.regex(warning, /kubelet pulls it/);
  t.deepEqual(warned, [warning], 'the warning is told as it happens, once');
  t.deepEqual(await readdir(join(w.work, 'podpath')), [], 'the archive of the failed load is removed too');
});

test('preload: a failed pull is a warning too, and Ctrl-C during preload still stops the bring-up', async (t) => {
  const w = await world((exec) => {
    exec.on('docker image inspect', 'fail');
    exec.on('docker pull', 'fail');
    exec.on('docker exec podpath-control-plane crictl pull', 'fail');
  });
  const bed = await up(base, w.overrides);
  t.is(bed.warnings.filter((x) => /could not preload/.test(x)).length, 3);
  t.false(w.exec.lines().some((l) => /image save|load image-archive/.test(l)), 'nothing to save after a failed pull');

  const controller = new AbortController();
  const stopped = await world((exec) => exec.on('docker image inspect', () => (controller.abort(), new InterruptedError('interrupted: docker image inspect'))));
  await t.throwsAsync(up({ ...base, signal: controller.signal }, stopped.overrides), { instanceOf: InterruptedError });
  t.false(stopped.exec.lines().some((l) => /istioctl install/.test(l)));
  t.is(stopped.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(stopped.work, 'podpath', 'kubeconfig')}`);
  t.deepEqual(await readdir(join(stopped.work, 'podpath')), [], 'the temporary directory is removed on Ctrl-C too');
});

test('preload: the digest-pinned agent image is pulled by the node\'s CRI, never saved and kind-loaded (that loses the digest)', async (t) => {
  const w = await world((exec) => exec.on('docker image inspect', 'fail'));
  await up(base, w.overrides);
  const calls = w.exec.lines();
  const node = calls.filter((l) => l.includes('library/node') || l.includes('library_node'));
  t.is(node.length, 1, node.join('\n'));
  t.regex(node[0], /^docker exec podpath-control-plane crictl pull docker\.io\/library\/node:24\.\d+\.\d+-alpine[\d.]*@sha256:[0-9a-f]{64}$/);
});

test('preload: false (--skip-preload) runs no docker image or kind load command', async (t) => {
  const w = await world();
  const bed = await up({ ...base, preload: false }, w.overrides);
  t.false(w.exec.lines().some((l) => /docker (image|pull)|kind load/.test(l)));
  t.false('preload' in bed.timings);
  t.true(w.exec.lines().some((l) => /istioctl install -y/.test(l)));
});

test('private kubeconfig: every client is loaded from the cluster\'s own file in the podpath cache, never $KUBECONFIG', async (t) => {
  const w = await world();
  const loaded: Array<[string, string]> = [];
  const bed = await up(base, { ...w.overrides, kube: async (context, kubeconfig) => (loaded.push([context, kubeconfig]), w.kube) });
  const own = join(w.work, 'podpath', 'kubeconfig');
  t.deepEqual(loaded, [['kind-podpath', own]]);
  t.is(bed.kubeconfig, own);
  const kindCalls = w.exec.calls.filter((c) => c.file === '/cache/kind' && /^(create|delete|export)$/.test(c.args[0] ?? ''));
  t.true(kindCalls.length > 0);
  for (const call of kindCalls) t.is(call.args[call.args.indexOf('--kubeconfig') + 1], own, call.line);
  for (const call of w.exec.calls.filter((c) => c.file === '/cache/istioctl')) t.is(call.args[call.args.indexOf('--kubeconfig') + 1], own, call.line);
});

test('a create that loses the race ("node(s) already exist") deletes nothing: the cluster is not this run\'s', async (t) => {
  const w = await world((exec) =>
    exec.on('/cache/kind create cluster', (call) => new ExecError(call.line, 1, 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "podpath"')),
  );
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /created by someone else while this run was creating it/);
  t.regex(error.hint ?? '', /Nothing was created by this run/);
  t.false(w.exec.lines().some((l) => / delete cluster /.test(l)), 'the other run\'s cluster is left alone');
  t.deepEqual(w.kube.calls, [], 'no marker was written to a cluster this run does not own');
});

test('any other failed create deletes nothing either: kind removes the nodes of its own failed create', async (t) => {
  const w = await world((exec) => exec.on('/cache/kind create cluster', 'fail'));
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: EnvironmentError });
  t.regex(error.hint ?? '', /Nothing was created by this run/);
  t.false(w.exec.lines().some((l) => / delete cluster /.test(l)));
});

test('down: a cluster another podpath run holds is refused (exit 2) and left alone, unless --force', async (t) => {
  const busy = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
    kube.leaseHeldBy = 'ci-runner-4711 (since 2026-12-01T03:00:00.000Z)';
  });
  const error = await t.throwsAsync(down({ name: 'podpath', dryRun: false }, busy.overrides), { instanceOf: UsageError });
  t.is(error.exitCode, 2);
  t.regex(error.shortMessage, /refusing to delete kind cluster 'podpath': a podpath run is using it .*ci-runner-4711/);
  t.regex(error.hint ?? '', /--force/);
  t.false(busy.exec.lines().some((l) => / delete cluster /.test(l)), 'kind delete never ran');

  t.true((await down({ name: 'podpath', dryRun: false, force: true }, busy.overrides)).deleted);
  t.true(busy.exec.lines().some((l) => / delete cluster --name podpath /.test(l)));
});

test('down: the lease is taken before kind delete and released after it', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  t.true((await down({ name: 'podpath', dryRun: false }, w.overrides)).deleted);
  t.deepEqual(w.kube.calls.filter((c) => /lease|release/.test(c)), ['lease podpath-bed test-holder', 'release podpath-bed']);
});

test('an unreadable marker is refused like a missing one, saying why', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMapError = new EnvironmentError('cannot reach the API server at https://127.0.0.1:40001');
  });
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: UsageError });
  t.regex(error.shortMessage, /marker could not be read \(cannot reach the API server/);
  t.false(w.exec.lines().some((l) => /istioctl|kind (create|delete|load)/.test(l)));
});

test('the lease is held for the whole run: taken on --reuse too, released when the bed is disposed', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  const bed = await up({ ...base, reuse: true }, w.overrides);
  t.true(w.kube.calls.includes('lease podpath-bed test-holder'));
  t.false(w.kube.calls.includes('release podpath-bed'));
  await bed[Symbol.asyncDispose]();
  t.is(w.kube.calls.at(-1), 'release podpath-bed');
  t.false(w.exec.lines().some((l) => / delete cluster /.test(l)), 'an attached bed is never deleted');
});

test('losing the lease during the bring-up stops it with exit 2 saying so, and removes the cluster it created', async (t) => {
  const w = await world();
  w.kube.onCall = (name) => {
    if (name === 'acquireLease') {
      w.kube.leaseLost.abort(new EnvironmentError('lost the lease kube-system/podpath-bed: taken over by other-run (409 Conflict on renewal)'));
    }
  };
  const error = await t.throwsAsync(up(base, w.overrides), { instanceOf: EnvironmentError });
  t.is(error.exitCode, 2);
  t.regex(error.shortMessage, /lost the lease .* taken over by other-run/);
  t.regex(error.hint ?? '', /Removed kind cluster 'podpath'/);
  t.false(w.exec.lines().some((l) => /istioctl install|docker image/.test(l)), 'nothing after the loss ran');
});

test('status and down without Docker: exit 2 naming Docker, no kind looked up or downloaded', async (t) => {
  for (const run of [(o: Partial<BedDeps>) => status({ name: 'podpath', dryRun: false }, o), (o: Partial<BedDeps>) => down({ name: 'podpath', dryRun: false }, o)]) {
    const w = await world((exec) => exec.on('docker info', 'missing'));
    let kindAsked = false;
    const error = await t.throwsAsync(run({ ...w.overrides, ensureKind: async () => ((kindAsked = true), { tool: 'kind', version: 'x', path: 'kind', origin: 'cache' }) }), { instanceOf: EnvironmentError });
    t.is(error.exitCode, 2);
    t.regex(error.shortMessage, /Docker is not installed/);
    t.false(kindAsked);
    t.deepEqual(w.exec.lines().length, 1);
  }
});

test('a run inside a flow that holds the bed (the upgrade flow) shares its lease instead of taking, then deleting, it', async (t) => {
  const w = await world((exec, kube) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER, MARKER_122);
  });
  const outer = await up(base, w.overrides);
  const inner = await up({ ...base, reuse: true }, w.overrides);
  t.is(w.kube.calls.filter((c) => c.startsWith('lease ')).length, 1, 'taken once for this process');
  await inner[Symbol.asyncDispose]();
  t.false(w.kube.calls.includes('release podpath-bed'), 'the inner run leaves the flow\'s lease held');
  await outer.lease.release();
  t.is(w.kube.calls.filter((c) => c === 'release podpath-bed').length, 1, 'given back by the last user');
  await outer.lease.release();
  t.is(w.kube.calls.filter((c) => c === 'release podpath-bed').length, 1, 'release is idempotent');
});

test('Ctrl-C during kind create removes the half-made cluster: a create that got going is this run\'s', async (t) => {
  const controller = new AbortController();
  const w = await world((exec) => exec.on('/cache/kind create cluster', () => (controller.abort(), new InterruptedError('interrupted: kind create cluster'))));
  const error = await t.throwsAsync(up({ ...base, signal: controller.signal }, w.overrides), { instanceOf: InterruptedError });
  t.regex(error.hint ?? '', /Removed kind cluster 'podpath'/);
  t.is(w.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`);
});

test('upgradeIstio stops when the bed\'s lease is lost, saying why (exit 2, not 130)', async (t) => {
  const w = await world();
  const bed = await up(base, w.overrides);
  w.exec.on('/cache/istioctl install', () => {
    w.kube.leaseLost.abort(new EnvironmentError('lost the lease kube-system/podpath-bed: taken over by other-run (409 Conflict on renewal)'));
    return {};
  });
  const error = await t.throwsAsync(upgradeIstio(bed, '1.23', { canary: false }), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /lost the lease/);
  t.false(w.kube.calls.some((c) => c.startsWith('apply Deployment')), 'no workload was restarted after the loss');
});

test('a cluster too broken to export a kubeconfig from: up refuses saying why, status says why, down deletes it only with --allow-context', async (t) => {
  const broken = (exec: ScriptedExec) => {
    exec.on('/cache/kind get clusters', { stdout: 'podpath\n' });
    exec.on('/cache/kind export kubeconfig', (call) => new ExecError(call.line, 1, "ERROR: could not locate any control plane nodes for cluster named 'podpath'"));
  };
  const w = await world(broken);
  const refused = await t.throwsAsync(up(base, w.overrides), { instanceOf: UsageError });
  t.regex(refused.shortMessage, /marker could not be read \(kind export kubeconfig failed: .*could not locate any control plane nodes/);
  const { status: s } = await status({ name: 'podpath', dryRun: false }, w.overrides);
  t.true(s.exists);
  t.false(s.podpath);
  t.regex(s.markerError ?? '', /could not locate any control plane nodes/);
  t.deepEqual(w.kube.calls, [], 'no API call without a kubeconfig');
  await t.throwsAsync(down({ name: 'podpath', dryRun: false }, w.overrides), { instanceOf: UsageError });
  t.true((await down({ name: 'podpath', dryRun: false, allowContext: 'kind-podpath' }, w.overrides)).deleted);
  t.is(w.exec.lines().at(-1), `/cache/kind delete cluster --name podpath --kubeconfig ${join(w.work, 'podpath', 'kubeconfig')}`);
});
