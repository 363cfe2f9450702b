/**
 * predict: for each Istio minor, istiod's config for one sidecar (through the DumpGenerator seam),
 * explain on it for each destination, and what changes from one version to the next. No CLI here:
 * the command renders what this returns.
 */
import { EnvironmentError, InterruptedError, isPodpathError } from '../errors/index.ts';
import { explain, loadConfigDump, type Explanation, type Verdict } from '../envoy/index.ts';
import type { DumpGenerator, OracleAvailability } from '../oracle/types.ts';
import { oracleIstioVersion, oracleVersion } from '../../oracle/versions.ts';
import { diffSummaries, summarizeSidecar, type Change, type SidecarSummary } from './changes.ts';
import { evidenceOf, type Evidence } from './evidence.ts';
import type { Destination, PredictModel } from './model.ts';
import type { SelectedMinor } from './versions.ts';

export interface VersionStatus {
  minor: string;
  release: string;
  /** predicted: istiod's config was generated and explained; the others are rows with a reason. */
  status: 'predicted' | 'unavailable' | 'not-built' | 'failed';
  reason?: string;
  /** Seconds the generation took (build included), for the user's sense of cost. */
  seconds?: number;
}

export interface PredictionRow {
  minor: string;
  verdict: Verdict;
  listener: string | null;
  filterChain: string | null;
  cluster: string | null;
  evidence: Evidence;
  /** Fields that differ from the first predicted version's row (empty: same). */
  differs: string[];
  explanation: Explanation;
}

export interface DestinationPrediction {
  destination: Destination;
  rows: PredictionRow[];
}

export interface Prediction {
  versions: VersionStatus[];
  destinations: DestinationPrediction[];
  /** Only with `changes: true`. */
  changes: Change[];
  /** Some destination's verdict differs between two consecutive predicted versions. */
  verdictChanged: boolean;
}

export interface PredictRequest {
  model: PredictModel;
  minors: readonly SelectedMinor[];
  destinations: readonly Destination[];
  generator: DumpGenerator;
  offlineOnly?: boolean;
  changes?: boolean;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export const GO_HINT = [
  'predict runs istiod\'s own config generation, built with Go the first time a version is used (then cached).',
  'Install Go 1.22 or newer (https://go.dev/doc/install, or your package manager: apt-get install golang-go)',
  'and make sure `go` is on PATH; the build needs the Go module proxy. --offline-only uses built versions only.',
].join('\n');

function chainLabel(e: Explanation): string | null {
  const c = e.filterChain;
  if (!c) return null;
  if (c.name) return c.name;
  return c.index < 0 ? 'default_filter_chain' : `#${c.index}`;
}

function rowOf(minor: string, e: Explanation, evidence: Evidence): PredictionRow {
  return { minor, verdict: e.verdict, listener: e.listener, filterChain: chainLabel(e), cluster: e.cluster?.name ?? null, evidence, differs: [], explanation: e };
}

const COMPARED = ['verdict', 'listener', 'filterChain', 'cluster', 'evidence'] as const;

function differences(a: PredictionRow, b: PredictionRow): string[] {
  return COMPARED.filter((k) => (k === 'evidence' ? a.evidence.text !== b.evidence.text : a[k] !== b[k]));
}

/** What would make a minor available, when the generator says (the seam's optional `hint`). */
function hintOf(a: OracleAvailability): string | undefined {
  const hint = (a as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

function describeAvailability(minor: string, a: OracleAvailability): string {
  return a.state === 'ready' ? `${minor} is ready` : `${minor}: ${a.reason}`;
}

export async function predict(request: PredictRequest): Promise<Prediction> {
  const { model, generator, signal } = request;
  const checked: Array<{ minor: string; explicit: boolean; release: string; availability: OracleAvailability }> = [];
  for (const m of request.minors) {
    // The Istio version the proxy reports and version rules read: a branch build's label is not one.
    const known = oracleVersion(m.minor);
    const release = known ? oracleIstioVersion(known) : `${m.minor}.0`;
    checked.push({ ...m, release, availability: await generator.availability(m.minor) });
  }
  // A minor asked for by name that cannot be answered is an error: a table without it would look like an answer.
  for (const c of checked.filter((x) => x.explicit)) {
    if (c.availability.state === 'unavailable') throw new EnvironmentError(`predict: Istio ${c.minor} cannot be generated here: ${c.availability.reason}`, { hint: hintOf(c.availability) ?? (/\bgo\b/i.test(c.availability.reason) ? GO_HINT : 'Name other minors, or a range (its rows say why a minor is missing).') });
    if (c.availability.state === 'buildable' && request.offlineOnly) throw new EnvironmentError(`predict: Istio ${c.minor} is not built yet and --offline-only was given`, { hint: `Run once without --offline-only to build it (${c.availability.reason}).` });
  }
  const usable = checked.filter((c) => c.availability.state === 'ready' || (c.availability.state === 'buildable' && !request.offlineOnly));
  if (usable.length === 0) {
    const reasons = checked.map((c) => `  ${describeAvailability(c.minor, c.availability)}`).join('\n');
    const needGo = checked.some((c) => c.availability.state !== 'ready' && /\bgo\b/i.test(c.availability.reason));
    const hints = [...new Set(checked.map((c) => hintOf(c.availability)).filter((h): h is string => h !== undefined))];
    throw new EnvironmentError(`predict: none of the selected Istio versions can be generated here${request.offlineOnly ? ' without building (--offline-only)' : ''}:\n${reasons}`, { hint: needGo || request.offlineOnly ? GO_HINT : hints.join('\n') || undefined });
  }

  const versions: VersionStatus[] = [];
  const perVersion: Array<{ minor: string; release: string; rows: PredictionRow[]; summary: SidecarSummary | null }> = [];
  const key = `${model.client.name}.${model.client.namespace}`;
  for (const c of checked) {
    if (signal?.aborted) throw new InterruptedError('predict: interrupted');
    const a = c.availability;
    if (a.state === 'unavailable') {
      versions.push({ minor: c.minor, release: c.release, status: 'unavailable', reason: a.reason });
      continue;
    }
    if (a.state === 'buildable' && request.offlineOnly) {
      versions.push({ minor: c.minor, release: c.release, status: 'not-built', reason: `not built yet (--offline-only): ${a.reason}` });
      continue;
    }
    if (a.state === 'buildable') request.onProgress?.(`${c.minor}: ${a.reason}`);
    const started = performance.now();
    let configs: unknown;
    try {
      const out = await generator.generate({
        minor: c.minor,
        input: model.input(c.release),
        pilotEnv: model.pilotEnv,
        signal,
        onProgress: request.onProgress ? (line) => request.onProgress!(`${c.minor}: ${line}`) : undefined,
      });
      configs = out.dumps[key];
      if (!configs) throw new Error(`istiod printed no config for ${key}`);
    } catch (error) {
      if (signal?.aborted) throw new InterruptedError('predict: interrupted', { cause: error });
      const reason = error instanceof Error ? error.message : String(error);
      if (c.explicit) throw isPodpathError(error) ? error : new EnvironmentError(`predict: generating Istio ${c.minor} failed: ${reason}`);
      versions.push({ minor: c.minor, release: c.release, status: 'failed', reason });
      continue;
    }
    const dump = loadConfigDump(configs);
    const rows = request.destinations.map((d) => {
      const e = explain(dump, { dst: d.dst, ...(d.host !== undefined ? { host: d.host } : {}) });
      return rowOf(c.minor, e, evidenceOf(e, model.cluster, model.client.namespace, d.host !== undefined));
    });
    perVersion.push({ minor: c.minor, release: c.release, rows, summary: request.changes ? summarizeSidecar(dump) : null });
    versions.push({ minor: c.minor, release: c.release, status: 'predicted', seconds: Math.round((performance.now() - started) / 100) / 10 });
  }

  const destinations: DestinationPrediction[] = request.destinations.map((destination, i) => {
    const rows = perVersion.map((v) => v.rows[i]);
    for (const r of rows.slice(1)) r.differs = differences(rows[0], r);
    return { destination, rows };
  });
  let verdictChanged = false;
  for (const d of destinations) for (let i = 1; i < d.rows.length; i++) if (d.rows[i].verdict !== d.rows[i - 1].verdict) verdictChanged = true;

  const changes: Change[] = [];
  if (request.changes) {
    const index = { cluster: model.cluster, serviceEntries: model.serviceEntries };
    for (let i = 1; i < perVersion.length; i++) {
      const [a, b] = [perVersion[i - 1], perVersion[i]];
      changes.push(...diffSummaries(index, { minor: a.minor, release: a.release, summary: a.summary! }, { minor: b.minor, release: b.release, summary: b.summary! }, model.pilotEnv));
      for (const d of destinations) {
        const [ra, rb] = [d.rows[i - 1], d.rows[i]];
        if (ra.verdict !== rb.verdict || ra.cluster !== rb.cluster) {
          changes.push({
            minor: b.minor, since: a.minor, kind: 'verdict', subject: d.destination.dst, change: 'changed',
            text: `${b.minor}: ${d.destination.given} is ${rb.verdict} via ${rb.cluster ?? '-'} (${rb.evidence.text}); ${a.minor}: ${ra.verdict} via ${ra.cluster ?? '-'} (${ra.evidence.text})`,
          });
        }
      }
    }
  }
  return { versions, destinations, changes, verdictChanged };
}
