import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeStatusCommand } from './status.ts';
import { makeDownCommand } from './down.ts';
import type { Command } from '../command.ts';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { DryRunExec, Plan } from '../../exec/index.ts';
import { FakeKube, ScriptedExec } from '../../cluster/testing/doubles.ts';
import type { BedDeps } from '../../cluster/index.ts';

/** Runs a command with its cache in a fresh temporary directory (removed afterwards). */
async function runCommand(command: Command, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const options = Object.fromEntries(Object.entries(command.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]));
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: command.allowPositionals, strict: true });
  const cache = await mkdtemp(join(tmpdir(), 'podpath-status-'));
  const cap = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: cache, ...env } });
  try {
    const code = await command.run({ values, positionals, io: cap.io, signal: new AbortController().signal });
    return { code, stdout: cap.stdout, stderr: cap.stderr, cacheEntries: await readdir(cache) };
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}


const MARKER: Record<string, string> = { name: 'podpath', istio: '1.30.5', revision: '', kind: 'v0.32.0', nodeImage: 'kindest/node:v1.36.1@sha256:3489', logEncoding: 'text', connectTimeout: '1s', pilotEnv: '{}', createdAt: '2026-11-23T09:00:00Z', podpath: '0.1.0' };

const MARKER_AT = 'kube-system/podpath-cluster';

function live(setup: (exec: ScriptedExec, kube: FakeKube) => void): { exec: ScriptedExec; kube: FakeKube; overrides: Partial<BedDeps> } {
  const exec = new ScriptedExec();
  const kube = new FakeKube('kind-podpath');
  setup(exec, kube);
  const overrides: Partial<BedDeps> = {
    exec,
    plan: null,
    kube: async () => kube,
    ensureKind: async (version) => ({ tool: 'kind', version, path: 'kind', origin: 'path' }),
  };
  return { exec, kube, overrides };
}

const pod = (name: string, namespace: string, ready = true) => ({ name, namespace, ip: '10.244.0.7', ready, terminating: false, labels: {}, node: null });

test('status: human table with Istio version source, mesh settings and per-namespace readiness', async (t) => {
  const w = live((exec, kube) => {
    exec.on('kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER_AT, MARKER);
    kube.images = ['docker.io/istio/pilot:1.30.5'];
  });
  w.kube.pods = [pod('istiod-x', 'istio-system'), pod('manager-a', 'manager'), pod('manager-b', 'manager', false), pod('app-a', 'app'), pod('idle-a', 'idle')];
  const result = await runCommand(makeStatusCommand(w.overrides), []);
  t.is(result.code, 0);
  t.regex(result.stdout, /^cluster    podpath \(context kind-podpath\), created by podpath$/m);
  t.regex(result.stdout, /^istio      1\.30\.5 \(from the istiod image\)$/m);
  t.regex(result.stdout, /^kubeconfig \/\S+\/podpath\/clusters\/podpath\/kubeconfig  \(podpath's own; yours is untouched: export KUBECONFIG=\$\(podpath kubeconfig\) to use kubectl on it\)$/m);
  t.regex(result.stdout, /^mesh       access log TEXT, connectTimeout 1s$/m);
  t.regex(result.stdout, /^  manager       1\/2 ready  manager-a 10\.244\.0\.7, manager-b \(not ready\)/m);
  t.regex(result.stdout, /^ready      no$/m);
});

test('status --json is the ClusterStatus object', async (t) => {
  const w = live((exec, kube) => {
    exec.on('kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER_AT, MARKER);
  });
  w.kube.pods = ['istio-system', 'manager', 'app', 'idle'].map((ns) => pod(`${ns}-1`, ns));
  const result = await runCommand(makeStatusCommand(w.overrides), ['--json']);
  const json = JSON.parse(result.stdout) as { name: string; exists: boolean; podpath: boolean; ready: boolean; istio: { version: string; source: string }; workloads: unknown[] };
  t.is(json.name, 'podpath');
  t.true(json.exists && json.podpath && json.ready);
  t.deepEqual(json.istio, { version: '1.30.5', source: 'marker' }, 'no istiod image seen: falls back to the marker, and says so');
  t.is(json.workloads.length, 4);
});

test('status of a missing cluster says how to create it', async (t) => {
  const w = live((exec) => exec.on('kind get clusters', { stdout: 'No kind clusters found.\n' }));
  const result = await runCommand(makeStatusCommand(w.overrides), ['--name', 'other']);
  t.regex(result.stdout, /other: no such kind cluster \(create it with 'podpath up --name other'\)/);
});

test('status --dry-run lists the read-only commands and API calls', async (t) => {
  const plan = new Plan();
  const overrides: Partial<BedDeps> = {
    exec: new DryRunExec(plan),
    plan,
    kube: async () => new FakeKube('kind-podpath', plan),
    ensureKind: async (version) => ({ tool: 'kind', version, path: 'kind', origin: 'planned' }),
  };
  const result = await runCommand(makeStatusCommand(overrides), ['--dry-run']);
  t.regex(result.stdout, /\[exec\] docker info .*\[exec\] kind get clusters\n.*\[exec\] kind export kubeconfig --name podpath --kubeconfig \S+\/clusters\/podpath\/kubeconfig\n.*\[api\] get ConfigMap\/kube-system\/podpath-cluster/s);
  t.regex(result.stdout, /\[api\] list pods idle/);
  t.notRegex(result.stdout, /apply|delete|create/);
});

test('down deletes a podpath cluster and refuses an unmarked one with exit 2', async (t) => {
  const ours = live((exec, kube) => {
    exec.on('kind get clusters', { stdout: 'podpath\n' });
    kube.configMaps.set(MARKER_AT, MARKER);
  });
  const deleted = await runCommand(makeDownCommand(ours.overrides), []);
  t.is(deleted.stdout, "deleted kind cluster 'podpath'\n");
  t.regex(ours.exec.lines().at(-1) ?? '', /^kind delete cluster --name podpath --kubeconfig \/\S+\/clusters\/podpath\/kubeconfig$/);

  const theirs = live((exec) => {
    exec.on('kind get clusters', { stdout: 'podpath\n' });
  });
  await t.throwsAsync(runCommand(makeDownCommand(theirs.overrides), []), { message: /refusing to delete kind cluster 'podpath'/ });
});

test('down --dry-run prints the delete without running it', async (t) => {
  const plan = new Plan();
  const overrides: Partial<BedDeps> = { exec: new DryRunExec(plan), plan, ensureKind: async (version) => ({ tool: 'kind', version, path: 'kind', origin: 'planned' }) };
  const result = await runCommand(makeDownCommand(overrides), ['--dry-run', '--name', 'podpath']);
  t.regex(result.stdout, /\[exec\] kind delete cluster --name podpath --kubeconfig \S+\/clusters\/podpath\/kubeconfig/);
});

test('down with an invalid name is exit 2 through main()', async (t) => {
  const cap = captureIo();
  t.is(await main(['down', '--name', '../etc'], cap.io), 2);
  t.regex(cap.stderr, /not a valid cluster name/);
});

test('status and down without Docker: exit 2, the message names Docker (not the network), nothing is created in the cache', async (t) => {
  for (const make of [makeStatusCommand, makeDownCommand]) {
    const exec = new ScriptedExec().on('docker info', 'missing');
    const cache = await mkdtemp(join(tmpdir(), 'podpath-nodocker-'));
    try {
      // The real tool resolution and cache: without the Docker check first it would try to download kind.
      const command = make({ exec, plan: null });
      const cap = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: cache } });
      const error = await t.throwsAsync(command.run({ values: {}, positionals: [], io: cap.io, signal: new AbortController().signal }));
      t.is((error as { exitCode?: number }).exitCode, 2);
      t.regex(error.message, /Docker is not installed/);
      t.notRegex(error.message, /network|download/i);
      t.deepEqual(exec.lines(), [`docker info --format '{{.ServerVersion}}|{{.DockerRootDir}}|{{.OSType}}|{{.Architecture}}'`], 'nothing else ran');
      t.deepEqual(await readdir(cache), [], 'nothing created in the cache');
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  }
});
