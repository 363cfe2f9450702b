/** Human and JSON output of a prediction. Pure: colour comes in as a function (identity when off). */
import type { IncidentPrediction } from './incident.ts';
import type { PredictModel } from './model.ts';
import type { Prediction, PredictionRow, VersionStatus } from './predict.ts';

export type Paint = (style: 'bold' | 'yellow' | 'dim' | 'red' | 'green', text: string) => string;
const plain: Paint = (_s, t) => t;

export function addressLines(model: PredictModel): string[] {
  const out: string[] = [];
  const pods = model.cluster.pods;
  const podWidth = Math.max(0, ...pods.map((p) => `${p.namespace}/${p.name}`.length));
  for (const p of pods) {
    out.push(`  pod      ${`${p.namespace}/${p.name}`.padEnd(podWidth)}  ${p.ip.padEnd(15)}  ${p.ipGiven ? 'given' : 'assigned'}${p.injected ? '' : ', no sidecar'}`);
  }
  const services = model.cluster.services.filter((s) => !s.platform);
  const svcWidth = Math.max(0, ...services.map((s) => `${s.namespace}/${s.name}`.length));
  for (const s of services) {
    const ip = s.type === 'ExternalName' ? `ExternalName → ${s.externalName ?? '?'}` : s.clusterIP === 'None' ? 'headless (no cluster IP)' : `${(s.clusterIP ?? '').padEnd(15)}  ${s.ipAssigned ? 'assigned' : 'given'}`;
    out.push(`  service  ${`${s.namespace}/${s.name}`.padEnd(svcWidth)}  ${ip}`);
  }
  return out;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

function statusWords(v: VersionStatus): string {
  return v.status === 'not-built' ? 'not built (--offline-only)' : v.status === 'failed' ? 'generation failed' : 'cannot be generated here';
}

function shortStatus(v: VersionStatus): string {
  return v.status === 'not-built' ? '(not built)' : v.status === 'failed' ? '(failed)' : '(not generated)';
}

export function renderPrediction(model: PredictModel, prediction: Prediction, options: { paint?: Paint; minorsText: string; files: number; documents: number; changes: boolean }): string {
  const paint = options.paint ?? plain;
  const c = model.client;
  const out: string[] = [];
  out.push(paint('bold', `predict: ${c.namespace}/${c.workload} (sidecar of pod ${c.name}, ${c.ip}), istiod ${options.minorsText}`));
  out.push(`manifests: ${options.files} file${options.files === 1 ? '' : 's'}, ${options.documents} object${options.documents === 1 ? '' : 's'}${model.cluster.ignored.length ? `; not modelled: ${model.cluster.ignored.join(', ')}` : ''}`);
  out.push(`mesh config: ${model.mesh.description}`);
  const env = Object.entries(model.pilotEnv).map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`istiod env: ${env || '(none)'}`);
  out.push('', paint('bold', 'Addresses (kind-like; assigned by podpath where the manifests give none)'), ...addressLines(model));

  const predicted = prediction.versions.filter((v) => v.status === 'predicted');
  const missing = prediction.versions.filter((v) => v.status !== 'predicted');
  const first = predicted[0]?.minor;
  for (const d of prediction.destinations) {
    const byMinor = new Map(d.rows.map((r) => [r.minor, r] as const));
    const proto = d.destination.host !== undefined ? `HTTP, Host ${d.destination.host}` : 'TCP';
    out.push('', paint('bold', `${c.namespace}/${c.workload} → ${d.destination.given}${d.destination.given !== d.destination.dst ? ` (${d.destination.dst})` : ''}, ${proto}`));
    if (d.destination.resolved) out.push(`  ${d.destination.resolved}`);
    const rows: string[][] = [['', 'ISTIO', 'VERDICT', 'LISTENER', 'CHAIN', 'CLUSTER', 'SIDECAR LOG (code flags cluster)']];
    const styles: Array<'yellow' | 'dim' | null> = [null];
    for (const v of prediction.versions) {
      const r: PredictionRow | undefined = byMinor.get(v.minor);
      if (!r) {
        rows.push(['', v.minor, shortStatus(v), '', '', '', '']);
        styles.push('dim');
        continue;
      }
      const mark = r.differs.length ? '*' : '';
      rows.push([mark, v.minor, r.verdict, r.listener ?? '-', r.filterChain ?? '-', r.cluster ?? '-', r.evidence.text]);
      styles.push(r.differs.length ? 'yellow' : null);
    }
    const lines = table(rows);
    out.push(paint('dim', `  ${lines[0]}`));
    for (let i = 1; i < lines.length; i++) out.push(styles[i] ? `  ${paint(styles[i]!, lines[i])}` : `  ${lines[i]}`);
    const differing = d.rows.filter((r) => r.differs.length);
    if (first && differing.length) out.push(`  * differs from ${first}: ${differing.map((r) => `${r.minor} (${r.differs.join(', ')})`).join('; ')}`);
    else if (first && d.rows.length > 1) out.push(`  every generated version gives the same path as ${first}`);
    for (const r of d.rows) if (r.evidence.flags.length && r.evidence.flags[0] !== '?') out.push(`  ${r.minor}: ${r.evidence.text}: ${r.evidence.why}`);
  }
  if (prediction.destinations.length === 0 && !options.changes) out.push('', 'no destinations given (--dst, --dst-from-logs)');

  if (options.changes) {
    out.push('', paint('bold', 'Changes between consecutive generated versions'));
    if (predicted.length < 2) out.push('  (fewer than two versions were generated: nothing to compare)');
    else if (prediction.changes.length === 0) out.push(`  none among listeners, catch-all ports and outbound clusters from ${predicted[0].minor} to ${predicted.at(-1)!.minor}`);
    const groups = new Map<string, typeof prediction.changes>();
    for (const ch of prediction.changes) groups.set(`${ch.since} ${ch.minor}`, [...(groups.get(`${ch.since} ${ch.minor}`) ?? []), ch]);
    for (const [pair, items] of groups) {
      const [since, minor] = pair.split(' ');
      const skipped = prediction.versions.filter((v) => v.status !== 'predicted' && versionBetween(prediction.versions, v.minor, since, minor)).map((v) => v.minor);
      out.push(`  ${paint('bold', `${since} → ${minor}`)}${skipped.length ? ` (${skipped.join(', ')} between them not generated)` : ''}`);
      for (const ch of items) out.push(`    ${ch.kind === 'verdict' ? paint('yellow', ch.text) : ch.text}`);
    }
  }
  if (missing.length) {
    out.push('', paint('bold', 'Versions not generated here'));
    for (const v of missing) out.push(`  ${v.minor}: ${statusWords(v)}: ${v.reason ?? ''}`);
  }
  return `${out.join('\n')}\n`;
}

function versionBetween(all: readonly VersionStatus[], minor: string, lo: string, hi: string): boolean {
  const i = all.findIndex((v) => v.minor === minor);
  return i > all.findIndex((v) => v.minor === lo) && i < all.findIndex((v) => v.minor === hi);
}

/** --json: everything the table shows, plus explain's steps per row. */
export function predictionJson(model: PredictModel, prediction: Prediction, changes: boolean): unknown {
  const c = model.client;
  return {
    from: { namespace: c.namespace, workload: c.workload, pod: c.name, ip: c.ip },
    meshConfig: model.mesh.description,
    pilotEnv: model.pilotEnv,
    inputsHash: model.inputsHash,
    addresses: {
      pods: model.cluster.pods.map((p) => ({ namespace: p.namespace, name: p.name, workload: p.workload, ip: p.ip, assigned: !p.ipGiven, sidecar: p.injected })),
      services: model.cluster.services.filter((s) => !s.platform).map((s) => ({ namespace: s.namespace, name: s.name, type: s.type, clusterIP: s.clusterIP, assigned: s.ipAssigned, externalName: s.externalName })),
    },
    notModelled: model.cluster.ignored,
    versions: prediction.versions,
    destinations: prediction.destinations.map((d) => ({
      ...d.destination,
      rows: d.rows.map((r) => ({ minor: r.minor, verdict: r.verdict, listener: r.listener, filterChain: r.filterChain, cluster: r.cluster, evidence: r.evidence, differsFromFirst: r.differs, steps: r.explanation.steps, missing: r.explanation.missing })),
    })),
    ...(changes ? { changes: prediction.changes } : {}),
    verdictChanged: prediction.verdictChanged,
  };
}

/** The repro report's section: what the incident's Istio version would do, or why that is not known. */
export function renderIncidentPrediction(p: IncidentPrediction): string[] {
  if (!p.answered) return [`  not predicted: ${p.why}`];
  const row = p.prediction.destinations[0]?.rows[0];
  const c = p.model.client;
  if (!row) return [`  not predicted: ${p.prediction.versions[0]?.reason ?? 'istiod gave no config'}`];
  return [
    `  ${c.namespace}/${c.workload} (pod ${c.name}, ${c.ip}) → ${p.destination.dst}${p.destination.resolved ? ` (${p.destination.resolved})` : ''}, on the bed with the incident's manifests`,
    `  istiod ${p.minor}: ${row.verdict} via listener ${row.listener ?? '-'}, chain ${row.filterChain ?? '-'}, cluster ${row.cluster ?? '-'}`,
    `  the client sidecar would log: ${row.evidence.text}${row.evidence.why ? ` (${row.evidence.why})` : ''}`,
  ];
}

export function incidentPredictionJson(p: IncidentPrediction): unknown {
  if (!p.answered) return { minor: p.minor, predicted: false, why: p.why };
  const row = p.prediction.destinations[0]?.rows[0];
  return {
    minor: p.minor,
    predicted: row !== undefined,
    from: { namespace: p.model.client.namespace, pod: p.model.client.name, ip: p.model.client.ip },
    destination: p.destination,
    ...(row ? { verdict: row.verdict, listener: row.listener, filterChain: row.filterChain, cluster: row.cluster, evidence: row.evidence, steps: row.explanation.steps } : { why: p.prediction.versions[0]?.reason }),
  };
}
