/**
 * The live bed: a kind cluster with Istio and the podpath workloads. `up` is preflight → tools →
 * cluster (from a generated kind config, marked as podpath's) → image preload → istioctl install
 * (generated IstioOperator) → baseline workloads → rollouts. Every side effect goes through an
 * Exec, the KubeApi (a KubeClient live) or writeFile, so a dry run records the whole plan and touches nothing.
 * Each cluster has its own kubeconfig in the podpath cache: every kind and istioctl call that
 * reads or writes a kubeconfig names it, and KubeClient loads it, so the user's kubeconfig
 * is never read for the bed, merged into, or left with another current context.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { HeldLease, KubeApi, KubeDocument } from '../kube/index.ts';
import { EnvironmentError, InterruptedError, PodpathError, UsageError } from '../errors/index.ts';
// The error class alone, not the client: the kube module loads lazily to keep start-up light.
import { KubeError } from '../kube/errors.ts';
import { DryRunExec, Plan, type Exec } from '../exec/index.ts';
import { ExecaExec } from '../exec/index.ts';
import { assertSafeClusterName, cacheRoot, clusterDir } from './assets.ts';
import {
  checkDuration,
  contextFor,
  controlPlaneContainer,
  istioOperatorYaml,
  istioVersionFromImage,
  kindClusterConfig,
  markerConfigMap,
  parseMarkerData,
  revisionFor,
  MARKER_NAME,
  MARKER_NAMESPACE,
  type ClusterMarker,
  type KubeDoc,
} from './config.ts';
import { writeFileAtomic } from './download.ts';
import { checkDocker, preflight, type PreflightResult } from './preflight.ts';
import { ensureIstioctl, ensureKind, type ResolvedTool } from './tools.ts';
import { DEFAULT_KIND_VERSION, preloadImages, resolveIstio, type IstioRelease } from './versions.ts';
import { AGENT_CONFIGMAP } from '../../manifests/topology.ts';

export interface BedOptions {
  name: string;
  istio: string;
  k8s?: string;
  logEncoding: 'text' | 'json';
  pilotEnv?: Record<string, string>;
  connectTimeout?: string;
  reuse: boolean;
  keep: boolean;
  allowContext?: string;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (phase: string, detail: string) => void;
  /** Pull and `kind load` the workload and Istio images (default true). A failure is a warning, never fatal. */
  preload?: boolean;
  /** Told each warning as it happens (bed.warnings has them all at the end). */
  onWarning?: (text: string) => void;
}

/** The bed's Lease, held from bring-up until the bed is disposed (or released by `podpath up`). */
export interface BedLease {
  /** Aborts (reason: a KubeError 'LeaseLost') when another run took the lease or it could not be renewed. */
  readonly lost: AbortSignal;
  /** Give the lease back; later calls do nothing. */
  release(): Promise<void>;
}

export interface Bed extends AsyncDisposable {
  name: string;
  context: string;
  /** The cluster's own kubeconfig (in the podpath cache), never the user's. */
  kubeconfig: string;
  lease: BedLease;
  istio: IstioRelease;
  kube: KubeApi;
  plan: Plan | null;
  /** ms per phase of the bring-up */
  timings: Record<string, number>;
  /** Whether this invocation created the kind cluster (then disposing deletes it unless keep). */
  created: boolean;
  /** What the cluster's marker says (istio version, connectTimeout, pilot env...): reports cite it. */
  marker: ClusterMarker;
  /** Generated files, path → content (also written to disk unless dry run). */
  files: Map<string, string>;
  /** Facts the user should see: unverified versions, unmeasurable disk... */
  warnings: string[];
}

/** Everything `up`/`down`/`status` touch the world through. Tests replace any of it. */
export interface BedDeps {
  exec: Exec;
  plan: Plan | null;
  env: NodeJS.ProcessEnv;
  /** A client for `context` loaded from `kubeconfig` (the cluster's own file, never $KUBECONFIG). */
  kube(context: string, kubeconfig: string): Promise<KubeApi>;
  /** `docker info` answers, else an EnvironmentError saying Docker is missing or not running. */
  checkDocker(): Promise<void>;
  baseline(): Promise<KubeDocument[]>;
  ensureKind(version: string): Promise<ResolvedTool>;
  ensureIstioctl(version: string): Promise<ResolvedTool>;
  preflight(): Promise<PreflightResult>;
  writeFile(path: string, content: string): Promise<void>;
  /** A new empty directory under parent (created if missing), for short-lived files such as image archives. */
  makeTempDir(parent: string, prefix: string): Promise<string>;
  /** Remove a file or directory tree; absent is fine. */
  remove(path: string): Promise<void>;
  workDir(name: string): string;
  now(): number;
  holder: string;
}

export interface DepsOptions {
  dryRun: boolean;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  progress?: Writable;
  isTTY?: boolean;
}

/** The live (or dry-run) wiring. The kube layer is imported lazily so this module loads without it. */
/** ` shipping a, b` for the agent ConfigMap's keys, so a plan says which files the pods will run. */
function agentKeys(docs: readonly KubeDocument[]): string {
  const data = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === AGENT_CONFIGMAP)?.data;
  const keys = typeof data === 'object' && data !== null ? Object.keys(data) : [];
  return keys.length ? ` shipping ${keys.join(', ')}` : '';
}

export function defaultDeps(options: DepsOptions, overrides: Partial<BedDeps> = {}): BedDeps {
  const env = options.env ?? process.env;
  const plan = overrides.plan !== undefined ? overrides.plan : options.dryRun ? new Plan() : null;
  const exec = overrides.exec ?? (plan ? new DryRunExec(plan) : new ExecaExec());
  const toolOptions = { exec, env, signal: options.signal, plan, progress: options.progress, isTTY: options.isTTY };
  const root = cacheRoot(env);
  return {
    exec,
    plan,
    env,
    async kube(context, kubeconfig) {
      const kube = await import('../kube/index.ts');
      return kube.KubeClient.fromKubeconfig(plan ? { context, kubeconfigPath: kubeconfig, plan } : { context, kubeconfigPath: kubeconfig });
    },
    async checkDocker() {
      await checkDocker({ exec, signal: options.signal });
    },
    async baseline() {
      const manifests = await import('../manifests/index.ts');
      return await manifests.baselineDocuments();
    },
    ensureKind: (version) => ensureKind(version, toolOptions),
    ensureIstioctl: (version) => ensureIstioctl(version, toolOptions),
    preflight: () => preflight({ exec, cacheDir: root, signal: options.signal, plan }),
    async writeFile(path, content) {
      if (plan) plan.add('file', `write ${path} (${Buffer.byteLength(content)} bytes)`);
      else await writeFileAtomic(path, content);
    },
    async makeTempDir(parent, prefix) {
      if (plan) {
        const path = join(parent, `${prefix}XXXXXX`);
        plan.add('file', `create temporary directory ${path}`);
        return path;
      }
      await mkdir(parent, { recursive: true });
      return await mkdtemp(join(parent, prefix));
    },
    async remove(path) {
      if (plan) plan.add('file', `remove ${path}`);
      else await rm(path, { recursive: true, force: true });
    },
    workDir: (name) => clusterDir(root, name),
    now: () => performance.now(),
    holder: `${hostname()}-${process.pid}`,
    ...overrides,
  };
}

const PODPATH_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const ROLLOUT_TIMEOUT_MS = 5 * 60_000;
const LEASE_NAME = 'podpath-bed';

function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) throw new InterruptedError(`interrupted during ${where}`);
}

/** The cluster's private kubeconfig: the only one any kind, istioctl or API call of podpath uses. */
export function kubeconfigFor(deps: Pick<BedDeps, 'workDir'>, name: string): string {
  return join(deps.workDir(name), 'kubeconfig');
}

/** kind create/delete/export take --kubeconfig; without it they merge into $KUBECONFIG and switch its current-context (kubernetes-sigs/kind pkg/cluster/internal/kubeconfig). */
export function kindCreateArgs(name: string, configPath: string, kubeconfig: string): string[] {
  return ['create', 'cluster', '--name', name, '--config', configPath, '--kubeconfig', kubeconfig, '--wait', '120s'];
}

export function kindDeleteArgs(name: string, kubeconfig: string): string[] {
  return ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfig];
}

export function kindExportArgs(name: string, kubeconfig: string): string[] {
  return ['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfig];
}

/** istioctl's global -c/--kubeconfig and --context (istio/istio istioctl/pkg/cli/context.go). */
export function istioctlInstallArgs(operatorPath: string, kubeconfig: string, context: string): string[] {
  return ['install', '-y', '-f', operatorPath, '--kubeconfig', kubeconfig, '--context', context];
}

/** kind refuses a name whose nodes exist (kubernetes-sigs/kind pkg/cluster/internal/create/create.go alreadyExists). */
function alreadyExists(error: unknown): boolean {
  const parts = [error instanceof Error ? error.message : String(error)];
  if (error instanceof PodpathError) parts.push(error.shortMessage, error.hint ?? '');
  return parts.some((text) => /node\(s\) already exist for a cluster with the name/.test(text));
}

/** (Re)writes the cluster's private kubeconfig from the running cluster; the user's file is not touched. */
async function exportKubeconfig(deps: BedDeps, kindPath: string, name: string, signal?: AbortSignal): Promise<string> {
  const kubeconfig = kubeconfigFor(deps, name);
  await deps.exec.run(kindPath, kindExportArgs(name, kubeconfig), { signal, timeoutMs: 60_000 });
  return kubeconfig;
}

/** The podpath marker, read through the same private kubeconfig podpath writes it with. */
export async function readMarker(kube: Pick<KubeApi, 'readConfigMapData'>): Promise<ClusterMarker | null> {
  const data = await kube.readConfigMapData(MARKER_NAMESPACE, MARKER_NAME);
  return data === null ? null : parseMarkerData(JSON.stringify(data));
}

/** readMarker for a safety check: an unreadable marker counts as absent, and says why. */
async function checkMarker(kube: Pick<KubeApi, 'readConfigMapData'>): Promise<{ marker: ClusterMarker | null; unreadable: string | null }> {
  try {
    return { marker: await readMarker(kube), unreadable: null };
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    return { marker: null, unreadable: error instanceof PodpathError ? error.shortMessage : String(error) };
  }
}

async function kindClusters(deps: BedDeps, kind: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await deps.exec.run(kind, ['get', 'clusters'], { signal, timeoutMs: 30_000 });
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('No kind clusters'));
}

function allowed(allowContext: string | undefined, name: string): boolean {
  return allowContext !== undefined && (allowContext === name || allowContext === contextFor(name));
}

/**
 * Writes the cluster's private kubeconfig from the running cluster and reads the marker through it.
 * A cluster that cannot be read (export or API failing) counts as unmarked, and says why.
 */
async function inspect(deps: BedDeps, kindPath: string, name: string, signal?: AbortSignal): Promise<{ kube: KubeApi | null; marker: ClusterMarker | null; unreadable: string | null }> {
  try {
    await exportKubeconfig(deps, kindPath, name, signal);
  } catch (error) {
    if (error instanceof InterruptedError || signal?.aborted) throw error;
    return { kube: null, marker: null, unreadable: `kind export kubeconfig failed: ${describe(error)}` };
  }
  const kube = await deps.kube(contextFor(name), kubeconfigFor(deps, name));
  return { kube, ...(await checkMarker(kube)) };
}

function notOurs(name: string, action: string, unreadable: string | null = null): UsageError {
  const why = unreadable ? `its ${MARKER_NAMESPACE}/${MARKER_NAME} marker could not be read (${unreadable})` : `podpath did not create it (no ${MARKER_NAMESPACE}/${MARKER_NAME} marker)`;
  return new UsageError(`refusing to ${action} kind cluster '${name}': ${why}`, {
    hint: `podpath only changes clusters it marked. Use another --name, or pass --allow-context ${contextFor(name)} if you really mean this cluster.`,
  });
}

function deploymentsOf(docs: readonly KubeDoc[]): Array<{ namespace: string; name: string }> {
  return docs.filter((d) => d.kind === 'Deployment').map((d) => ({ namespace: d.metadata.namespace ?? 'default', name: d.metadata.name }));
}

const bedDeps = new WeakMap<Bed, { deps: BedDeps; options: BedOptions }>();

export async function up(options: BedOptions, overrides: Partial<BedDeps> = {}, depsOptions: Omit<DepsOptions, 'dryRun' | 'signal'> = {}): Promise<Bed> {
  const name = assertSafeClusterName(options.name);
  const deps = defaultDeps({ ...depsOptions, dryRun: options.dryRun, signal: options.signal }, overrides);
  const release = resolveIstio(options.istio, { k8s: options.k8s });
  if (options.connectTimeout) checkDuration(options.connectTimeout);
  const context = contextFor(name);
  const kubeconfig = kubeconfigFor(deps, name);
  const userSignal = options.signal;
  // Once the lease is held, losing it stops the bring-up like Ctrl-C would, but says why.
  let signal = userSignal;
  const timings: Record<string, number> = {};
  const warnings = [...release.warnings];
  const files = new Map<string, string>();
  const plan = deps.plan;
  let created = false;
  let kindPath = 'kind';
  let held: BedLease | null = null;

  const phase = async <T>(phaseName: string, detail: string, work: () => Promise<T>): Promise<T> => {
    throwIfAborted(signal, phaseName);
    options.onProgress?.(phaseName, detail);
    plan?.add('note', `phase ${phaseName}: ${detail}`);
    const started = deps.now();
    try {
      return await work();
    } finally {
      timings[phaseName] = Math.round(deps.now() - started);
    }
  };
  const write = async (path: string, content: string) => {
    files.set(path, content);
    await deps.writeFile(path, content);
  };
  const takeLease = async (kube: KubeApi): Promise<void> => {
    const lease = await phase('lock', `lease ${LEASE_NAME}, held until this run ends`, () =>
      holdLease(plan ? null : kubeconfig, () => kube.acquireLease(LEASE_NAME, deps.holder, { waitMs: 120_000, signal })));
    held = lease;
    signal = userSignal ? AbortSignal.any([userSignal, lease.lost]) : lease.lost;
  };

  try {
    const pre = await phase('preflight', 'Docker, disk, platform', () => deps.preflight());
    warnings.push(...pre.notes);
    let istioctl: ResolvedTool | null = null;
    const kind = await phase('tools', `kind ${release.kind}${options.reuse ? '' : `, istioctl ${release.version}`}`, async () => {
      const k = await deps.ensureKind(release.kind);
      // Fetched up front so a missing istioctl fails before a cluster exists, not after.
      if (!options.reuse) istioctl = await deps.ensureIstioctl(release.version);
      return k;
    });
    kindPath = kind.path;

    let kube: KubeApi | null = null;
    const existing = await phase('cluster', options.reuse ? `attach to ${name}` : `kind cluster ${name} (${release.node.image}), kubeconfig ${kubeconfig}`, async () => {
      let present: boolean;
      if (plan) {
        present = options.reuse;
        plan.add('note', `dry run: assuming kind cluster '${name}' ${present ? 'exists and is podpath\'s' : 'does not exist yet'}`);
        await kindClusters(deps, kindPath, signal);
      } else {
        present = (await kindClusters(deps, kindPath, signal)).includes(name);
      }
      if (!present) {
        if (options.reuse) {
          throw new UsageError(`--reuse: there is no kind cluster '${name}' to attach to`, { hint: `Run 'podpath up --name ${name}' without --reuse to create it.` });
        }
        const configPath = join(deps.workDir(name), 'kind-config.yaml');
        await write(configPath, kindClusterConfig({ name, nodeImage: release.node.image }));
        try {
          await deps.exec.run(kindPath, kindCreateArgs(name, configPath, kubeconfig), { signal, inherit: false });
        } catch (error) {
          // Stopped mid-create, the nodes kind made are this run's: a name another run holds fails at once, before any node exists.
          if (signal?.aborted && !alreadyExists(error)) created = true;
          if (!alreadyExists(error)) throw error;
          // Another `up` created it between our look and our create: it is not ours to delete.
          throw new EnvironmentError(`kind cluster '${name}' was created by someone else while this run was creating it`, {
            hint: `Another 'podpath up --name ${name}' probably won the race. Run 'podpath up --name ${name} --reuse' once it is ready, or use another --name.`,
            cause: error,
          });
        }
        // Only now is the cluster this run's: kind removes the nodes of a create that failed itself (kubernetes-sigs/kind pkg/cluster/internal/create/create.go).
        created = true;
        kube = await deps.kube(context, kubeconfig);
        return null;
      }
      // Read in a dry run too, so the plan shows the check (it finds nothing there).
      const look = await inspect(deps, kindPath, name, signal);
      const { marker, unreadable } = look;
      if (!marker && !plan && !allowed(options.allowContext, name)) {
        // podpath keeps no kubeconfig for a cluster it does not own.
        await deps.remove(kubeconfig).catch(() => {});
        throw notOurs(name, options.reuse ? 'attach to' : 'change', unreadable);
      }
      if (!look.kube) throw new EnvironmentError(`cannot reach kind cluster '${name}': ${unreadable}`, { hint: `Check it with 'podpath status --name ${name}'; if it is broken, remove it with 'podpath down --name ${name}'.` });
      kube = look.kube;
      if (marker && !options.reuse && marker.istio !== release.version) {
        throw new UsageError(`kind cluster '${name}' already runs Istio ${marker.istio}, not ${release.version}`, {
          hint: `Run 'podpath down --name ${name}' first, use another --name, or upgrade it (upgradeIstio).`,
        });
      }
      return marker;
    });
    if (!kube) throw new EnvironmentError(`no client for kind cluster '${name}'`);
    const client: KubeApi = kube;

    const settings = { logEncoding: options.logEncoding, connectTimeout: options.connectTimeout ?? '', pilotEnv: { ...(options.pilotEnv ?? {}) } };
    // --reuse reports the cluster as it is; a heal re-installs with this run's settings, so the marker follows them.
    const marker: ClusterMarker = existing ? (options.reuse ? existing : { ...existing, ...settings }) : {
      ...settings,
      name,
      istio: release.version,
      revision: '',
      kind: release.kind,
      nodeImage: release.node.image,
      createdAt: new Date().toISOString(),
      podpath: PODPATH_VERSION,
    };

    if (options.reuse) {
      await takeLease(client);
      const docs = await deps.baseline();
      await phase('ready', 'istiod and workloads ready', async () => {
        await client.waitForRollout('istio-system', marker.revision ? `istiod-${marker.revision}` : 'istiod', { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
        for (const d of deploymentsOf(docs)) await client.waitForRollout(d.namespace, d.name, { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
      });
      const istio = existing ? resolveIstioLoosely(existing.istio, release) : release;
      if (istio.version !== release.version) warnings.push(`--reuse: cluster '${name}' runs Istio ${istio.version}, not the ${release.version} asked for; results describe ${istio.version}`);
      return makeBed({ name, context, kubeconfig, lease: leaseOf(held), istio, kube: client, plan, timings, created, marker, files, warnings }, deps, options, kindPath);
    }

    if (created) {
      // The marker goes on first, so an interrupted bring-up still leaves a cluster podpath recognises.
      await phase('marker', `${MARKER_NAMESPACE}/${MARKER_NAME}`, () => client.apply([markerConfigMap(marker)], { signal }));
      await takeLease(client);
    } else {
      // An existing bed may be in use: nothing changes on it before the lease is ours.
      await takeLease(client);
      await phase('marker', `${MARKER_NAMESPACE}/${MARKER_NAME}`, () => client.apply([markerConfigMap(marker)], { signal }));
    }

    if (options.preload ?? true) {
      const images = preloadImages(release.version);
      const platform = pre.dockerPlatform ?? `linux/${pre.target.arch}`;
      const failures = await phase('preload', `${images.join(', ')} (${platform})`, () =>
        preload(deps, { kindPath, name, images, platform, savePlatform: savesOnePlatform(pre.dockerVersion), signal }));
      for (const failure of failures) {
        warnings.push(failure);
        options.onWarning?.(failure);
      }
    }

    await phase('istio', `istioctl install ${release.version} (minimal, access log ${options.logEncoding.toUpperCase()})`, async () => {
      const tool = istioctl ?? (await deps.ensureIstioctl(release.version));
      const operatorPath = join(deps.workDir(name), 'istio-operator.yaml');
      await write(operatorPath, istioOperatorYaml({ logEncoding: options.logEncoding, connectTimeout: options.connectTimeout, pilotEnv: options.pilotEnv }));
      await deps.exec.run(tool.path, istioctlInstallArgs(operatorPath, kubeconfig, context), { signal });
    });

    const docs = await deps.baseline();
    await phase('baseline', `${docs.length} documents (namespaces, agent${agentKeys(docs)}, deployments, services)`, () => client.apply(docs, { signal }));

    await phase('ready', 'istiod and workloads rolled out', async () => {
      await client.waitForRollout('istio-system', 'istiod', { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
      for (const d of deploymentsOf(docs)) await client.waitForRollout(d.namespace, d.name, { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
    });
    return makeBed({ name, context, kubeconfig, lease: leaseOf(held), istio: release, kube: client, plan, timings, created, marker, files, warnings }, deps, options, kindPath);
  } catch (caught) {
    const holding = held as BedLease | null;
    // A lost lease stops the bring-up through the signal; the error to report is why, not "interrupted".
    const error = holding?.lost.aborted && !userSignal?.aborted ? holding.lost.reason : caught;
    if (holding) await holding.release().catch(() => {});
    throw await cleanUpAfterFailure(error, { deps, name, kindPath, kubeconfig, created, keep: options.keep, signal: userSignal });
  }
}

function leaseOf(held: BedLease | null): BedLease {
  if (!held) throw new EnvironmentError('internal: the bed has no lease');
  return held;
}

/** Leases this process holds, by the bed's kubeconfig path. */
const sharedLeases = new Map<string, { lease: HeldLease; users: number }>();

/**
 * One lease per bed per process. The holder identity is the process, so a run inside a flow that
 * already holds the bed (the upgrade flow's runs on its bed) shares the lease: taking it again
 * would succeed as the same holder, and that run's release would delete the flow's lease.
 * The lease is given back when its last user releases it. A dry run (key null) never shares.
 */
async function holdLease(key: string | null, take: () => Promise<HeldLease>): Promise<BedLease> {
  const existing = key === null ? undefined : sharedLeases.get(key);
  let entry: { lease: HeldLease; users: number };
  if (existing && !existing.lease.lost.aborted) {
    existing.users++;
    entry = existing;
  } else {
    entry = { lease: await take(), users: 1 };
    if (key !== null) sharedLeases.set(key, entry);
  }
  let released: Promise<void> | null = null;
  const release = async (): Promise<void> => {
    entry.users--;
    if (entry.users > 0) return;
    if (key !== null && sharedLeases.get(key) === entry) sharedLeases.delete(key);
    await entry.lease[Symbol.asyncDispose]();
  };
  return { lost: entry.lease.lost, release: () => (released ??= release()) };
}

/** `docker image save --platform` needs API 1.48 (Docker Engine 28.0); older or unparsable versions try it and fall back. */
function savesOnePlatform(dockerVersion: string): boolean {
  const major = /^(\d+)\./.exec(dockerVersion.trim())?.[1];
  return major === undefined || Number(major) >= 28;
}

function archiveName(image: string): string {
  return `${image.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`;
}

/**
 * Loads each image as a single-platform archive: `kind load docker-image` imports with
 * --all-platforms and fails on Docker's containerd image store when only the host platform was
 * pulled (kubernetes-sigs/kind#3795). Returns one warning per image that could not be loaded:
 * every podpath image is IfNotPresent, so the kubelet pulls what is missing.
 */
async function preload(
  deps: BedDeps,
  job: { kindPath: string; name: string; images: readonly string[]; platform: string; savePlatform: boolean; signal?: AbortSignal },
): Promise<string[]> {
  const { signal, platform } = job;
  const failures: string[] = [];
  let dir: string;
  try {
    dir = await deps.makeTempDir(deps.workDir(job.name), 'preload-');
  } catch (error) {
    return [`image preload skipped: no temporary directory (${describe(error)}); the kubelet pulls the images instead`];
  }
  try {
    for (const image of job.images) {
      throwIfAborted(signal, 'preload');
      const archive = join(dir, archiveName(image));
      try {
        if (/@sha256:[0-9a-f]{64}$/.test(image)) {
          // docker save + ctr import does not keep the registry digest, so the CRI cannot match a `name@sha256:`
          // reference and may report a loaded copy present yet unusable (kubernetes-sigs/kind#4028); the node's
          // own CRI pull records the name and digest the kubelet looks for, for the node's platform.
          await deps.exec.run('docker', ['exec', controlPlaneContainer(job.name), 'crictl', 'pull', image], { signal });
          continue;
        }
        deps.plan?.add('note', `docker pull ${image} runs only if 'docker image inspect' finds it missing`);
        try {
          await deps.exec.run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { signal, timeoutMs: 30_000 });
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          await deps.exec.run('docker', ['pull', '--platform', platform, image], { signal });
        }
        let saved = false;
        if (job.savePlatform) {
          deps.plan?.add('note', `if 'docker image save --platform' is refused (Docker < 28), a plain 'docker image save' is tried`);
          try {
            await deps.exec.run('docker', ['image', 'save', '--platform', platform, '-o', archive, image], { signal });
            saved = true;
          } catch (error) {
            if (error instanceof InterruptedError) throw error;
            // A CLI or daemon older than API 1.48 rejects --platform; a plain save still works on the classic store.
          }
        }
        if (!saved) await deps.exec.run('docker', ['image', 'save', '-o', archive, image], { signal });
        await deps.exec.run(job.kindPath, ['load', 'image-archive', archive, '--name', job.name], { signal });
      } catch (error) {
        if (error instanceof InterruptedError || signal?.aborted) throw error;
        failures.push(`could not preload ${image} into kind cluster '${job.name}' (${describe(error)}); continuing: the kubelet pulls it (imagePullPolicy IfNotPresent), so the first rollout may take longer`);
      } finally {
        await deps.remove(archive).catch(() => {});
      }
    }
  } finally {
    await deps.remove(dir).catch(() => {});
  }
  return failures;
}

function describe(error: unknown): string {
  const text = error instanceof PodpathError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  // ctr's reason is on the last line of kind's output ("ctr: content digest sha256:...: not found").
  return text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'unknown error';
}

/** A marker's version may predate podpath's table; keep the release facts podpath has. */
function resolveIstioLoosely(version: string, fallback: IstioRelease): IstioRelease {
  try {
    return resolveIstio(version);
  } catch {
    return { ...fallback, version, warnings: [...fallback.warnings, `the cluster runs Istio ${version}, which podpath's table does not list`] };
  }
}

async function cleanUpAfterFailure(
  error: unknown,
  context: { deps: BedDeps; name: string; kindPath: string; kubeconfig: string; created: boolean; keep: boolean; signal?: AbortSignal },
): Promise<unknown> {
  const wasInterrupted = error instanceof InterruptedError || context.signal?.aborted === true;
  let note: string;
  if (!context.created) note = 'Nothing was created by this run.';
  else if (context.keep) note = `Kept kind cluster '${context.name}' (--keep); remove it with 'podpath down --name ${context.name}'.`;
  else {
    try {
      // No signal: the cleanup must run even though the user pressed Ctrl-C.
      await context.deps.exec.run(context.kindPath, kindDeleteArgs(context.name, context.kubeconfig), { timeoutMs: 120_000 });
      await context.deps.remove(context.kubeconfig).catch(() => {});
      note = `Removed kind cluster '${context.name}', which this run created.`;
    } catch (cleanupError) {
      note = `Could not remove kind cluster '${context.name}' (${cleanupError instanceof PodpathError ? cleanupError.shortMessage : String(cleanupError)}); run 'podpath down --name ${context.name}'.`;
    }
  }
  if (wasInterrupted) {
    return new InterruptedError(error instanceof InterruptedError ? error.shortMessage : 'interrupted', { hint: note, cause: error });
  }
  if (error instanceof PodpathError) {
    // Same message and exit code (2), with what happened to the cluster added to the hint.
    const Kind = error instanceof UsageError ? UsageError : EnvironmentError;
    return new Kind(error.shortMessage, { hint: [error.hint, note].filter(Boolean).join('\n'), cause: error });
  }
  return error;
}

function makeBed(fields: Omit<Bed, typeof Symbol.asyncDispose>, deps: BedDeps, options: BedOptions, kindPath: string): Bed {
  const bed: Bed = {
    ...fields,
    async [Symbol.asyncDispose]() {
      await bed.lease.release();
      // A bed removes only what its own up() created, and never with --keep.
      if (!bed.created || options.keep) return;
      await deps.exec.run(kindPath, kindDeleteArgs(bed.name, bed.kubeconfig), { timeoutMs: 120_000 });
      await deps.remove(bed.kubeconfig);
    },
  };
  bedDeps.set(bed, { deps, options });
  return bed;
}

export interface DownOptions {
  name: string;
  dryRun: boolean;
  allowContext?: string;
  /** Delete even while another podpath run holds the bed's lease (that run then fails). */
  force?: boolean;
  signal?: AbortSignal;
}

export async function down(options: DownOptions, overrides: Partial<BedDeps> = {}, depsOptions: Omit<DepsOptions, 'dryRun' | 'signal'> = {}): Promise<{ deleted: boolean; plan: Plan | null; message: string }> {
  const name = assertSafeClusterName(options.name);
  const deps = defaultDeps({ ...depsOptions, dryRun: options.dryRun, signal: options.signal }, overrides);
  // Before anything that could download kind or write the cache: without Docker there is no kind cluster to delete.
  await deps.checkDocker();
  const kind = await deps.ensureKind(DEFAULT_KIND_VERSION);
  const clusters = await kindClusters(deps, kind.path, options.signal);
  const kubeconfig = kubeconfigFor(deps, name);
  let kube: KubeApi | null;
  if (deps.plan) {
    deps.plan.add('note', `dry run: assuming kind cluster '${name}' exists and carries the podpath marker`);
    await exportKubeconfig(deps, kind.path, name, options.signal);
    kube = await deps.kube(contextFor(name), kubeconfig);
    await readMarker(kube);
  } else {
    if (!clusters.includes(name)) {
      await deps.remove(kubeconfig);
      return { deleted: false, plan: null, message: `no kind cluster '${name}': nothing to delete` };
    }
    // A cluster too broken to read can still be deleted, with --allow-context naming it.
    const look = await inspect(deps, kind.path, name, options.signal);
    if (!look.marker && !allowed(options.allowContext, name)) {
      await deps.remove(kubeconfig).catch(() => {});
      throw notOurs(name, 'delete', look.unreadable);
    }
    kube = look.kube;
  }
  // A run on this bed holds the lease for its whole length; deleting under it would turn its
  // probes into errors that look like mesh failures.
  const lease = kube && !options.force ? await takeLeaseForDown(kube, deps.holder, name, options.signal) : null;
  try {
    await deps.exec.run(kind.path, kindDeleteArgs(name, kubeconfig), { signal: options.signal, timeoutMs: 180_000 });
  } finally {
    // After a delete the API server is gone and the release fails at once (connection refused); that is fine.
    if (lease) await Promise.resolve(lease[Symbol.asyncDispose]()).catch(() => {});
  }
  await deps.remove(kubeconfig);
  return { deleted: true, plan: deps.plan, message: `deleted kind cluster '${name}'` };
}

/** The bed's lease, taken without waiting: a live run's lease refuses `down` (exit 2) unless --force. */
async function takeLeaseForDown(kube: KubeApi, holder: string, name: string, signal?: AbortSignal): Promise<HeldLease> {
  try {
    return await kube.acquireLease(LEASE_NAME, holder, { waitMs: 0, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof KubeError && error.reason === 'LeaseHeld') {
      throw new UsageError(`refusing to delete kind cluster '${name}': a podpath run is using it (${error.shortMessage})`, {
        hint: `Wait for that run to finish, or pass --force to delete the cluster under it (that run then fails with exit 2).`,
        cause: error,
      });
    }
    throw error;
  }
}

export interface WorkloadStatus {
  namespace: string;
  pods: Array<{ name: string; ready: boolean; ip: string }>;
}

export interface ClusterStatus {
  name: string;
  context: string;
  /** The cluster's own kubeconfig (`export KUBECONFIG=...` to use kubectl on it); null when there is no podpath cluster. */
  kubeconfig: string | null;
  exists: boolean;
  podpath: boolean;
  /** Why the marker could not be read (the cluster is then shown as not podpath's), or null. */
  markerError: string | null;
  istio: { version: string | null; source: 'istiod image' | 'marker' | null };
  marker: ClusterMarker | null;
  workloads: WorkloadStatus[];
  ready: boolean;
}

export const STATUS_NAMESPACES = ['istio-system', 'manager', 'app', 'idle'] as const;

export async function status(options: { name: string; dryRun: boolean; signal?: AbortSignal }, overrides: Partial<BedDeps> = {}, depsOptions: Omit<DepsOptions, 'dryRun' | 'signal'> = {}): Promise<{ status: ClusterStatus; plan: Plan | null }> {
  const name = assertSafeClusterName(options.name);
  const deps = defaultDeps({ ...depsOptions, dryRun: options.dryRun, signal: options.signal }, overrides);
  const context = contextFor(name);
  await deps.checkDocker();
  const kind = await deps.ensureKind(DEFAULT_KIND_VERSION);
  const clusters = await kindClusters(deps, kind.path, options.signal);
  const exists = deps.plan ? true : clusters.includes(name);
  const result: ClusterStatus = { name, context, kubeconfig: null, exists, podpath: false, markerError: null, istio: { version: null, source: null }, marker: null, workloads: [], ready: false };
  const kubeconfig = kubeconfigFor(deps, name);
  if (!exists) {
    // A kubeconfig left from a cluster deleted behind podpath's back is stale.
    await deps.remove(kubeconfig);
    return { status: result, plan: deps.plan };
  }
  const look = await inspect(deps, kind.path, name, options.signal);
  result.marker = look.marker;
  result.markerError = look.unreadable;
  result.podpath = result.marker !== null;
  const kube = look.kube;
  if (!kube || (!result.podpath && !deps.plan)) {
    // Not podpath's cluster: say what is there, but keep no kubeconfig for it.
    await deps.remove(kubeconfig);
    return { status: result, plan: deps.plan };
  }
  result.kubeconfig = kubeconfig;
  const images = await kube.deploymentImages('istio-system', 'app=istiod');
  const fromImage = images.length ? istioVersionFromImage(images[0]) : null;
  if (fromImage) result.istio = { version: fromImage, source: 'istiod image' };
  else if (result.marker) result.istio = { version: result.marker.istio, source: 'marker' };
  for (const namespace of STATUS_NAMESPACES) {
    const pods = await kube.listPods(namespace);
    result.workloads.push({ namespace, pods: pods.map((p) => ({ name: p.name, ready: p.ready, ip: p.ip })) });
  }
  result.ready = result.workloads.every((w) => w.pods.length > 0 && w.pods.every((p) => p.ready));
  return { status: result, plan: deps.plan };
}

/**
 * In place: the new istioctl installs over the old control plane, then workloads restart to get
 * the new sidecar. Canary: a second control plane under revision `1-30-5`, namespaces relabelled
 * `istio.io/rev`, workloads restarted onto it; the old revision is left running (remove it with
 * `istioctl uninstall --revision OLD` once satisfied).
 */
export async function upgradeIstio(bed: Bed, to: string, options: { canary: boolean }, overrides: Partial<BedDeps> = {}): Promise<void> {
  const known = bedDeps.get(bed);
  if (!known) throw new UsageError('upgradeIstio needs a bed returned by up()');
  const deps = { ...known.deps, ...overrides };
  const userSignal = known.options.signal;
  // The bed's lease covers the upgrade too: losing it stops the upgrade like Ctrl-C would, and says why.
  const signal = userSignal ? AbortSignal.any([userSignal, bed.lease.lost]) : bed.lease.lost;
  try {
    await upgradeSteps(bed, to, options, deps, signal);
  } catch (error) {
    throw bed.lease.lost.aborted && !userSignal?.aborted ? bed.lease.lost.reason : error;
  }
}

async function upgradeSteps(bed: Bed, to: string, options: { canary: boolean }, deps: BedDeps, signal: AbortSignal): Promise<void> {
  const release = resolveIstio(to);
  // A bed only exists once up() checked the cluster is podpath's (or --allow-context named it).
  const istioctl = await deps.ensureIstioctl(release.version);
  const revision = options.canary ? revisionFor(release.version) : '';
  const settings = {
    logEncoding: bed.marker.logEncoding,
    connectTimeout: bed.marker.connectTimeout || undefined,
    pilotEnv: bed.marker.pilotEnv,
    revision: revision || undefined,
  };
  const operatorPath = join(deps.workDir(bed.name), revision ? `istio-operator-${revision}.yaml` : 'istio-operator.yaml');
  const content = istioOperatorYaml(settings);
  bed.files.set(operatorPath, content);
  await deps.writeFile(operatorPath, content);
  const args = istioctlInstallArgs(operatorPath, bed.kubeconfig, bed.context);
  if (revision) args.push('--set', `revision=${revision}`);
  throwIfAborted(signal, 'upgrade');
  await deps.exec.run(istioctl.path, args, { signal });
  await bed.kube.waitForRollout('istio-system', revision ? `istiod-${revision}` : 'istiod', { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
  throwIfAborted(signal, 'upgrade');

  const docs = (await deps.baseline()) as KubeDoc[];
  const stamp = new Date().toISOString();
  const changed: KubeDoc[] = [];
  for (const doc of docs) {
    if (revision && doc.kind === 'Namespace') {
      const copy = structuredClone(doc);
      const labels = { ...((copy.metadata.labels as Record<string, string> | undefined) ?? {}) };
      delete labels['istio-injection'];
      labels['istio.io/rev'] = revision;
      copy.metadata.labels = labels;
      changed.push(copy);
    }
  }
  for (const doc of docs) {
    if (doc.kind !== 'Deployment') continue;
    // A changed pod-template annotation is how a rollout restart works; server-side apply keeps it ours.
    const copy = structuredClone(doc) as KubeDoc & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
    copy.spec ??= {};
    copy.spec.template ??= {};
    copy.spec.template.metadata ??= {};
    copy.spec.template.metadata.annotations = { ...(copy.spec.template.metadata.annotations ?? {}), 'podpath.io/restarted-for': `istio-${release.version}`, 'podpath.io/restarted-at': stamp };
    changed.push(copy);
  }
  await bed.kube.apply(changed as KubeDocument[], { signal });
  for (const d of deploymentsOf(docs)) await bed.kube.waitForRollout(d.namespace, d.name, { timeoutMs: ROLLOUT_TIMEOUT_MS, signal });
  bed.marker = { ...bed.marker, istio: release.version, revision };
  await bed.kube.apply([markerConfigMap(bed.marker)], { signal });
  bed.istio = release;
}
