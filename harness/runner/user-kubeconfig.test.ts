/**
 * The user's kubeconfig is not podpath's: after up, a run on the bed (--reuse, with extras applied
 * and removed) and down, a $KUBECONFIG with another current context is byte-identical. Through the
 * seams: a recording exec that behaves like kind (it merges into $KUBECONFIG and switches the
 * current context unless given --kubeconfig, as kubernetes-sigs/kind pkg/cluster/internal/kubeconfig
 * does), the fake API server for every API call, and the real KubeClient loading files.
 */
import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { down, up, type BedDeps } from '../cluster/index.ts';
import { ScriptedExec, type RecordedCall } from '../cluster/testing/doubles.ts';
import { FakeApiServer } from '../kube/testing/fake-api-server.ts';
import type { KubeDocument } from '../kube/index.ts';
import { openLiveBed } from './suite.ts';

const USER_KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  '# the user\'s own file: comments, order and spacing must survive too',
  'current-context: work',
  'clusters:',
  // Loopback port 1: if anything used this file, the connection would be refused, never sent elsewhere.
  '- name: work',
  '  cluster:',
  '    server: https://127.0.0.1:1',
  'contexts:',
  '- name: work',
  '  context: {cluster: work, user: me, namespace: payments}',
  'users:',
  '- name: me',
  '  user: {token: not-a-real-token}',
  '',
].join('\n');

type Config = { 'current-context'?: string; clusters?: Array<{ name: string }>; contexts?: Array<{ name: string }>; users?: Array<{ name: string }> };

/** What kind writes for a cluster: one cluster, user and context named kind-NAME, made current. */
function kindEntry(name: string, server: string): Config {
  return {
    clusters: [{ name: `kind-${name}`, cluster: { server, 'insecure-skip-tls-verify': true } } as { name: string }],
    users: [{ name: `kind-${name}`, user: { token: 'fake-token' } } as { name: string }],
    contexts: [{ name: `kind-${name}`, context: { cluster: `kind-${name}`, user: `kind-${name}` } } as { name: string }],
    'current-context': `kind-${name}`,
  };
}

async function readConfig(path: string): Promise<Config> {
  try {
    return (parse(await readFile(path, 'utf8')) as Config | null) ?? {};
  } catch {
    return {};
  }
}

/** kind's kubeconfig rules: --kubeconfig FILE is the only file used; without it, $KUBECONFIG is merged into and switched. */
function fakeKind(fake: FakeApiServer, clusters: Set<string>, userFile: string) {
  const target = (call: RecordedCall) => {
    const at = call.args.indexOf('--kubeconfig');
    return at >= 0 ? call.args[at + 1] : userFile;
  };
  const name = (call: RecordedCall) => call.args[call.args.indexOf('--name') + 1];
  return {
    async merge(call: RecordedCall): Promise<{ stdout: string }> {
      const path = target(call);
      const existing = await readConfig(path);
      const entry = kindEntry(name(call), fake.url);
      const without = <T extends { name: string }>(list: T[] | undefined, key: string) => (list ?? []).filter((x) => x.name !== key);
      const key = `kind-${name(call)}`;
      const merged = {
        apiVersion: 'v1', kind: 'Config',
        clusters: [...without(existing.clusters, key), ...(entry.clusters ?? [])],
        users: [...without(existing.users, key), ...(entry.users ?? [])],
        contexts: [...without(existing.contexts, key), ...(entry.contexts ?? [])],
        'current-context': entry['current-context'],
      };
      await writeFile(path, stringify(merged), { mode: 0o600 });
      return { stdout: '' };
    },
    async create(call: RecordedCall): Promise<{ stdout: string }> {
      clusters.add(name(call));
      return await this.merge(call);
    },
    async remove(call: RecordedCall): Promise<{ stdout: string }> {
      clusters.delete(name(call));
      const path = target(call);
      const existing = await readConfig(path);
      const key = `kind-${name(call)}`;
      if (!existing.clusters?.some((c) => c.name === key)) return { stdout: '' };
      const next = {
        ...existing,
        clusters: existing.clusters.filter((c) => c.name !== key),
        users: (existing.users ?? []).filter((c) => c.name !== key),
        contexts: (existing.contexts ?? []).filter((c) => c.name !== key),
        'current-context': existing['current-context'] === key ? '' : existing['current-context'],
      };
      await writeFile(path, stringify(next));
      return { stdout: '' };
    },
  };
}

function rolledOut(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, generation: 1, labels: { app: name } }, spec,
    // Far ahead of any generation an apply makes here: the rollout reads as done without a controller.
    status: { observedGeneration: 1000, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  };
}

const MANAGER_SPEC = { replicas: 1, selector: { matchLabels: { app: 'manager' } }, template: { metadata: { labels: { app: 'manager' } }, spec: { containers: [{ name: 'agent', image: 'node:24-alpine' }] } } };
const BASELINE = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'manager' } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'manager', namespace: 'manager' }, spec: MANAGER_SPEC },
] as KubeDocument[];

test('up, a run on the bed (--reuse, extras applied and removed) and down leave $KUBECONFIG byte-identical', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-user-kubeconfig-'));
  const fake = await FakeApiServer.start();
  t.teardown(async () => {
    await fake[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  });
  const userFile = join(dir, 'user-kubeconfig');
  await writeFile(userFile, USER_KUBECONFIG, { mode: 0o600 });
  const before = await readFile(userFile);
  // Where kind, kubectl and client-node's loadFromDefault would look; openLiveBed takes the cache from here too.
  process.env.KUBECONFIG = userFile;
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  const own = join(dir, 'cache', 'podpath', 'clusters', 'podpath', 'kubeconfig');

  t.timeout(20_000);
  const clusters = new Set<string>();
  const kind = fakeKind(fake, clusters, userFile);
  const exec = new ScriptedExec()
    .on('docker info', { stdout: '28.1.0|/var/lib/docker|linux|x86_64\n' })
    .on('/fake/kind get clusters', () => ({ stdout: clusters.size ? `${[...clusters].join('\n')}\n` : 'No kind clusters found.\n' }))
    .on('/fake/kind create cluster', (call) => kind.create(call))
    .on('/fake/kind export kubeconfig', (call) => kind.merge(call))
    .on('/fake/kind delete cluster', (call) => kind.remove(call));
  fake.put('/apis/apps/v1/namespaces/istio-system/deployments/istiod', rolledOut('istio-system', 'istiod', { replicas: 1 }));
  fake.put('/apis/apps/v1/namespaces/manager/deployments/manager', rolledOut('manager', 'manager', MANAGER_SPEC));

  // Everything real except the tools, the baseline and the disk checks: the default kube() loads the private kubeconfig.
  const deps: Partial<BedDeps> = {
    exec,
    plan: null,
    ensureKind: async (version) => ({ tool: 'kind', version, path: '/fake/kind', origin: 'cache' }),
    ensureIstioctl: async (version) => ({ tool: 'istioctl', version, path: '/fake/istioctl', origin: 'cache' }),
    preflight: async () => ({ target: { os: 'linux', arch: 'amd64' }, dockerVersion: '28.1.0', dockerPlatform: 'linux/amd64', notes: [] }),
    baseline: async () => structuredClone(BASELINE),
    holder: 'test-run',
  };

  // up
  const bed = await up({ name: 'podpath', istio: '1.30', logEncoding: 'text', reuse: false, keep: false, dryRun: false, preload: false }, deps);
  await bed.lease.release();
  t.true(bed.created);
  t.is(bed.kubeconfig, own);
  t.deepEqual(parse(await readFile(own, 'utf8'))['current-context'], 'kind-podpath', 'kind wrote the bed into podpath\'s own file');
  t.true(fake.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/kube-system/configmaps/podpath-cluster'), 'the marker went through the private kubeconfig to the bed');

  // a run on the bed: attach (--reuse: marker read, lease taken), apply and remove an extra, dispose
  t.is(bed.marker.nodeImage, bed.istio.kindNodeImage, 'up() marks the cluster with the node image it created it with');
  // A cluster created by an earlier podpath, with another kind and node than today's table picks: the report must say what it runs.
  const markerPath = '/api/v1/namespaces/kube-system/configmaps/podpath-cluster';
  const markerObject = fake.get(markerPath) as { data: Record<string, string> };
  const older = `kindest/node:v1.31.4@sha256:${'b'.repeat(64)}`;
  fake.put(markerPath, { ...markerObject, data: { ...markerObject.data, kind: 'v0.26.0', nodeImage: older } });
  // A STRICT mesh-wide policy left on the bed (say, by an interrupted scenario): the report must say the bed ran STRICT.
  fake.put('/apis/security.istio.io/v1beta1/namespaces/istio-system/peerauthentications/default', {
    apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system', creationTimestamp: '2026-11-23T10:00:00Z' }, spec: { mtls: { mode: 'STRICT' } },
  });
  const live = await openLiveBed({ name: 'podpath', istio: '1.30', pilotEnv: {}, logEncoding: 'text', connectTimeout: '1s', reuse: true, keep: false, plan: null }, deps);
  t.deepEqual(live.mtls, { mode: 'STRICT', policy: 'istio-system/default' });
  t.is(live.kind, 'v0.26.0');
  t.is(live.nodeImage, older);
  t.is(live.kubernetes, '1.31.4', 'the Kubernetes of the node it runs, not of the table\'s default image');
  await live.apply('app-ext-externalname');
  t.truthy(fake.get('/api/v1/namespaces/app/services/app-ext'));
  await live.remove('app-ext-externalname');
  await live[Symbol.asyncDispose]();
  t.is(fake.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/podpath-bed'), undefined, 'the run gave its lease back');

  // down
  const result = await down({ name: 'podpath', dryRun: false }, deps);
  t.true(result.deleted);
  await t.throwsAsync(stat(own), undefined, 'down removes the private kubeconfig');

  t.deepEqual(await readFile(userFile), before, 'the user\'s kubeconfig is byte-identical');
  const touching = exec.calls.filter((c) => /^\/fake\/(kind|istioctl)$/.test(c.file) && !['get', 'load'].includes(c.args[0] ?? ''));
  t.true(touching.length >= 4);
  for (const call of touching) t.is(call.args[call.args.indexOf('--kubeconfig') + 1], own, call.line);
});
