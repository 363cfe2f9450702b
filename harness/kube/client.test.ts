/**
 * The REAL @kubernetes/client-node, through KubeClient.fromKubeconfig, against the fake API
 * server (harness/kube/testing/fake-api-server.ts, a test double on 127.0.0.1:0).
 */
import test from 'ava';
import http from 'node:http';
import { readFile, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from './testing/fake-api-server.ts';
import { KubeClient, KubeError, type BackoffClock, rolloutState, type KubeDocument, type PodRef } from './index.ts';
import { baselineDocuments, extraDocuments } from '../manifests/index.ts';
import { EnvironmentError, InterruptedError, UsageError } from '../errors/index.ts';
import { Plan } from '../exec/index.ts';
import { convergedOn } from '../envoy/index.ts';
import { startAgent } from '../workload/agent.ts';
import { delayFor, pause } from './backoff.ts';

const FAST = { initialMs: 10, factor: 2, maxMs: 100 };

/**
 * Every backoff wait the client asks for, in order: the schedule is checked by what was asked, not by
 * how long a busy machine took. `virtual` time moves only when the client waits, so deadlines of polls
 * are exact; otherwise waits are real and only recorded.
 */
function recordingClock(virtual = false): { delays: number[]; clock: BackoffClock } {
  const delays: number[] = [];
  let at = 0;
  if (virtual) return { delays, clock: { now: () => at, pause: async (ms: number) => void (delays.push(ms), at += ms) } };
  return { delays, clock: { now: Date.now, pause: (ms: number, signal?: AbortSignal) => (delays.push(ms), pause(ms, signal)) } };
}

/** The FAST schedule's first n delays: 10, 20, 40, 80, 100, 100, ... */
const fastSchedule = (n: number): number[] => Array.from({ length: n }, (_, i) => delayFor(FAST, i));

async function setup(): Promise<{ fake: FakeApiServer; kube: KubeClient; kubeconfig: string }> {
  const fake = await FakeApiServer.start();
  const kubeconfig = await fake.writeKubeconfig();
  return { fake, kube: KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST }), kubeconfig };
}

const DEPLOY = '/apis/apps/v1/namespaces/app/deployments/app';

function deployment(replicas = 2): KubeDocument {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app', namespace: 'app' },
    spec: { replicas, selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'agent', image: 'node:24-alpine' }] } } },
  };
}

function pod(name: string, namespace: string, ip: string, ready: boolean, labels: Record<string, string> = { app: namespace }): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: 'podpath-control-plane', containers: [] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const POD: PodRef = { name: 'manager-1', namespace: 'manager', ip: '10.244.0.7', ready: true, terminating: false, labels: { app: 'manager' }, node: null };

// A minimal admin config_dump (envoy.admin.v3.ConfigDump) written from Envoy's API protos.
function adminDump(listeners: string[]): unknown {
  return {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        dynamic_listeners: listeners.map((name) => {
          const [address, port] = name.split('_');
          return { name, active_state: { listener: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', name, address: { socket_address: { address, port_value: Number(port) } }, filter_chains: [] } } };
        }),
      },
    ],
  };
}

// --- kubeconfig ------------------------------------------------------------------------------

test('fromKubeconfig: current context by default, another by name, unknown ones refused with the known list', async (t) => {
  const { fake, kube, kubeconfig } = await setup();
  await using _ = fake;
  t.is(kube.currentContext(), 'fake');
  t.is(KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, context: 'elsewhere' }).currentContext(), 'elsewhere');
  const error = t.throws(() => KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, context: 'kind-nope' }), { instanceOf: UsageError });
  t.regex(error?.hint ?? '', /fake, elsewhere/);
  t.throws(() => KubeClient.fromKubeconfig({ kubeconfigPath: path.join(tmpdir(), 'podpath-no-such-kubeconfig') }), { instanceOf: EnvironmentError });
});

// --- apply -----------------------------------------------------------------------------------

test('apply: every baseline document is server-side applied as field manager podpath, with force, and stored as written', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const docs = await baselineDocuments();
  await kube.apply(docs);
  const patches = fake.calls().filter((r) => r.method === 'PATCH');
  t.is(patches.length, docs.length, 'one PATCH per document, nothing else changes objects');
  for (const p of patches) {
    t.is(p.contentType, 'application/apply-patch+yaml');
    t.is(p.query.get('fieldManager'), 'podpath');
    t.is(p.query.get('force'), 'true');
    t.is(p.authorization, 'Bearer fake-token');
  }
  t.deepEqual(patches.slice(0, 3).map((p) => p.path), ['/api/v1/namespaces/manager', '/api/v1/namespaces/app', '/api/v1/namespaces/idle'], 'namespaces first');
  const agent = await readFile(fileURLToPath(new URL('../workload/agent.ts', import.meta.url)), 'utf8');
  const contract = await readFile(fileURLToPath(new URL('../probe/contract.ts', import.meta.url)), 'utf8');
  const cm = fake.get('/api/v1/namespaces/idle/configmaps/podpath-agent') as { data: Record<string, string> };
  t.deepEqual(cm.data, { 'agent.ts': agent, 'contract.ts': contract }, 'both shipped files survive the apply byte for byte');
  const manager = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'manager');
  const stored = fake.get('/apis/apps/v1/namespaces/manager/deployments/manager') as { spec: unknown };
  t.deepEqual(stored.spec, manager?.spec, 'the Deployment spec survives client-node serialization unchanged');
});

test('apply: Istio custom resources go to their group paths (discovery through client-node)', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([...(await extraDocuments('fix-sidecar-egress')), ...(await extraDocuments('strict-mtls'))]);
  t.truthy(fake.get('/apis/networking.istio.io/v1beta1/namespaces/manager/sidecars/default'));
  t.truthy(fake.get('/apis/security.istio.io/v1beta1/namespaces/istio-system/peerauthentications/default'));
});

test('apply: a 409 conflict is retried, a persistent one is a KubeError 409 saying to retry', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  // Virtual time: apply's 10 s retry budget is not spent by a busy machine's slow answers.
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, clock: recordingClock(true).clock });
  fake.fail({ method: 'PATCH', path: DEPLOY, status: 409, reason: 'Conflict' });
  await kube.apply([deployment()]);
  t.is(fake.calls().filter((r) => r.method === 'PATCH').length, 2, 'one retry');
  fake.fail({ method: 'PATCH', path: DEPLOY, status: 409, reason: 'Conflict', times: 10 });
  const error = await t.throwsAsync(() => kube.apply([deployment()]), { instanceOf: KubeError });
  t.is(error?.statusCode, 409);
  t.is(error?.reason, 'Conflict');
  t.regex(error?.hint ?? '', /retry/i);
});

test('apply: Ctrl-C while a conflict is being retried is an InterruptedError (exit 130), not a KubeError', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  // Time stands still for the deadline (a busy machine must not reach it first); the 10 s wait itself is real, and Ctrl-C ends it.
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: { initialMs: 10_000, factor: 1, maxMs: 10_000 }, clock: { now: () => 0, pause } });
  fake.fail({ method: 'PATCH', path: DEPLOY, status: 409, reason: 'Conflict', times: 10 });
  const controller = new AbortController();
  fake.onRequest.push((r) => {
    if (r.method === 'PATCH') setTimeout(() => controller.abort(), 20);
  });
  const error = await t.throwsAsync(() => kube.apply([deployment()], { signal: controller.signal }), { instanceOf: InterruptedError });
  t.is(error?.exitCode, 130);
});

test('apply: 403 names RBAC, 404 on a custom resource asks whether its CRD is installed', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  fake.fail({ method: 'PATCH', path: DEPLOY, status: 403, reason: 'Forbidden', message: 'deployments.apps "app" is forbidden' });
  const forbidden = await t.throwsAsync(() => kube.apply([deployment()]), { instanceOf: KubeError });
  t.is(forbidden?.statusCode, 403);
  t.regex(forbidden?.shortMessage ?? '', /apply Deployment\/app\/app failed with HTTP 403 Forbidden: deployments.apps "app" is forbidden/);
  t.regex(forbidden?.hint ?? '', /RBAC/);
  fake.fail({ method: 'PATCH', path: 'virtualservices', status: 404, reason: 'NotFound' });
  const vs = await extraDocuments('fix-virtualservice');
  const missing = await t.throwsAsync(() => kube.apply(vs), { instanceOf: KubeError });
  t.is(missing?.statusCode, 404);
  t.regex(missing?.hint ?? '', /CRD installed/);
});

test('a cluster that is not there: connection refused says "is the cluster up?"', async (t) => {
  // Bind an ephemeral port, close it: nothing listens there any more.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const dir = await mkdtemp(path.join(tmpdir(), 'podpath-kube-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kubeconfig');
  await writeFile(file, `apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: x\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\n`);
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: file, backoff: FAST });
  const error = await t.throwsAsync(() => kube.listPods('app'), { instanceOf: KubeError });
  t.is(error?.statusCode, null);
  t.is(error?.reason, 'ECONNREFUSED');
  t.regex(error?.hint ?? '', /Is the cluster up\?/);
});

// --- delete ----------------------------------------------------------------------------------

test('delete: absent objects are fine; with wait it returns once the object is gone (finalizers)', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.delete([deployment()]);
  t.is(fake.calls().filter((r) => r.method === 'DELETE').length, 1, 'a 404 on delete is not an error');
  fake.put(DEPLOY, { ...deployment(), metadata: { name: 'app', namespace: 'app', finalizers: ['example.com/hold'] } });
  // The finalizer finishes while the client is waiting: at its third read.
  let reads = 0;
  fake.onRequest.push((r) => {
    if (r.method === 'GET' && r.path === DEPLOY && ++reads === 3) fake.remove(DEPLOY);
  });
  const { delays, clock } = recordingClock();
  const waiting = KubeClient.fromKubeconfig({ kubeconfigPath: await fake.writeKubeconfig(), backoff: FAST, clock });
  await waiting.delete([deployment()], { wait: true });
  t.is(fake.get(DEPLOY), undefined);
  t.is(reads, 3, 'it kept reading until the object was gone, then stopped');
  t.deepEqual(delays, [10, 20], 'the two waits before the third read follow the schedule: never a busy loop');
});

// --- waitForRollout --------------------------------------------------------------------------

test('rolloutState: the kubectl rollout status rule', (t) => {
  const d = (status: Record<string, number>, generation = 2, replicas = 2) => ({ metadata: { generation }, spec: { replicas }, status });
  t.true(rolloutState(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).done);
  t.false(rolloutState(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).done, 'controller has not seen the new spec');
  t.false(rolloutState(d({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })).done, 'an old replica is still there');
  t.false(rolloutState(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 })).done, 'not yet available');
  t.is(rolloutState(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 })).state, '1/2 updated, 1/2 available, 2 total, generation 2 observed 2');
});

test('waitForRollout: already rolled out costs one GET and no watch', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  fake.completeRollout('app', 'app');
  const before = fake.calls().length;
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  t.deepEqual(fake.calls().slice(before).map((r) => `${r.watch ? 'WATCH' : r.method} ${r.path}`), [`GET ${DEPLOY}`]);
});

test('waitForRollout: a slow rollout is followed by ONE watch, not polls, however long it takes', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  const before = fake.calls().length;
  // The controller moves once the client watches: three status changes over 300 ms.
  fake.onRequest.push((r) => {
    if (!r.watch) return;
    setTimeout(() => fake.setDeploymentStatus('app', 'app', { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 0 }), 0);
    setTimeout(() => fake.setDeploymentStatus('app', 'app', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }), 150);
    setTimeout(() => fake.completeRollout('app', 'app'), 300);
  });
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  const calls = fake.calls().slice(before);
  t.is(calls.filter((r) => r.method === 'GET' && !r.watch).length, 1, 'one read');
  const watches = calls.filter((r) => r.watch);
  t.is(watches.length, 1, 'one watch for three status changes over 300 ms');
  t.is(watches[0].query.get('fieldSelector'), 'metadata.name=app');
  t.truthy(watches[0].query.get('resourceVersion'), 'the watch starts from the version read');
});

test('waitForRollout: a watch dropped mid-stream is re-established from the last resourceVersion', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  fake.dropWatches = { remaining: 1, afterEvents: 1 };
  // First watch: one event, then the connection is cut. Second watch: the rollout finishes.
  let watchCount = 0;
  fake.onRequest.push((r) => {
    if (!r.watch) return;
    if (++watchCount === 1) fake.setDeploymentStatus('app', 'app', { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 0 });
    else fake.completeRollout('app', 'app');
  });
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  const watches = fake.calls().filter((r) => r.watch);
  t.is(watches.length, 2, 'dropped once, re-watched once');
  const first = Number(watches[0].query.get('resourceVersion'));
  const second = Number(watches[1].query.get('resourceVersion'));
  t.true(second > first, `resumes after the event it saw (${first} → ${second})`);
});

test('waitForRollout: a server that keeps ending the watch at once is retried on the backoff, not hammered', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const { delays, clock } = recordingClock();
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, clock });
  await kube.apply([deployment()]);
  fake.dropWatches = { remaining: 1000, afterEvents: 0 };
  // Six watches, each ended at once by the server; then Ctrl-C. The deadline only guards a hang.
  const controller = new AbortController();
  let watches = 0;
  fake.onRequest.push((r) => {
    if (r.watch && ++watches === 6) controller.abort();
  });
  await t.throwsAsync(() => kube.waitForRollout('app', 'app', { timeoutMs: 60_000, signal: controller.signal }), { instanceOf: InterruptedError });
  t.is(watches, 6);
  t.deepEqual(delays, fastSchedule(5), 'one wait before each re-watch, growing by the schedule');
});

test('waitForRollout: 410 Gone re-reads the Deployment and watches from the fresh version', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  fake.expireNextWatches = 1;
  // The rollout finishes while the expired watch is refused: only a re-read can see it.
  fake.onRequest.push((r) => {
    if (r.watch) fake.completeRollout('app', 'app');
  });
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  const calls = fake.calls().filter((r) => r.path.startsWith('/apis/apps'));
  t.is(calls.filter((r) => r.method === 'GET' && !r.watch && r.path === DEPLOY).length, 2, 'read, 410, read again');
});

test('waitForRollout: a watch silent past the inactivity timeout reconnects from the last resourceVersion instead of failing', async (t) => {
  const fake = await FakeApiServer.start();
  await using _ = fake;
  // client-node's Watch aborts a silent request with DOMException TimeoutError (legacy code 23): that is a dropped watch, not HTTP 23.
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: await fake.writeKubeconfig(), backoff: FAST, watchInactivityMs: 300 });
  await kube.apply([deployment()]);
  // Watch 1 gets one event, then silence. The rollout finishes only once the client has shown both
  // rules: a reconnect after that event resumed past it, and a reconnect after a silent watch resumed
  // from the same version. A busy machine may add silent reconnects; a wrong version never finishes.
  const versions: number[] = [];
  let resumedPast = false;
  fake.onRequest.push((r) => {
    if (!r.watch) return;
    const version = Number(r.query.get('resourceVersion'));
    const previous = versions.at(-1);
    versions.push(version);
    if (previous === undefined) fake.setDeploymentStatus('app', 'app', { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 0 });
    else if (version > previous) resumedPast = true;
    else if (version === previous && resumedPast) fake.completeRollout('app', 'app');
  });
  // The deadline only guards a hang.
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  t.true(versions.length >= 3, `silent watches timed out and were re-established: ${versions.join(', ')}`);
  t.true(versions.every((v, i) => i === 0 || v >= versions[i - 1]), `never resumes from an older version: ${versions.join(', ')}`);
});

test('waitForRollout: asks the API server to end each watch before the client-side inactivity timer would', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  fake.onRequest.push((r) => {
    if (r.watch) fake.completeRollout('app', 'app');
  });
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  const [watch] = fake.calls().filter((r) => r.watch);
  const timeoutSeconds = Number(watch.query.get('timeoutSeconds'));
  t.true(timeoutSeconds > 0 && timeoutSeconds < 30, `timeoutSeconds=${watch.query.get('timeoutSeconds')} is under client-node's 30 s inactivity timeout`);
});

test('waitForRollout: a watch the server ends at timeoutSeconds is re-established', async (t) => {
  const fake = await FakeApiServer.start();
  await using _ = fake;
  // 2.4 s of allowed silence: the client asks the server for a 1 s watch, which the fake ends cleanly.
  const { delays, clock } = recordingClock();
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: await fake.writeKubeconfig(), backoff: FAST, watchInactivityMs: 2400, clock });
  await kube.apply([deployment()]);
  let watchCount = 0;
  fake.onRequest.push((r) => {
    if (r.watch && ++watchCount === 2) fake.completeRollout('app', 'app');
  });
  await kube.waitForRollout('app', 'app', { timeoutMs: 30_000 });
  const watches = fake.calls().filter((r) => r.watch);
  // Two, or more when a busy machine let the second go silent before its event arrived.
  t.true(watches.length >= 2, `${watches.length} watches`);
  t.is(watches[0].query.get('timeoutSeconds'), '1');
  t.deepEqual(delays, [], 'a watch that lived its full length is re-established at once, without backoff');
});

test('waitForRollout: the timeout names the last state seen, after one GET and one watch', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await kube.apply([deployment()]);
  fake.onRequest.push((r) => {
    if (r.watch) fake.setDeploymentStatus('app', 'app', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 });
  });
  // 10 s leaves a busy machine time to open the watch that brings the state being checked.
  const error = await t.throwsAsync(() => kube.waitForRollout('app', 'app', { timeoutMs: 10_000 }), { instanceOf: KubeError });
  t.regex(error?.shortMessage ?? '', /rollout of app\/app not complete after 10s: 2\/2 updated, 1\/2 available/);
  t.regex(error?.hint ?? '', /describe deployment app/);
  t.is(fake.calls().filter((r) => r.watch).length, 1);
});

test('waitForRollout: a missing Deployment is a 404 KubeError, Ctrl-C is an InterruptedError', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const missing = await t.throwsAsync(() => kube.waitForRollout('app', 'nope', { timeoutMs: 30_000 }), { instanceOf: KubeError });
  t.is(missing?.statusCode, 404);
  await kube.apply([deployment()]);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await t.throwsAsync(() => kube.waitForRollout('app', 'app', { timeoutMs: 30_000, signal: controller.signal }), { instanceOf: InterruptedError });
});

// --- pods, logs, events ----------------------------------------------------------------------

test('listPods: IPs, readiness, labels and node, filtered by label selector', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  fake.put('/api/v1/namespaces/manager/pods/manager-b', pod('manager-b', 'manager', '10.244.0.8', false));
  fake.put('/api/v1/namespaces/manager/pods/manager-a', pod('manager-a', 'manager', '10.244.0.7', true));
  fake.put('/api/v1/namespaces/manager/pods/other', pod('other', 'manager', '10.244.0.9', true, { app: 'other' }));
  const pods = await kube.listPods('manager', 'app=manager');
  t.deepEqual(pods, [
    { name: 'manager-a', namespace: 'manager', ip: '10.244.0.7', ready: true, terminating: false, labels: { app: 'manager' }, node: 'podpath-control-plane' },
    { name: 'manager-b', namespace: 'manager', ip: '10.244.0.8', ready: false, terminating: false, labels: { app: 'manager' }, node: 'podpath-control-plane' },
  ]);
  t.is(fake.calls().at(-1)?.query.get('labelSelector'), 'app=manager');
});

test('listPods: a pod with metadata.deletionTimestamp is terminating even while it still reports Ready', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const going = pod('manager-a', 'manager', '10.244.0.7', true);
  fake.put('/api/v1/namespaces/manager/pods/manager-a', { ...going, metadata: { ...(going.metadata as object), deletionTimestamp: '2026-11-23T10:00:00Z' } });
  fake.put('/api/v1/namespaces/manager/pods/manager-b', pod('manager-b', 'manager', '10.244.0.8', true));
  const pods = await kube.listPods('manager', 'app=manager');
  t.deepEqual(pods.map((p) => [p.name, p.ready, p.terminating]), [['manager-a', true, true], ['manager-b', true, false]]);
});

test('logs: sinceTime is sent as RFC 3339 and only later lines come back; a missing container is a 404', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const t0 = new Date('2026-11-23T10:00:00.000Z');
  fake.logs.set('manager/manager-1/istio-proxy', [
    { time: t0, line: 'old line' },
    { time: new Date(t0.getTime() + 1000), line: '[2026-11-23T10:00:01.000Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.0.12:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.0.8:5701 10.244.0.7:40112 - -' },
  ]);
  const text = await kube.logs(POD, 'istio-proxy', { sinceTime: new Date(t0.getTime() + 500) });
  t.is(text.split('\n').filter(Boolean).length, 1);
  t.regex(text, /UF,URX/);
  const req = fake.calls().at(-1);
  t.is(req?.query.get('sinceTime'), '2026-11-23T10:00:00.500Z');
  t.is(req?.query.get('container'), 'istio-proxy');
  const error = await t.throwsAsync(() => kube.logs(POD, 'agent'), { instanceOf: KubeError });
  t.is(error?.statusCode, 404);
});

test('events: about one object, oldest first, with counts', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const event = (name: string, involved: string, reason: string, message: string, time: string, count = 1, type = 'Normal') => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'app' }, involvedObject: { kind: 'Pod', name: involved, namespace: 'app' }, reason, message, type, count, lastTimestamp: time,
  });
  fake.put('/api/v1/namespaces/app/events/e2', event('e2', 'app-1', 'Unhealthy', 'Readiness probe failed', '2026-11-23T10:00:05Z', 3, 'Warning'));
  fake.put('/api/v1/namespaces/app/events/e1', event('e1', 'app-1', 'Pulled', 'Container image "node:24-alpine" already present', '2026-11-23T10:00:01Z'));
  fake.put('/api/v1/namespaces/app/events/e3', event('e3', 'app-2', 'Pulled', 'other pod', '2026-11-23T10:00:02Z'));
  t.deepEqual(await kube.events('app', 'app-1'), ['Normal Pulled: Container image "node:24-alpine" already present', 'Warning Unhealthy: Readiness probe failed (x3)']);
  t.is(fake.calls().at(-1)?.query.get('fieldSelector'), 'involvedObject.name=app-1');
});

// --- probe through the pod proxy -------------------------------------------------------------

test('probe: POSTs the request to pods/NAME:15999/proxy/probe and returns the agent\'s results (real agent behind the fake proxy)', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  await using agent = await startAgent({ bind: '127.0.0.1', tcpPorts: [0], controlPort: 0, identity: { pod: 'app-1', namespace: 'app' }, allowLocalTargets: true });
  const echoPort = agent.options.tcpPorts[0];
  fake.proxyHandler = async ({ port, path: p, body }) => {
    const res = await fetch(`http://127.0.0.1:${agent.options.controlPort}${p}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    t.is(port, 15999);
    return { status: res.status, body: await res.text() };
  };
  const results = await kube.probe(POD, { target: `127.0.0.1:${echoPort}`, protocol: 'tcp', timeoutMs: 20_000 });
  t.is(results.length, 1);
  t.is(results[0].outcome, 'echoed');
  t.is(results[0].responder?.pod, 'app-1');
  t.regex(results[0].localAddress ?? '', /^127\.0\.0\.1:\d+$/, 'the key that finds the sidecar log line');
  const req = fake.calls().at(-1);
  t.is(req?.path, '/api/v1/namespaces/manager/pods/manager-1:15999/proxy/probe');
  t.deepEqual(JSON.parse(req?.body ?? ''), { target: `127.0.0.1:${echoPort}`, protocol: 'tcp', timeoutMs: 20_000 });
});

test('probe: the proxy\'s 503 and a non-JSON answer are KubeErrors that say what to check', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const unavailable = await t.throwsAsync(() => kube.probe(POD, { target: '10.244.0.8:5701', protocol: 'tcp', timeoutMs: 1000 }), { instanceOf: KubeError });
  t.is(unavailable?.statusCode, 503);
  fake.proxyHandler = async () => ({ status: 200, body: '<html>not the agent</html>' });
  const garbage = await t.throwsAsync(() => kube.probe(POD, { target: '10.244.0.8:5701', protocol: 'tcp', timeoutMs: 1000 }), { instanceOf: KubeError });
  t.regex(garbage?.hint ?? '', /agent running on :15999/);
});

test('probe: a proxy that never answers is a Timeout KubeError after the probe\'s budget; Ctrl-C is an InterruptedError', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  fake.proxyHandler = () => new Promise(() => undefined);
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, probeMarginMs: 100 });
  const error = await t.throwsAsync(() => kube.probe(POD, { target: '10.244.0.8:5701', protocol: 'tcp', timeoutMs: 100 }), { instanceOf: KubeError });
  t.is(error?.reason, 'Timeout');
  t.regex(error?.shortMessage ?? '', /no answer within 0\.2s/);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(() => kube.probe(POD, { target: '10.244.0.8:5701', protocol: 'tcp', timeoutMs: 5000 }, { signal: controller.signal }), { instanceOf: InterruptedError });
});

// --- config dump (websocket exec) and waitForConfig ------------------------------------------

test('configDump: execs pilot-agent request GET config_dump in istio-proxy over the websocket and parses it', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const seen: Array<{ container: string; command: string[]; pod: string }> = [];
  fake.execHandler = ({ container, command, pod: name }) => {
    seen.push({ container, command, pod: name });
    return { stdout: JSON.stringify(adminDump(['0.0.0.0_5701'])), exitCode: 0 };
  };
  t.deepEqual(await kube.configDump(POD), adminDump(['0.0.0.0_5701']));
  t.deepEqual(seen, [{ container: 'istio-proxy', command: ['pilot-agent', 'request', 'GET', 'config_dump?include_eds'], pod: 'manager-1' }]);
  const upgrade = fake.calls().at(-1);
  t.is(upgrade?.path, '/api/v1/namespaces/manager/pods/manager-1/exec');
  t.is(upgrade?.authorization, 'Bearer fake-token', 'the websocket carries the kubeconfig credentials');
});

test('sidecarClusters: execs pilot-agent request GET clusters in istio-proxy and returns its text', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const seen: string[][] = [];
  const text = 'PassthroughCluster::observability_name::PassthroughCluster\nPassthroughCluster::10.244.0.8:8080::cx_active::1\n';
  fake.execHandler = ({ container, command }) => {
    seen.push([container, ...command]);
    return { stdout: text, exitCode: 0 };
  };
  t.is(await kube.sidecarClusters(POD), text);
  t.deepEqual(seen, [['istio-proxy', 'pilot-agent', 'request', 'GET', 'clusters']]);
});

test('configDump: a failing command is a KubeError carrying its stderr', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  fake.execHandler = () => ({ stdout: '', stderr: 'container not found ("istio-proxy")', exitCode: 1 });
  const error = await t.throwsAsync(() => kube.configDump(POD), { instanceOf: KubeError });
  t.regex(error?.shortMessage ?? '', /non-zero exit code: 1 \(container not found/);
});

test('configDump: a refused exec upgrade (403) is a KubeError naming RBAC', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  fake.fail({ method: 'EXEC', path: '/exec', status: 403, reason: 'Forbidden' });
  const error = await t.throwsAsync(() => kube.configDump(POD), { instanceOf: KubeError });
  t.is(error?.statusCode, 403);
  t.regex(error?.hint ?? '', /RBAC/);
});

test('waitForConfig: polls until the predicate holds, one config dump per backoff step', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  let calls = 0;
  fake.execHandler = () => ({ stdout: JSON.stringify(adminDump(++calls >= 4 ? ['0.0.0.0_5701'] : ['10.96.0.10_5701'])), exitCode: 0 });
  await kube.waitForConfig(POD, convergedOn({ listeners: ['0.0.0.0_5701'] }), { timeoutMs: 30_000 });
  t.is(calls, 4, 'stops at the first dump that satisfies it');
});

test('waitForConfig: the timeout says the last state, and the number of dumps is bounded by the backoff schedule', async (t) => {
  const { fake } = await setup();
  await using _ = fake;
  let calls = 0;
  fake.execHandler = () => (calls++, { stdout: JSON.stringify(adminDump(['0.0.0.0_5701'])), exitCode: 0 });
  // Virtual time: 1 s is exactly 10+20+40+80, eight waits of 100 and a last one of 50 cut by the deadline, however slow each dump is.
  const { delays, clock } = recordingClock(true);
  const waiting = KubeClient.fromKubeconfig({ kubeconfigPath: await fake.writeKubeconfig(), backoff: FAST, clock });
  const error = await t.throwsAsync(() => waiting.waitForConfig(POD, convergedOn({ absentListeners: ['0.0.0.0_5701'] }), { timeoutMs: 1000 }), { instanceOf: KubeError });
  t.deepEqual(delays, [10, 20, 40, 80, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
  t.is(calls, 14, 'one dump, then one after each wait, the last at the deadline');
  t.regex(error?.shortMessage ?? '', /did not converge in 1s \(14 config dumps\); last state: waiting: listener 0\.0\.0\.0_5701 present/);
});

test('waitForConfig: a transport can be injected (e.g. istioctl) and gets the same command', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const commands: string[][] = [];
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, execTransport: async (_pod, container, command) => (commands.push([container, ...command]), JSON.stringify(adminDump([]))) });
  await kube.waitForConfig(POD, convergedOn({ absentListeners: ['0.0.0.0_5701'] }), { timeoutMs: 30_000 });
  t.deepEqual(commands, [['istio-proxy', 'pilot-agent', 'request', 'GET', 'config_dump?include_eds']]);
});

// --- lease -----------------------------------------------------------------------------------

test('acquireLease: a second holder waits, then fails naming the first; after release it gets the lease', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const first = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  const lease = fake.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed') as { spec: { holderIdentity: string; renewTime: string } };
  t.is(lease.spec.holderIdentity, 'run-A');
  t.regex(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime as the API server expects');
  const error = await t.throwsAsync(() => kube.acquireLease('podpath-bed', 'run-B', { waitMs: 200 }), { instanceOf: KubeError });
  t.regex(error?.shortMessage ?? '', /held by run-A/);
  t.regex(error?.hint ?? '', /kubectl -n kube-system delete lease podpath-bed/);
  await first[Symbol.asyncDispose]();
  t.is(fake.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed'), undefined, 'released');
  const second = await kube.acquireLease('podpath-bed', 'run-B', { waitMs: 200 });
  await second[Symbol.asyncDispose]();
});

test('acquireLease: waiting ends as soon as the holder releases; an expired lease is taken over', async (t) => {
  const { fake, kube } = await setup();
  await using _ = fake;
  const first = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  setTimeout(() => void first[Symbol.asyncDispose](), 100);
  const second = await kube.acquireLease('podpath-bed', 'run-B', { waitMs: 30_000 });
  t.is((fake.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed') as { spec: { holderIdentity: string } }).spec.holderIdentity, 'run-B');
  await second[Symbol.asyncDispose]();
  fake.put('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/stale', {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'stale', namespace: 'kube-system' },
    spec: { holderIdentity: 'crashed-run', leaseDurationSeconds: 120, renewTime: '2026-01-01T00:00:00.000000Z' },
  });
  const taken = await kube.acquireLease('stale', 'run-C', { waitMs: 100 });
  t.is((fake.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/stale') as { spec: { holderIdentity: string } }).spec.holderIdentity, 'run-C');
  await taken[Symbol.asyncDispose]();
});

test('acquireLease: the holder renews the lease while it holds it, and stops once released', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, leaseSeconds: 1 });
  const LEASE = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed';
  const renewals: string[] = [];
  let release: (() => void) | null = null;
  const renewedTwice = new Promise<void>((resolve) => (release = resolve));
  fake.onRequest.push((r) => {
    if (r.method === 'PUT' && r.path === LEASE) {
      renewals.push((JSON.parse(r.body) as { spec: { renewTime: string } }).spec.renewTime);
      if (renewals.length === 2) release?.();
    }
  });
  const lease = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  await renewedTwice;
  await lease[Symbol.asyncDispose]();
  // A busy machine may fit one more renewal in before the release; none may come after it.
  const atRelease = renewals.length;
  t.true(atRelease >= 2, `${atRelease} renewals`);
  t.true(renewals[1] > renewals[0], 'renewTime moves forward');
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.is(renewals.length, atRelease, 'no renewal after the release');
  t.is(fake.get(LEASE), undefined, 'the release used the renewed resourceVersion');
});

function lostReason(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

test('acquireLease: a takeover (409 on renewal, another holder) aborts lost, and the release leaves the new holder\'s lease alone', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, leaseSeconds: 1 });
  const LEASE = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed';
  const lease = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  t.false(lease.lost.aborted);
  // Another run takes it (e.g. it judged ours expired): our next renewal meets a new resourceVersion.
  const current = fake.get(LEASE) as { spec: Record<string, unknown> };
  fake.put(LEASE, { ...current, spec: { ...current.spec, holderIdentity: 'run-B' } });
  const reason = await lostReason(lease.lost);
  t.true(reason instanceof KubeError);
  t.is((reason as KubeError).reason, 'LeaseLost');
  t.regex((reason as KubeError).shortMessage, /^lost the lease kube-system\/podpath-bed: taken over by run-B \(409 Conflict on renewal\)$/);
  t.is((reason as KubeError).exitCode, 2);
  const puts = fake.requests.filter((r) => r.method === 'PUT').length;
  await lease[Symbol.asyncDispose]();
  t.is((fake.get(LEASE) as { spec: { holderIdentity: string } } | undefined)?.spec.holderIdentity, 'run-B', 'never deletes a lease that is someone else\'s');
  t.is(fake.requests.filter((r) => r.method === 'PUT').length, puts, 'renewals stopped once it was lost');
});

test('acquireLease: renewals that keep failing abort lost before the lease can expire; a deleted lease is lost at once', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, backoff: FAST, leaseSeconds: 1 });
  const LEASE = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed';
  const lease = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  const before = fake.requests.filter((r) => r.method === 'PUT').length;
  fake.fail({ method: 'PUT', path: LEASE, status: 503, reason: 'ServiceUnavailable', times: 1000 });
  const reason = (await lostReason(lease.lost)) as KubeError;
  t.regex(reason.shortMessage, /^lost the lease kube-system\/podpath-bed: no renewal succeeded for \S+ of its 1s/);
  const failed = fake.requests.filter((r) => r.method === 'PUT').length - before;
  t.true(failed >= 1 && failed <= 3, `given up before the next renewal would come after expiry (${failed} failed renewals, one every third of the lease)`);
  fake.faults.length = 0;
  await lease[Symbol.asyncDispose]();

  const again = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  fake.remove(LEASE);
  t.regex(((await lostReason(again.lost)) as KubeError).shortMessage, /it was deleted by someone else/);
  await again[Symbol.asyncDispose]();
});

// --- dry run ---------------------------------------------------------------------------------

test('dry run: every call is recorded as METHOD path (summary) and the API server receives nothing', async (t) => {
  const { fake, kubeconfig } = await setup();
  await using _ = fake;
  const plan = new Plan();
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: kubeconfig, plan });
  const docs = await baselineDocuments();
  await kube.apply(docs);
  await kube.waitForRollout('manager', 'manager', { timeoutMs: 60_000 });
  t.deepEqual(await kube.listPods('manager'), []);
  t.deepEqual(await kube.probe(POD, { target: '10.244.0.8:5701', protocol: 'tcp', timeoutMs: 3000 }), []);
  await kube.waitForConfig(POD, () => ({ ok: false, state: 'never' }), { timeoutMs: 30_000 });
  await kube.logs(POD, 'istio-proxy', { sinceTime: new Date('2026-11-23T10:00:00Z') });
  await kube.events('manager', 'manager-1');
  const lease = await kube.acquireLease('podpath-bed', 'run-A', { waitMs: 1000 });
  await lease[Symbol.asyncDispose]();
  await kube.delete(await extraDocuments('app-ext-externalname'), { wait: true });
  t.deepEqual(fake.requests, [], 'no request reached the server');
  const lines = plan.steps.map((s) => `${s.kind} ${s.text}`);
  t.is(lines[0], 'api PATCH /api/v1/namespaces/manager?fieldManager=podpath&force=true (server-side apply Namespace/manager)');
  t.true(lines.includes('api PATCH /apis/apps/v1/namespaces/manager/deployments/manager?fieldManager=podpath&force=true (server-side apply Deployment/manager/manager)'));
  t.true(lines.includes('api WATCH /apis/apps/v1/namespaces/manager/deployments?fieldSelector=metadata.name%3Dmanager (until manager/manager is rolled out, up to 60s)'));
  t.true(lines.includes('api POST /api/v1/namespaces/manager/pods/manager-1:15999/proxy/probe (probe tcp 10.244.0.8:5701 from manager/manager-1)'));
  t.true(lines.some((l) => /^api GET \/api\/v1\/namespaces\/manager\/pods\/manager-1\/exec\?container=istio-proxy.*command=pilot-agent&command=request&command=GET&command=config_dump%3Finclude_eds/.test(l)));
  t.true(lines.includes('api GET /api/v1/namespaces/manager/pods/manager-1/log?container=istio-proxy&sinceTime=2026-11-23T10%3A00%3A00.000Z (logs of manager/manager-1 container istio-proxy)'));
  t.true(lines.includes('api DELETE /api/v1/namespaces/app/services/app-ext (delete Service/app/app-ext, propagation Background)'));
  t.true(lines.includes('wait until GET /api/v1/namespaces/app/services/app-ext is 404 (backoff from 100 ms)'));
  for (const step of plan.steps.filter((s) => s.kind === 'api')) t.regex(step.text, /^(GET|PATCH|POST|DELETE|WATCH) \/\S+ \(.+\)$/);
});

test('dry run works without any kubeconfig (the cluster may not exist yet)', (t) => {
  const plan = new Plan();
  const kube = KubeClient.fromKubeconfig({ kubeconfigPath: path.join(tmpdir(), 'podpath-no-such-kubeconfig'), context: 'kind-podpath', plan });
  t.is(kube.currentContext(), 'kind-podpath');
});
