/**
 * One scenario attempt on one bed: apply extras → converge (config dump + explain, never a sleep)
 * → probes → both sidecars' logs, correlated by the probe's local address → evaluate → evidence on
 * failure → remove extras → converge back. Cleanup runs even after Ctrl-C.
 */
import { correlate, parseLogText, type AccessLogEntry, type Hops } from '../accesslog/index.ts';
import { explain, loadConfigDump, type Explanation } from '../envoy/index.ts';
import { InterruptedError, isPodpathError } from '../errors/index.ts';
import type { PhaseTimings, ProbeReport } from '../report/index.ts';
import { checkProbeAnswer, type ProbeRequest, type ProbeResult } from '../probe/index.ts';
import { delayFor, pause } from '../kube/index.ts';
import { evaluate, toExpectedPath, toObservedPath, type Observation } from './evaluate.ts';
import type { ConfigPredicate, MeshBed, PodInfo } from './mesh-bed.ts';
import { chooseRow, rowChoiceNote, rowsFor, extrasFor, type ExpectationRule, type MtlsMode, type ProbeSpec, type Scenario } from './scenario.ts';
import { envoyAddress, MtlsHistory, passthroughHosts } from './pooled.ts';

export interface PipelineOptions {
  /** Consecutive matching config dumps before a change counts as converged. */
  convergeMatches: number;
  convergeTimeoutMs: number;
  /** How long to keep re-reading sidecar logs for a connection's entries (Envoy flushes late). */
  logDeadlineMs: number;
  /** First log re-read delay; doubles up to 1 s (the entries usually land within milliseconds). */
  logBackoffMs: number;
  /**
   * After applying or removing extras, how long to wait for a config push to reach each client
   * (the dump's version changes). Ends early when it does; a change that does not concern the
   * client never pushes to it, so this is a bound, not a sleep (istiod's debounce is at most 10 s).
   */
  pushWindowMs: number;
  /** Extra time a probe waits beyond the mesh's connectTimeout. */
  probeMarginMs: number;
  /**
   * Before HTTP probes whose mTLS mode differs from the last ones on the bed, how long to wait for
   * the client sidecar to drop its pooled PassthroughCluster connections to the target (Envoy's
   * ORIGINAL_DST cleanup runs every 5 s, so a host goes within about two intervals).
   */
  poolDrainTimeoutMs: number;
  /** The mTLS mode of the bed's last HTTP probes, shared by the scenarios on one bed (default: unknown). */
  mtlsHistory?: MtlsHistory;
  signal?: AbortSignal;
  /** Called with the scenario's failure before cleanup; resolves when the run may go on (--pause-on-failure). */
  onFailure?: (scenario: Scenario, probes: ProbeReport[]) => Promise<void>;
  /** --keep: leave a failed scenario's extras applied. */
  keepOnFailure: boolean;
}

export const DEFAULT_PIPELINE: Omit<PipelineOptions, 'signal' | 'onFailure' | 'keepOnFailure' | 'mtlsHistory'> = {
  convergeMatches: 3,
  convergeTimeoutMs: 120_000,
  pushWindowMs: 10_000,
  logDeadlineMs: 15_000,
  logBackoffMs: 5,
  probeMarginMs: 5_000,
  poolDrainTimeoutMs: 30_000,
};

export interface AttemptResult {
  status: 'passed' | 'failed' | 'observed' | 'partial';
  probes: ProbeReport[];
  timings: PhaseTimings;
  evidence: Map<string, string>;
  error: string | null;
  /** Extras still applied because of --keep (the suite stops using this bed). */
  kept: string[];
}

interface PlannedProbe {
  spec: ProbeSpec;
  client: PodInfo;
  target: PodInfo | null;
  dst: string;
  rule: ExpectationRule | null;
  /** How the row was chosen, when the table has feature rows (features, or the version fallback). */
  choice: { by: 'features' | 'versions'; note: string } | null;
}

/** Envoy durations like "1s", "1.5s", "250ms" → ms; null when absent or unreadable. */
export function durationMs(text: string | null): number | null {
  if (!text) return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

/** The probe must outlast the client sidecar's connect attempt (Istio's default connectTimeout is 10 s). */
export function probeTimeoutMs(bed: MeshBed, marginMs: number): number {
  return (durationMs(bed.meshConfig.connectTimeout) ?? 10_000) + marginMs;
}

/** Wraps a predicate so it is ok only after `n` ok answers in a row (config can flap while it propagates). */
export function consecutive(predicate: ConfigPredicate, n: number): ConfigPredicate {
  let streak = 0;
  return (dump) => {
    const r = predicate(dump);
    streak = r.ok ? streak + 1 : 0;
    return { ok: streak >= n, state: r.ok && streak < n ? `${r.state} (match ${streak}/${n})` : r.state };
  };
}

function explainSafely(dump: unknown, query: Parameters<typeof explain>[1]): Explanation | null {
  try {
    return explain(loadConfigDump(dump), query);
  } catch (error) {
    if (isPodpathError(error)) return null;
    throw error;
  }
}

/** The version of the dump's listeners and clusters (what istiod last pushed), null when not recorded. */
export function configVersion(dump: unknown): string | null {
  const configs = (dump as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(configs)) return null;
  const versions: string[] = [];
  for (const c of configs) {
    if (typeof c !== 'object' || c === null) continue;
    const type = String((c as Record<string, unknown>)['@type'] ?? '');
    const version = (c as Record<string, unknown>).version_info ?? (c as Record<string, unknown>).versionInfo;
    if (/(Listeners|Clusters)ConfigDump$/.test(type) && typeof version === 'string') versions.push(version);
  }
  return versions.length ? versions.join(' ') : null;
}

/** ok once the dump's version differs from `before` (a push arrived). */
export function changedFrom(before: string | null): ConfigPredicate {
  return (dump) => {
    const now = configVersion(dump);
    return { ok: before === null || (now !== null && now !== before), state: `config version ${now ?? 'unknown'} (before: ${before ?? 'unknown'})` };
  };
}

/** ok when the client sidecar's config predicts `verdict` for dst. */
export function verdictPredicate(dst: string, verdict: string, host?: string): ConfigPredicate {
  return (dump) => {
    const e = explainSafely(dump, { dst, host });
    if (e === null) return { ok: false, state: 'config dump not readable yet' };
    return { ok: e.verdict === verdict, state: `explain ${dst} → ${e.verdict} (want ${verdict}); cluster ${e.cluster?.name ?? '-'}` };
  };
}

/** ok when plaintext to dst is (or is not) rejected by the server's inbound listener (STRICT mTLS). */
export function strictPredicate(dst: string, strict: boolean): ConfigPredicate {
  return (dump) => {
    const e = explainSafely(dump, { dst, inbound: true, transport: 'raw_buffer' });
    if (e === null) return { ok: false, state: 'config dump not readable yet' };
    const rejected = e.verdict === 'rejected';
    return { ok: rejected === strict, state: `plaintext to ${dst} inbound → ${e.verdict} (want ${strict ? 'rejected' : 'accepted'})` };
  };
}

async function resolveProbes(bed: MeshBed, scenario: Scenario): Promise<PlannedProbe[]> {
  const out: PlannedProbe[] = [];
  for (const spec of scenario.probes) {
    const clients = await bed.pods(spec.from);
    if (clients.length === 0) throw new Error(`no ready ${spec.from} pod to probe from`);
    const client = clients[0];
    let target: PodInfo | null = null;
    let host: string;
    if ('service' in spec.to) {
      host = spec.to.service;
    } else {
      const other = spec.to.pod === 'other-manager';
      const workload = spec.to.pod === 'other-manager' ? 'manager' : spec.to.pod;
      const candidates = (await bed.pods(workload)).filter((p) => !(other && p.name === client.name));
      if (candidates.length === 0) throw new Error(`no ready ${other ? 'second manager' : workload} pod to probe`);
      target = candidates[0];
      host = target.ip;
    }
    const rows = rowsFor(scenario, spec);
    const chosen = chooseRow(rows, bed.target);
    const note = rowChoiceNote(rows, chosen, bed.target);
    out.push({ spec, client, target, dst: `${host}:${spec.port}`, rule: chosen?.rule ?? null, choice: note === null ? null : { by: chosen?.by ?? 'versions', note } });
  }
  return out;
}

function describeWait(pod: PodInfo, what: string, matches: number): string {
  return `wait until ${pod.namespace}/${pod.name}'s config dump shows ${what} (${matches} consecutive matches)`;
}

type Wait = { pod: PodInfo; what: string; predicate: ConfigPredicate };

function errorText(error: unknown): string {
  return isPodpathError(error) ? error.shortMessage : error instanceof Error ? error.message : String(error);
}

/** Waits for each pod's push (bounded), then for each expectation; returns what did not converge. */
async function converge(bed: MeshBed, pushes: Array<{ pod: PodInfo; before: string | null }>, waits: Wait[], options: PipelineOptions): Promise<string[]> {
  const notes: string[] = [];
  for (const p of pushes) {
    bed.plan?.add('wait', `wait up to ${Math.round(options.pushWindowMs / 1000)}s for a config push to reach ${p.pod.namespace}/${p.pod.name} (config dump version changes)`);
    if (bed.plan) continue;
    try {
      await bed.waitForConfig(p.pod, changedFrom(p.before), { timeoutMs: options.pushWindowMs, signal: options.signal });
    } catch (error) {
      if (error instanceof InterruptedError || options.signal?.aborted) throw error;
      // No push within the window: the change does not concern this proxy; the expectation wait below decides.
    }
  }
  for (const w of waits) {
    bed.plan?.add('wait', describeWait(w.pod, w.what, options.convergeMatches));
    try {
      await bed.waitForConfig(w.pod, consecutive(w.predicate, options.convergeMatches), { timeoutMs: options.convergeTimeoutMs, signal: options.signal });
    } catch (error) {
      if (error instanceof InterruptedError || options.signal?.aborted) throw error;
      notes.push(`config did not converge: ${w.what} (${errorText(error)})`);
    }
  }
  return notes;
}

async function versionsOf(bed: MeshBed, pods: PodInfo[]): Promise<Array<{ pod: PodInfo; before: string | null }>> {
  const out: Array<{ pod: PodInfo; before: string | null }> = [];
  for (const pod of pods) out.push({ pod, before: bed.plan ? null : configVersion(await bed.configDump(pod)) });
  return out;
}

interface LogRead {
  client: string;
  server: string;
  entries: AccessLogEntry[];
}

/** Lines each sidecar had logged (since `since`) before the probe: none of them can be the probe's. */
interface EarlierLines {
  client: ReadonlySet<string>;
  server: ReadonlySet<string>;
}

function linesOf(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l !== ''));
}

/** The text without the lines logged before the probe (the evidence keeps the whole text). */
function withoutEarlier(text: string, earlier: ReadonlySet<string> | undefined): string {
  if (!earlier || earlier.size === 0) return text;
  return text.split('\n').filter((l) => !earlier.has(l)).join('\n');
}

/** Both sidecars' log text since `since`; '' for a target without one. */
function sidecarTexts(bed: MeshBed, client: PodInfo, server: PodInfo | null, since: Date): Promise<[string, string]> {
  return Promise.all([bed.sidecarLog(client, since), server ? bed.sidecarLog(server, since) : Promise.resolve('')]);
}

async function readLogs(bed: MeshBed, client: PodInfo, server: PodInfo | null, since: Date, earlier?: EarlierLines | null): Promise<LogRead> {
  const [clientText, serverText] = await sidecarTexts(bed, client, server, since);
  const entries = [
    ...parseLogText(withoutEarlier(clientText, earlier?.client), { source: `${client.namespace}/${client.name}`, pod: client.name }).entries,
    ...(server ? parseLogText(withoutEarlier(serverText, earlier?.server), { source: `${server.namespace}/${server.name}`, pod: server.name }).entries : []),
  ];
  return { client: clientText, server: serverText, entries };
}

/**
 * What both sidecars logged before the probe. `since` reaches back before the probe (the log API
 * filters by whole seconds), and the kernel hands a freed source port to the next socket at once:
 * an earlier connection's entry can carry the probe's downstream_remote_address (or its
 * upstream_local_address), and correlating by address alone would take it for the probe's.
 * null when the logs cannot be read now (the probe goes on; the later reads decide).
 */
async function earlierLines(bed: MeshBed, probe: PlannedProbe, since: Date): Promise<EarlierLines | null> {
  if (bed.plan) {
    bed.plan.add('note', `remember the log lines ${probe.client.namespace}/${probe.client.name}${probe.target ? ` and ${probe.target.namespace}/${probe.target.name}` : ''} already have, so an earlier connection from a reused source port is not taken for the probe's`);
    return null;
  }
  try {
    const [client, server] = await sidecarTexts(bed, probe.client, probe.target, since);
    return { client: linesOf(client), server: linesOf(server) };
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    return null;
  }
}

/** Done when the client entry is there and the server entry is there too, or cannot come. */
function complete(hops: Hops, rule: ExpectationRule | null): boolean {
  if (hops.client === null) return false;
  if (hops.server !== null) return true;
  if (hops.client.upstreamLocalAddress === null) return true;
  return rule?.server === 'absent';
}

async function collectHops(bed: MeshBed, probe: PlannedProbe, results: ProbeResult[], since: Date, earlier: EarlierLines | null, options: PipelineOptions): Promise<{ hops: Array<Hops | null>; logs: LogRead | null }> {
  if (bed.plan) {
    await readLogs(bed, probe.client, probe.target, since);
    return { hops: [], logs: null };
  }
  const deadline = performance.now() + options.logDeadlineMs;
  // Sidecars flush access logs on their own schedule: re-read on the shared backoff until the entries appear.
  const schedule = { initialMs: options.logBackoffMs, factor: 2, maxMs: 1000 };
  let logs: LogRead | null = null;
  for (let n = 0; ; n++) {
    try {
      logs = await readLogs(bed, probe.client, probe.target, since, earlier);
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      logs = null;
    }
    const hops = results.map((r) => (logs && r.localAddress ? correlate(logs.entries, r.localAddress) : null));
    const done = hops.every((h, i) => results[i].localAddress === null || (h !== null && complete(h, probe.rule)));
    const delay = delayFor(schedule, n);
    if (done || performance.now() + delay > deadline) return { hops, logs };
    await pause(delay, options.signal);
  }
}

/**
 * Before HTTP probes in another mTLS mode than the bed's last ones: wait until each client sidecar's
 * PassthroughCluster holds no host for the probe's destination, so no probe rides a pooled upstream
 * connection opened under the other mode. Returns what was done, per probe, for its notes.
 */
async function dropPooledConnections(bed: MeshBed, planned: PlannedProbe[], mode: MtlsMode, options: PipelineOptions): Promise<Map<PlannedProbe, string>> {
  const notes = new Map<PlannedProbe, string>();
  const http = planned.filter((p) => p.spec.protocol === 'http' && p.target !== null);
  if (http.length === 0) return notes;
  const history = options.mtlsHistory ?? new MtlsHistory();
  const { drain, from } = history.switchTo(mode);
  if (!drain) return notes;
  try {
    return await waitForPoolsToDrain(bed, http, from, mode, options, notes);
  } catch (error) {
    history.forget();
    throw error;
  }
}

async function waitForPoolsToDrain(bed: MeshBed, http: PlannedProbe[], from: MtlsMode | 'unknown', mode: MtlsMode, options: PipelineOptions, notes: Map<PlannedProbe, string>): Promise<Map<PlannedProbe, string>> {
  const change = `mTLS ${from === 'unknown' ? 'of earlier HTTP probes unknown' : `was ${from}`}, now ${mode}`;
  const done = new Map<string, string>();
  for (const p of http) {
    const key = `${p.client.namespace}/${p.client.name} ${p.dst}`;
    const known = done.get(key);
    if (known !== undefined) {
      notes.set(p, known);
      continue;
    }
    let note: string;
    if (bed.plan) {
      await bed.sidecarClusters(p.client);
      bed.plan.add('wait', `repeat until ${p.client.namespace}/${p.client.name}'s PassthroughCluster lists no host ${p.dst} (its pooled upstream connections are closed), up to ${Math.round(options.poolDrainTimeoutMs / 1000)}s`);
      note = `${change}: would wait until the client sidecar's PassthroughCluster lists no host ${p.dst}`;
    } else {
      const started = performance.now();
      const deadline = started + options.poolDrainTimeoutMs;
      const schedule = { initialMs: 100, factor: 2, maxMs: 1000 };
      let polls = 0;
      let seen = false;
      let lastError: string | null = null;
      for (;;) {
        let present: boolean | null;
        try {
          present = passthroughHosts(await bed.sidecarClusters(p.client)).includes(envoyAddress(p.target!.ip, p.spec.port));
          lastError = null;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          present = null;
          lastError = errorText(error);
        }
        polls++;
        if (present === true) seen = true;
        if (present === false) break;
        const delay = delayFor(schedule, polls - 1);
        if (performance.now() + delay > deadline) {
          throw new Error(`the client sidecar of ${p.client.namespace}/${p.client.name} still ${lastError ? `could not be asked for its clusters (${lastError})` : `holds PassthroughCluster host ${p.dst}`} after ${Math.round(options.poolDrainTimeoutMs / 1000)}s (${change}): the probe could ride a pooled upstream connection opened under the other mode`);
        }
        await pause(delay, options.signal);
      }
      const waited = ((performance.now() - started) / 1000).toFixed(1);
      note = seen
        ? `${change}: waited ${waited}s (${polls} reads of pilot-agent request GET clusters) until the client sidecar's PassthroughCluster dropped host ${p.dst} and its pooled upstream connections`
        : `${change}: the client sidecar's PassthroughCluster held no host ${p.dst}, so no pooled upstream connection could be reused`;
    }
    done.set(key, note);
    notes.set(p, note);
  }
  return notes;
}

export async function runAttempt(bed: MeshBed, scenario: Scenario, attempt: number, options: PipelineOptions): Promise<AttemptResult> {
  const started = performance.now();
  const timings: PhaseTimings = { total: 0 };
  const evidence = new Map<string, string>();
  const extras = extrasFor(scenario);
  const applied: string[] = [];
  const reports: ProbeReport[] = [];
  const prefix = `${bed.target.istio}${Object.keys(bed.target.pilotEnv).length ? `-${Object.entries(bed.target.pilotEnv).map(([k, v]) => `${k}=${v}`).join('-')}` : ''}/${scenario.id}/attempt-${attempt}`;
  const time = async <T>(phase: Exclude<keyof PhaseTimings, 'total'>, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[phase] = Math.round((timings[phase] ?? 0) + performance.now() - t0);
    }
  };
  let error: string | null = null;
  let failed = false;
  let planned: PlannedProbe[] = [];
  const strict = scenario.mesh?.mtls === 'STRICT';
  const serverWaits = (rejected: boolean) =>
    planned.filter((p) => p.target !== null).map((p) => ({ pod: p.target!, what: `plaintext to ${p.dst} ${rejected ? 'rejected (STRICT mTLS)' : 'accepted'} on the server`, predicate: strictPredicate(p.dst, rejected) }));
  const before = new Map<PlannedProbe, string>();
  let convergeNotes: string[] = [];
  const pushPods = () => {
    const pods = new Map<string, PodInfo>();
    for (const p of planned) {
      pods.set(p.client.name, p.client);
      if (strict && p.target) pods.set(p.target.name, p.target);
    }
    return [...pods.values()];
  };
  try {
    planned = await resolveProbes(bed, scenario);
    bed.plan?.add('note', `scenario ${scenario.id}: ${scenario.title}`);
    if (extras.length > 0) {
      // What the client predicts now: after cleanup the bed must predict it again.
      for (const p of planned) {
        if (bed.plan) {
          bed.plan.add('api', `read ${p.client.namespace}/${p.client.name}'s config dump: explain ${p.dst} before the extras`);
          before.set(p, 'what it predicted before the extras');
          continue;
        }
        const e = explainSafely(await bed.configDump(p.client), { dst: p.dst });
        if (e) before.set(p, e.verdict);
      }
    }
    const versions = extras.length > 0 ? await versionsOf(bed, pushPods()) : [];
    await time('apply', async () => {
      for (const extra of extras) {
        options.signal?.throwIfAborted();
        bed.plan?.add('note', `apply extra ${extra} (manifests/extras/${extra}.yaml)`);
        applied.push(extra);
        await bed.apply(extra, { signal: options.signal });
      }
    });
    await time('converge', async () => {
      const waits = planned.filter((p) => p.rule?.explain !== undefined).map((p) => ({ pod: p.client, what: `explain ${p.dst} → ${p.rule!.explain}`, predicate: verdictPredicate(p.dst, p.rule!.explain!) }));
      if (scenario.mesh?.mtls) waits.push(...serverWaits(strict));
      convergeNotes = await converge(bed, versions, waits, options);
    });
    const poolNotes = await time('converge', () => dropPooledConnections(bed, planned, scenario.mesh?.mtls ?? 'PERMISSIVE', options));
    const predictions = new Map<PlannedProbe, Explanation | null>();
    for (const p of planned) predictions.set(p, bed.plan ? null : explainSafely(await bed.configDump(p.client), { dst: p.dst }));

    const since = new Date(Date.now() - 2000);
    const earlier = await time('logs', () => Promise.all(planned.map((p) => earlierLines(bed, p, since))));
    const timeoutMs = probeTimeoutMs(bed, options.probeMarginMs);
    const results = await time('probe', () =>
      Promise.all(planned.map((p) => {
        const request: ProbeRequest = { target: p.dst, protocol: p.spec.protocol, timeoutMs, count: p.spec.count ?? 1 };
        if (p.spec.httpHost) request.httpHost = p.spec.httpHost;
        return bed.probe(p.client, request, { signal: options.signal }).then((answer) =>
          // A dry run observes nothing by design; a live answer must describe every connection asked for.
          (bed.plan ? answer : checkProbeAnswer(request, answer, `${p.client.namespace}/${p.client.name}`)));
      })));

    const collected = await time('logs', () => Promise.all(planned.map((p, i) => collectHops(bed, p, results[i], since, earlier[i], options))));
    if (bed.plan) {
      for (const p of planned) bed.plan.add('note', `compare ${p.spec.name} with: ${describeRule(p.rule)}`);
    }
    planned.forEach((p, i) => {
      const prediction = predictions.get(p) ?? null;
      const observations: Observation[] = results[i].map((result, k) => ({
        result,
        hops: collected[i].hops[k] ?? null,
        targetPod: p.target ? `${p.target.namespace}/${p.target.name}` : null,
        explain: prediction ? { verdict: prediction.verdict, steps: prediction.steps } : null,
      }));
      const evaluations = observations.map((o) => (p.rule ? evaluate(p.rule, o) : { verdict: 'observe' as const, mismatches: [`no expectation row covers Istio ${bed.target.istio}`] }));
      const mismatches = evaluations.flatMap((e, k) => e.mismatches.map((m) => (observations.length > 1 ? `attempt ${k + 1}: ${m}` : m)));
      let verdict: ProbeReport['verdict'] = evaluations.some((e) => e.verdict === 'fail') ? 'fail' : evaluations.length > 0 && evaluations.every((e) => e.verdict === 'observe') ? 'observe' : bed.plan ? 'observe' : 'pass';
      if (observations.length === 0 && !bed.plan) {
        // Nothing observed is never a pass.
        verdict = 'fail';
        mismatches.push('no connection was observed (the probe returned no results)');
      }
      const notes = convergeNotes.filter((n) => n.includes(p.dst));
      if (notes.length) {
        mismatches.unshift(...notes);
        if (verdict === 'pass') verdict = 'fail';
      }
      reports.push({
        name: p.spec.name,
        from: { workload: p.spec.from, pod: `${p.client.namespace}/${p.client.name}`, ip: p.client.ip },
        to: { target: p.dst, pod: p.target ? `${p.target.namespace}/${p.target.name}` : null, port: p.spec.port, protocol: p.spec.protocol },
        expected: toExpectedPath(p.rule),
        observed: observations.map(toObservedPath),
        prediction: prediction ? { verdict: prediction.verdict, steps: prediction.steps } : null,
        verdict,
        mismatches,
        ...(p.choice ? { rowChosenBy: p.choice.by } : {}),
        ...(poolNotes.has(p) || p.choice ? { notes: [...(p.choice ? [p.choice.note] : []), ...(poolNotes.has(p) ? [poolNotes.get(p)!] : [])] } : {}),
      });
    });
    failed = reports.some((r) => r.verdict === 'fail');
    if (failed) {
      await time('evidence', () => collectEvidence(bed, planned, reports, collected.map((c) => c.logs), predictions, prefix, evidence));
      await options.onFailure?.(scenario, reports);
    }
  } catch (caught) {
    if (caught instanceof InterruptedError || options.signal?.aborted) {
      await cleanup(bed, applied, before, options, strict ? serverWaits(false) : [], pushPods()).catch(() => {});
      throw caught instanceof InterruptedError ? caught : new InterruptedError('interrupted', { cause: caught });
    }
    failed = true;
    error = isPodpathError(caught) ? caught.shortMessage : caught instanceof Error ? caught.message : String(caught);
  }
  let kept: string[] = [];
  if (failed && options.keepOnFailure && applied.length > 0) {
    kept = [...applied];
  } else {
    try {
      await time('cleanup', () => cleanup(bed, applied, before, options, strict ? serverWaits(false) : [], pushPods()));
    } catch (caught) {
      if (caught instanceof InterruptedError) throw caught;
      failed = true;
      error = [error, `cleanup: ${isPodpathError(caught) ? caught.shortMessage : caught instanceof Error ? caught.message : String(caught)}`].filter(Boolean).join('; ');
    }
  }
  timings.total = Math.round(performance.now() - started);
  // A scenario passes only on what was observed: no probe report, or a probe without observations, is no pass.
  const observedNothing = !bed.plan && (reports.length === 0 || reports.some((r) => r.observed.length === 0));
  if (observedNothing && !failed) {
    failed = true;
    error ??= 'no connection was observed';
  }
  // Some probes judged and passed, others only observed: the scenario as a whole was not checked, so it is not 'passed'.
  const observedOnly = reports.filter((r) => r.verdict === 'observe').length;
  const status = failed ? 'failed' : observedOnly > 0 && observedOnly === reports.length ? 'observed' : observedOnly > 0 ? 'partial' : 'passed';
  return { status, probes: reports, timings, evidence, error, kept };
}

/** Removes what was applied (newest first, without the abort signal) and waits for the old prediction. */
async function cleanup(bed: MeshBed, applied: string[], before: Map<PlannedProbe, string>, options: PipelineOptions, serverWaits: Wait[], pods: PodInfo[]): Promise<void> {
  if (applied.length === 0) return;
  const versions = await versionsOf(bed, pods);
  for (const extra of [...applied].reverse()) {
    bed.plan?.add('note', `remove extra ${extra}`);
    await bed.remove(extra);
  }
  applied.length = 0;
  const waits = [...before].map(([p, verdict]) => ({ pod: p.client, what: `explain ${p.dst} → ${verdict} again`, predicate: verdictPredicate(p.dst, verdict) }));
  // Mesh-wide STRICT is undone only once plaintext is accepted again.
  const notes = await converge(bed, versions, [...waits, ...serverWaits], { ...options, signal: undefined });
  if (notes.length) throw new Error(`the bed did not return to its state before the scenario: ${notes.join('; ')}`);
}

function describeRule(rule: ExpectationRule | null): string {
  if (rule === null) return 'no expectation row (observe)';
  const parts = [`outcome ${rule.outcome}`];
  if (rule.client) parts.push(`client ${rule.client.name ?? rule.client.cluster}${rule.client.flags ? ` flags ${rule.client.flags.join(',') || '-'}` : ''}`);
  if (rule.server) parts.push(rule.server === 'absent' ? 'no server entry' : `server ${rule.server.name ?? rule.server.cluster ?? ''} ${rule.server.flags?.join(',') ?? ''}`.trim());
  if (rule.explain) parts.push(`explain ${rule.explain}`);
  if (rule.observe) parts.push(`(observe: ${rule.observe})`);
  return parts.join('; ');
}

async function collectEvidence(
  bed: MeshBed,
  planned: PlannedProbe[],
  reports: ProbeReport[],
  logs: Array<LogRead | null>,
  predictions: Map<PlannedProbe, Explanation | null>,
  prefix: string,
  evidence: Map<string, string>,
): Promise<void> {
  for (const [i, p] of planned.entries()) {
    if (reports[i].verdict !== 'fail') continue;
    const slug = reports[i].name.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
    const base = `${prefix}/${slug}`;
    const read = logs[i];
    evidence.set(`${base}/client-sidecar.log`, read?.client || `(no log lines from ${p.client.namespace}/${p.client.name} istio-proxy since the probe)\n`);
    if (p.target) evidence.set(`${base}/server-sidecar.log`, read?.server || `(no log lines from ${p.target.namespace}/${p.target.name} istio-proxy since the probe)\n`);
    const prediction = predictions.get(p) ?? null;
    const explainText = prediction
      ? [`explain ${p.dst} on ${p.client.namespace}/${p.client.name}: ${prediction.verdict}`, ...prediction.steps.map((s) => `  - ${s}`),
        `listener: ${prediction.listener ?? '-'}`, `filter chain: ${prediction.filterChain ? JSON.stringify(prediction.filterChain) : '-'}`,
        `route: ${prediction.route ? JSON.stringify(prediction.route) : '-'}`, `cluster: ${prediction.cluster ? JSON.stringify(prediction.cluster) : '-'}`,
        ...(prediction.missing.length ? [`missing from the dump: ${prediction.missing.join(', ')}`] : [])].join('\n')
      : `no prediction: the config dump of ${p.client.namespace}/${p.client.name} could not be read`;
    evidence.set(`${base}/explain.txt`, `${explainText}\n\nmismatches:\n${reports[i].mismatches.map((m) => `  - ${m}`).join('\n')}\n`);
    const events: string[] = [];
    for (const pod of [p.client, p.target].filter((x): x is PodInfo => x !== null)) {
      const list = await bed.events(pod).catch((e: unknown) => [`(events unavailable: ${e instanceof Error ? e.message : String(e)})`]);
      events.push(`# ${pod.namespace}/${pod.name}`, ...(list.length ? list : ['(no events)']));
    }
    evidence.set(`${base}/events.txt`, `${events.join('\n')}\n`);
  }
}
