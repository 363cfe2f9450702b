/**
 * The suite: select scenarios, group them into beds (one per Istio version and istiod env), run
 * each scenario (--repeat times, exclusive ones alone), tell a SuiteSink what happens (the CLI renders
 * it), and hand the RunReport to harness/report. Ctrl-C stops, cleans up and still writes a partial report.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError, isPodpathError, UsageError } from '../errors/index.ts';
import { Plan } from '../exec/index.ts';
import type { SuiteSink } from './events.ts';
import { describeRedactions, newRunId, writeRunResults, REPORT_SCHEMA_VERSION, type MeshMtls, type RunReport, type ScenarioReport, type ScenarioStatus, type TargetReport, type Totals } from '../report/index.ts';
import type { MeshBed } from './mesh-bed.ts';
import type { KubeApi, KubeDocument } from '../kube/index.ts';
import type { BedDeps } from '../cluster/index.ts';
import { DEFAULT_PIPELINE, runAttempt, type AttemptResult, type PipelineOptions } from './pipeline.ts';
import { MtlsHistory } from './pooled.ts';
import { meshMtls, PEER_AUTHENTICATION_API, ROOT_NAMESPACE } from './mesh-mtls.ts';
import { describeEnv, isExclusive, skipReason, type Scenario } from './scenario.ts';
import { DEFAULT_CONNECT_TIMEOUT, ISTIO_DEFAULT_CONNECT_TIMEOUT } from '../cluster/config.ts';
import { bedFeatures, istiodSettings, ISTIOD_NAMESPACE, MESH_CONFIGMAP, type BedFeatures } from './bed-features.ts';

export interface RunOptions {
  scenarios: string[];
  istio: string[];
  reuse: boolean;
  keep: boolean;
  pauseOnFailure: boolean;
  repeat: number;
  concurrency: number;
  resultsDir: string;
  dryRun: boolean;
  logEncoding: 'text' | 'json';
  signal?: AbortSignal;
  /** kind cluster name for the first bed (default podpath); others get a suffix. */
  name?: string;
  /** meshConfig.connectTimeout for beds podpath installs (default 1s, and the report says so). */
  connectTimeout?: string;
  /** argv after "podpath", recorded in the report. */
  argv?: string[];
  /** Pull and kind-load the images into new beds (default true; --skip-preload sets false). */
  preload?: boolean;
}

export interface BedSpec {
  name: string;
  istio: string;
  pilotEnv: Record<string, string>;
  logEncoding: 'text' | 'json';
  connectTimeout: string;
  reuse: boolean;
  keep: boolean;
  plan: Plan | null;
  signal?: AbortSignal;
  onProgress?: (phase: string, detail: string) => void;
  /** Documents for apply names that are not podpath extras (incident manifests). */
  documents?: ReadonlyMap<string, KubeDocument[]>;
  /** Pull and kind-load the images (default true); a preload failure is a warning either way. */
  preload?: boolean;
  /** Bring-up warnings (e.g. an image that could not be preloaded), as they happen. */
  onWarning?: (text: string) => void;
}

export type OpenedBed = MeshBed & AsyncDisposable & {
  /** Aborts when the bed's lease is lost (another run took it): the run must stop, it no longer owns the bed. */
  readonly leaseLost?: AbortSignal;
};

export interface SuiteDeps {
  /** The scenarios to choose from (--scenario selects among them): the caller's catalogue, e.g. scenarios/index.ts. */
  scenarios: readonly Scenario[];
  openBed(spec: BedSpec): Promise<OpenedBed>;
  /** '1.30' → '1.30.5' (throws UsageError for unknown versions). */
  resolveVersion(spec: string): string;
  pipeline: Partial<Omit<PipelineOptions, 'signal' | 'onFailure' | 'keepOnFailure'>>;
  podpathVersion: string;
  /** Receives the dry run's plan per bed. */
  onPlan?: (label: string, plan: Plan) => void;
  /** Documents for apply names that are not podpath extras (incident manifests). */
  documents?: ReadonlyMap<string, KubeDocument[]>;
}

export { DEFAULT_CONNECT_TIMEOUT };

const PODPATH_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** `--scenario` semantics: any include regex matches (none = all), and no `!` exclude matches. */
export function selectScenarios(all: readonly Scenario[], patterns: readonly string[]): Scenario[] {
  const compile = (p: string) => {
    try {
      return new RegExp(p);
    } catch (error) {
      throw new UsageError(`--scenario '${p}' is not a valid regular expression`, { cause: error });
    }
  };
  const includes = patterns.filter((p) => !p.startsWith('!')).map(compile);
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => compile(p.slice(1)));
  const chosen = all.filter((s) => (includes.length === 0 || includes.some((r) => r.test(s.id))) && !excludes.some((r) => r.test(s.id)));
  if (chosen.length === 0) {
    throw new UsageError(`no scenario matches ${patterns.map((p) => `'${p}'`).join(' ')}`, { hint: `Scenarios: ${all.map((s) => s.id).join(', ')}.` });
  }
  return chosen;
}

function envKey(env: Record<string, string>): string {
  return Object.entries(env).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
}

export interface TargetGroup {
  istio: string;
  pilotEnv: Record<string, string>;
  name: string;
  scenarios: Scenario[];
}

/** One bed per (version, istiod env): scenarios needing env run on a bed installed with it. */
export function groupTargets(versions: readonly string[], scenarios: readonly Scenario[], baseName: string, reuse = false): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const [vi, istio] of versions.entries()) {
    const byEnv = new Map<string, TargetGroup>();
    for (const s of scenarios) {
      const env = { ...(s.mesh?.pilotEnv ?? {}) };
      const key = envKey(env);
      let g = byEnv.get(key);
      if (!g) {
        // --reuse attaches every env group to the same bed; scenarios needing another env are then skipped, saying why.
        const envSuffix = key && !reuse ? `e${createHash('sha256').update(key).digest('hex').slice(0, 5)}` : '';
        const suffix = [versions.length > 1 || vi > 0 ? istio.split('.').slice(0, 2).join('-') : '', envSuffix].filter(Boolean).join('-');
        g = { istio, pilotEnv: env, name: suffix ? `${baseName}-${suffix}` : baseName, scenarios: [] };
        byEnv.set(key, g);
      }
      g.scenarios.push(s);
    }
    groups.push(...[...byEnv.values()].sort((a, b) => envKey(a.pilotEnv).localeCompare(envKey(b.pilotEnv))));
  }
  return groups;
}

function emptyTotals(): Totals {
  return { passed: 0, failed: 0, skipped: 0, flaky: 0, observed: 0, partial: 0 };
}

function count(scenarios: readonly ScenarioReport[]): Totals {
  const t = emptyTotals();
  for (const s of scenarios) t[s.status] = (t[s.status] ?? 0) + 1;
  return t;
}

/** passed+failed across attempts is flaky; all the same is that status; otherwise the least checked one (partial, then passed). */
export function combineAttempts(statuses: ReadonlyArray<AttemptResult['status']>): ScenarioStatus {
  const distinct = new Set(statuses);
  if (distinct.size === 1) return statuses[0];
  if (distinct.has('failed')) return 'flaky';
  // An attempt that judged fewer probes is the honest summary: a mix with partial or observed is partial.
  return distinct.has('partial') || distinct.has('observed') ? 'partial' : 'passed';
}

function skipped(s: Scenario, reason: string): ScenarioReport {
  return { id: s.id, title: s.title, seed: s.seed, status: 'skipped', skipReason: reason, attempts: [], timings: { total: 0 }, probes: [], evidence: [], error: null };
}

export interface SuiteResult {
  report: RunReport;
  runDir: string;
  plans: Array<{ label: string; plan: Plan }>;
  /** Beds that could not be brought up or attached to (their scenarios are reported failed, the target `bed: unavailable`). */
  bedErrors: Array<{ bed: string; error: unknown }>;
  /** Whether runDir was written: not when no bed at all could be brought up (nothing ran, nothing to compare). */
  written: boolean;
  /** Set when the run stopped because a bed's lease was lost (the error, exit 2). */
  aborted: unknown;
}

export async function runSuite(options: RunOptions, sink: SuiteSink, deps: Partial<SuiteDeps> & Pick<SuiteDeps, 'scenarios'>): Promise<SuiteResult> {
  if (!Number.isInteger(options.repeat) || options.repeat < 1) throw new UsageError(`--repeat must be a whole number >= 1, not ${options.repeat}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new UsageError(`--concurrency must be a whole number >= 1, not ${options.concurrency}`);
  if (options.istio.length === 0) throw new UsageError('no Istio version given', { hint: 'Pass --istio V[,V...].' });
  const d: SuiteDeps = {
    scenarios: deps.scenarios,
    openBed: deps.openBed ?? openLiveBed,
    resolveVersion: deps.resolveVersion ?? (await defaultResolver()),
    pipeline: deps.pipeline ?? {},
    podpathVersion: deps.podpathVersion ?? PODPATH_VERSION,
    onPlan: deps.onPlan,
    documents: deps.documents,
  };
  const selected = selectScenarios(d.scenarios, options.scenarios);
  const versions = [...new Set(options.istio.map((v) => d.resolveVersion(v)))];
  const groups = groupTargets(versions, selected, options.name ?? 'podpath', options.reuse);
  const runId = newRunId();
  const runDir = join(options.resultsDir, runId);
  const startedAt = new Date().toISOString();
  const evidence = new Map<string, string>();
  const targets: TargetReport[] = [];
  const plans: Array<{ label: string; plan: Plan }> = [];
  const bedErrors: SuiteResult['bedErrors'] = [];
  const signal = options.signal;
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  let interrupted = false;
  let aborted: { bed: string; error: unknown } | null = null;
  let bedsOpened = 0;
  const total = groups.reduce((n, g) => n + g.scenarios.length, 0);
  let finished = 0;
  const progress = (text: string) => sink.emit({ type: 'progress', done: finished, total, text });
  const say = async (level: 'warning' | 'info' | 'hint', text: string) => sink.emit({ type: 'message', level, text });

  for (const group of groups) {
    const envLabel = Object.keys(group.pilotEnv).length ? ` (${describeEnv(group.pilotEnv)})` : '';
    const label = `${group.istio}${envLabel}`;
    const target: TargetReport = {
      istio: { version: group.istio, pilotEnv: group.pilotEnv, meshConfig: { connectTimeout, accessLogEncoding: options.logEncoding === 'json' ? 'JSON' : 'TEXT' } },
      kubernetes: null,
      cluster: group.name,
      scenarios: [],
      totals: emptyTotals(),
    };
    targets.push(target);
    const info = { istio: group.istio, pilotEnv: group.pilotEnv };
    const runnable: Scenario[] = [];
    for (const s of group.scenarios) {
      const reason = aborted ? `not run: the run was aborted (${describeError(aborted.error)})` : interrupted ? 'not run: the run was interrupted' : skipReason(s, info);
      if (reason !== null) {
        const report = skipped(s, reason);
        target.scenarios.push(report);
        finished++;
        await sink.emit({ type: 'verdict', target: label, report, planned: false });
      } else runnable.push(s);
    }
    if (runnable.length === 0) continue;

    const plan = options.dryRun ? new Plan() : null;
    if (plan) plans.push({ label, plan });
    let bed: OpenedBed | null = null;
    try {
      await progress(`bringing up ${group.name} (Istio ${label})`);
      bed = await d.openBed({
        name: group.name, istio: group.istio, pilotEnv: group.pilotEnv, logEncoding: options.logEncoding, connectTimeout,
        reuse: options.reuse, keep: options.keep, plan, signal, documents: d.documents,
        onProgress: (phase, detail) => void progress(`${group.name}: ${phase} ${detail}`),
        preload: options.preload ?? true,
        onWarning: (text) => {
          (target.warnings ??= []).push(text);
          void say('warning', `bed ${group.name}: ${text}`);
        },
      });
      bedsOpened++;
      target.kubernetes = bed.kubernetes;
      target.kind = bed.kind;
      target.nodeImage = bed.nodeImage;
      target.mtls = bed.mtls;
      target.features = bed.target.features ?? null;
      target.cluster = bed.name;
      // The report records what the bed really runs; a reused bed may have been installed with another value.
      const effective = bed.meshConfig.connectTimeout ?? ISTIO_DEFAULT_CONNECT_TIMEOUT;
      target.istio.meshConfig.connectTimeout = effective;
      if (effective !== connectTimeout) {
        const text = `bed ${bed.name} runs meshConfig.connectTimeout ${effective}${bed.meshConfig.connectTimeout === null ? " (Istio's default: none set)" : ''}, not the ${connectTimeout} this run asked for; probe timeouts follow the bed (re-create it with 'podpath up --connect-timeout ${connectTimeout}' to change it)`;
        (target.warnings ??= []).push(text);
        await say('warning', text);
      }
      const order = new Map(group.scenarios.map((s, i) => [s.id, i]));
      let toRun = runnable;
      if (bed.target.istio !== group.istio || envKey(bed.target.pilotEnv) !== envKey(group.pilotEnv)) {
        // --reuse attaches to the bed as it is: expectations and skips follow what it really runs.
        await say('info', `bed ${bed.name} runs Istio ${bed.target.istio} with ${describeEnv(bed.target.pilotEnv)} (asked: ${group.istio} with ${describeEnv(group.pilotEnv)}); scenarios are judged on what it runs.`);
        target.istio.version = bed.target.istio;
        target.istio.pilotEnv = { ...bed.target.pilotEnv };
        toRun = [];
        for (const s of runnable) {
          const reason = skipReason(s, bed.target);
          if (reason === null) toRun.push(s);
          else {
            const r = skipped(s, reason);
            target.scenarios.push(r);
            finished++;
            await sink.emit({ type: 'verdict', target: label, report: r, planned: false });
          }
        }
      }
      // A lost lease stops this bed's scenarios like Ctrl-C would (extras removed), then ends the run.
      const lost = bed.leaseLost;
      const bedSignal = lost ? (signal ? AbortSignal.any([signal, lost]) : lost) : signal;
      const results = await runScenarios(bed, toRun, { ...options, signal: bedSignal }, d, sink, label, evidence, async (report) => {
        finished++;
        await sink.emit({ type: 'verdict', target: label, report, planned: options.dryRun });
      }, progress);
      target.scenarios.push(...results.reports);
      target.scenarios.sort((a, b) => (order.get(a.id) ?? -1) - (order.get(b.id) ?? -1));
      if (lost?.aborted && !signal?.aborted) {
        aborted = { bed: group.name, error: lost.reason };
        await say('info', `bed ${group.name}: ${describeError(lost.reason)}; stopping the run.`);
      } else if (results.interrupted) interrupted = true;
    } catch (error) {
      if (!(error instanceof InterruptedError) && !signal?.aborted) {
        // The bed could not be brought up: every scenario of the group fails with that error.
        const message = isPodpathError(error) ? error.shortMessage : error instanceof Error ? error.message : String(error);
        bedErrors.push({ bed: group.name, error });
        target.bed = 'unavailable';
        target.bedError = message;
        for (const s of runnable) {
          const r: ScenarioReport = { ...skipped(s, ''), status: 'failed', skipReason: null, error: `bed ${group.name}: ${message}` };
          target.scenarios.push(r);
          finished++;
          await sink.emit({ type: 'verdict', target: label, report: r, planned: false });
        }
        if (isPodpathError(error) && error.hint) await say('hint', error.hint);
      } else {
        interrupted = true;
      }
    } finally {
      if (bed) {
        try {
          await bed[Symbol.asyncDispose]();
        } catch (e) {
          await say('info', `could not tear down ${group.name}: ${describeError(e)}`);
        }
      }
    }
    for (const s of runnable) {
      if (!target.scenarios.some((r) => r.id === s.id)) target.scenarios.push(skipped(s, aborted ? 'not run: the run was aborted' : 'not run: the run was interrupted'));
    }
    target.totals = count(target.scenarios);
    if (plan) d.onPlan?.(label, plan);
  }

  const totals = emptyTotals();
  for (const t of targets) for (const k of Object.keys(totals) as Array<keyof Totals>) totals[k] = (totals[k] ?? 0) + (t.totals[k] ?? 0);
  const report: RunReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    run: {
      id: runId, startedAt, finishedAt: new Date().toISOString(), podpathVersion: d.podpathVersion, argv: options.argv ?? [], dryRun: options.dryRun,
      interrupted: interrupted || aborted !== null,
      ...(aborted ? { aborted: `bed ${aborted.bed}: ${describeError(aborted.error)}` } : {}),
    },
    targets,
    totals,
  };
  // No bed came up (no Docker, no cluster to --reuse...): nothing ran, so there is no run to keep or compare.
  const written = !options.dryRun && !(bedErrors.length > 0 && bedsOpened === 0);
  if (options.dryRun) {
    const last = plans.at(-1)?.plan;
    last?.add('file', `write ${runDir}/ (report.json, junit.xml, summary.md, report.html, evidence/, bundle.tar.gz)`);
  } else if (written) {
    const redacted = await writeRunResults(runDir, report, evidence);
    await say('info', redacted.size > 0
      ? `redacted from ${runDir} before writing (check before sharing the bundle): ${describeRedactions(redacted)}`
      : `nothing needed redacting in ${runDir}`);
  }
  return { report, runDir, plans, bedErrors, written, aborted: aborted?.error ?? null };
}

function describeError(error: unknown): string {
  return isPodpathError(error) ? error.shortMessage : error instanceof Error ? error.message : String(error);
}

interface ScenarioRun {
  reports: ScenarioReport[];
  interrupted: boolean;
}

/** Runs up to --concurrency scenarios at once; a scenario that applies anything runs alone. */
async function runScenarios(
  bed: MeshBed,
  scenarios: Scenario[],
  options: RunOptions,
  d: SuiteDeps,
  sink: SuiteSink,
  label: string,
  evidence: Map<string, string>,
  onDone: (report: ScenarioReport) => Promise<void>,
  progress: (text: string) => void | Promise<void>,
): Promise<ScenarioRun> {
  const reports: ScenarioReport[] = [];
  const running = new Set<Promise<void>>();
  let interrupted = false;
  let keptBy: string | null = null;
  const pipeline: PipelineOptions = {
    ...DEFAULT_PIPELINE,
    ...d.pipeline,
    signal: options.signal,
    keepOnFailure: options.keep,
    // One history per bed: whether the next HTTP probes change mTLS mode depends on every scenario before them.
    mtlsHistory: new MtlsHistory(),
    onFailure: options.pauseOnFailure
      ? async (s) => {
          if (!sink.pause) {
            await sink.emit({ type: 'message', level: 'info', text: `${s.id} failed; --pause-on-failure cannot pause without a TTY (stdin is not a terminal), continuing` });
            return;
          }
          await sink.emit({ type: 'message', level: 'info', text: `${s.id} failed; its extras are still applied. Inspect the bed, then press Enter to clean up and continue.` });
          await sink.pause(options.signal);
        }
      : undefined,
  };
  const runOne = async (s: Scenario) => {
    const attempts: AttemptResult[] = [];
    let error: string | null = null;
    try {
      for (let a = 1; a <= options.repeat; a++) {
        await sink.emit({ type: 'scenario-started', scenario: s.id, target: label, attempt: a, attempts: options.repeat });
        await progress(`${s.id} (attempt ${a}/${options.repeat})`);
        const r = await runAttempt(bed, s, a, pipeline);
        attempts.push(r);
        for (const probe of r.probes) await sink.emit({ type: 'probe-observed', scenario: s.id, target: label, attempt: a, probe });
        for (const [k, v] of r.evidence) evidence.set(k, v);
        if (r.kept.length) {
          keptBy = s.id;
          break;
        }
      }
    } catch (caught) {
      if (caught instanceof InterruptedError || options.signal?.aborted) {
        interrupted = true;
        error = 'interrupted';
      } else throw caught;
    }
    if (attempts.length === 0) {
      const r = skipped(s, error === 'interrupted' ? 'interrupted while running (its extras were removed)' : 'not run: the run was interrupted');
      reports.push(r);
      await onDone(r);
      return;
    }
    const last = attempts.at(-1)!;
    const status = error === 'interrupted' ? 'failed' : combineAttempts(attempts.map((x) => x.status));
    const timings = { ...last.timings };
    const firstFailure = attempts.find((x) => x.status === 'failed') ?? last;
    const report: ScenarioReport = {
      id: s.id,
      title: s.title,
      seed: s.seed,
      status,
      skipReason: null,
      attempts: attempts.map((x, i) => ({ attempt: i + 1, status: x.status })),
      timings,
      probes: (status === 'flaky' || status === 'failed' ? firstFailure : last).probes,
      evidence: [...new Set(attempts.flatMap((x) => [...x.evidence.keys()]))].map((k) => `evidence/${k}`),
      error: error ?? firstFailure.error,
    };
    if (last.kept.length) report.error = [report.error, `--keep: left ${last.kept.join(', ')} applied`].filter(Boolean).join('; ');
    reports.push(report);
    await onDone(report);
  };

  for (const s of scenarios) {
    if (interrupted || options.signal?.aborted || keptBy !== null) {
      const reason = keptBy !== null ? `not run: --keep left ${keptBy}'s extras applied on this bed` : 'not run: the run was interrupted';
      if (keptBy === null) interrupted = true;
      const r = skipped(s, reason);
      reports.push(r);
      await onDone(r);
      continue;
    }
    const exclusive = isExclusive(s);
    if (exclusive || running.size >= options.concurrency) await Promise.all(running);
    if (exclusive) {
      await runOne(s);
      continue;
    }
    const p: Promise<void> = runOne(s).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= options.concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  if (options.signal?.aborted) interrupted = true;
  return { reports, interrupted };
}

async function defaultResolver(): Promise<(v: string) => string> {
  const { resolveIstio } = await import('../cluster/index.ts');
  return (v) => resolveIstio(v).version;
}

/** Kubernetes inside a kind node image: kind tags kindest/node with the Kubernetes release it builds ("kindest/node:v1.36.1@sha256:…" → "1.36.1"). */
export function nodeImageKubernetes(image: string): string | null {
  return /^kindest\/node:v(\d+\.\d+\.\d+)(?:[@]|$)/.exec(image)?.[1] ?? null;
}

/**
 * What the bed's istiod runs with: its Deployment's env (container discovery) and the `istio`
 * ConfigMap's mesh config, as BedFeatures. features null, and the problem said, when they cannot
 * be read: expectations then fall back to version rows.
 */
export async function readBedFeatures(kube: Pick<KubeApi, 'listObjects' | 'readConfigMapData'>, istio: string): Promise<{ features: BedFeatures | null; problem: string | null }> {
  try {
    const settings = istiodSettings(
      await kube.listObjects('apps/v1', 'Deployment', ISTIOD_NAMESPACE),
      await kube.readConfigMapData(ISTIOD_NAMESPACE, MESH_CONFIGMAP),
    );
    const features = bedFeatures(istio, settings);
    if (features === null) return { features, problem: `Istio '${istio}' is not a version: no defaults to read istiod's settings against; expectations are chosen by Istio version range` };
    return { features, problem: null };
  } catch (error) {
    return { features: null, problem: `could not read istiod's env and mesh config (${describeError(error)}); expectations are chosen by Istio version range` };
  }
}

/** meshConfig.connectTimeout as istiod runs it when its mesh config was read (null: it sets none, Istio's default), else as the cluster's marker says it was installed. */
export function runningConnectTimeout(features: BedFeatures | null, marker: string): string | null {
  if (features) return features.source.connectTimeout === 'istiod' ? features.connectTimeout : null;
  return marker || null;
}

/** The live bed: harness/cluster's up() (or its dry run), wrapped for the runner. */
export async function openLiveBed(spec: BedSpec, clusterDeps: Partial<BedDeps> = {}): Promise<OpenedBed> {
  const cluster = await import('../cluster/index.ts');
  const manifests = await import('../manifests/index.ts');
  const { LiveMeshBed } = await import('./mesh-bed.ts');
  const { PlanKube } = await import('./plan-kube.ts');
  // Dry run: the bring-up records into the same plan through PlanKube (a KubeApi that reads no kubeconfig).
  const overrides: Partial<BedDeps> = spec.plan ? { ...clusterDeps, plan: spec.plan, kube: async () => new PlanKube(spec.plan!) } : clusterDeps;
  const bed = await cluster.up({
    name: spec.name, istio: spec.istio, logEncoding: spec.logEncoding, pilotEnv: spec.pilotEnv, connectTimeout: spec.connectTimeout,
    reuse: spec.reuse, keep: spec.keep, dryRun: spec.plan !== null, signal: spec.signal, onProgress: spec.onProgress,
    preload: spec.preload ?? true, onWarning: spec.onWarning,
  }, overrides);
  // Before any scenario: a PeerAuthentication left on a reused bed changes every plaintext path, so the report says which mode it ran.
  const kube = spec.plan ? new PlanKube(spec.plan) : bed.kube;
  let mtls: MeshMtls | null = null;
  try {
    mtls = meshMtls(await kube.listObjects(PEER_AUTHENTICATION_API, 'PeerAuthentication', ROOT_NAMESPACE));
  } catch (error) {
    spec.onWarning?.(`could not read the mesh-wide PeerAuthentication in ${ROOT_NAMESPACE} (${describeError(error)}); the report says mTLS default unknown`);
  }
  // Before any scenario: what istiod really runs with decides the feature rows; unreadable, the version rows decide.
  const read = await readBedFeatures(kube, bed.istio.version);
  // A dry run reads nothing (the plan records the reads): no warning for that.
  if (read.problem && !spec.plan) spec.onWarning?.(read.problem);
  const features = read.features;
  const live = new LiveMeshBed({
    name: bed.name,
    target: { istio: bed.istio.version, pilotEnv: { ...(bed.marker.pilotEnv ?? spec.pilotEnv) }, features },
    // What the cluster was created with, from its marker: a reused cluster may predate podpath's current table.
    kubernetes: nodeImageKubernetes(bed.marker.nodeImage) ?? null,
    kind: bed.marker.kind || null,
    nodeImage: bed.marker.nodeImage || null,
    mtls,
    meshConfig: { connectTimeout: runningConnectTimeout(features, bed.marker.connectTimeout), accessLogEncoding: bed.marker.logEncoding === 'json' ? 'JSON' : 'TEXT' },
    plan: bed.plan,
    kube,
    extraDocuments: async (name) => spec.documents?.get(name) ?? (await manifests.extraDocuments(name)),
  });
  return Object.assign(live, { leaseLost: bed.lease.lost, [Symbol.asyncDispose]: () => bed[Symbol.asyncDispose]() });
}
