/**
 * The report model: what every human-facing renderer (summary.md, report.html, the matrix and
 * the HTML diff) says about a run, computed once from report.json so the Markdown and the HTML
 * never disagree on a status, a headline, or on which hop a connection went wrong.
 */
import type { ExpectedPath, ObservedPath, PathSide, ProbeReport, ProbeVerdict, RunReport, ScenarioReport, ScenarioStatus, TargetReport, Totals } from './schema.ts';
import { countStatuses, dialled, failureHeadline, formatFlags, formatTotals, probeTarget, recorded, formatMtls, formatFeatures, versionLabel } from './format.ts';

export type RunVerdict = 'passed' | 'failed' | 'interrupted';

/** The four places a probe's connection can be seen, in the order it travels. */
export type HopRole = 'client-app' | 'client-sidecar' | 'server-sidecar' | 'server-app';
export const HOP_TITLES: Record<HopRole, string> = {
  'client-app': 'client app',
  'client-sidecar': 'client sidecar',
  'server-sidecar': 'server sidecar',
  'server-app': 'server app',
};

export interface Hop {
  role: HopRole;
  title: string;
  /** Detail lines: cluster, flags, details, who answered. */
  lines: string[];
  /** False for the first hop with no evidence: the path is drawn up to it and stops there. */
  reached: boolean;
  /** Mismatch sentences that belong to this hop (empty when it matched or was not checked). */
  mismatches: string[];
}

export interface ConnectionModel {
  /** From the client app up to and including the first hop without evidence. */
  hops: Hop[];
  /** The hop where evidence stops, null when the connection reached the server app. */
  stoppedAt: HopRole | null;
  outcome: string;
  logLines: { side: 'client' | 'server'; line: string }[];
  /** The observed connection as report.json holds it, for the evidence view. */
  raw: ObservedPath;
}

export interface ProbeModel {
  anchor: string;
  name: string;
  target: string;
  verdict: ProbeVerdict;
  mismatches: string[];
  /** Mismatches no hop owns (explain's prediction, unreadable logs). */
  otherMismatches: string[];
  expected: Hop[];
  connections: ConnectionModel[];
  prediction: ProbeReport['prediction'];
  /** The first hop that went wrong in the first failing connection, for the "failed on which hop" line. */
  failedHop: HopRole | null;
  raw: ProbeReport;
}

export interface ScenarioModel {
  anchor: string;
  id: string;
  title: string;
  seed: string | null;
  status: ScenarioStatus;
  /** Why it did not pass, or the skip reason; '' when it passed. */
  note: string;
  /** The one sentence a matrix cell shows on hover or focus. */
  headline: string;
  error: string | null;
  skipReason: string | null;
  attempts: ScenarioReport['attempts'];
  durationMs: number;
  evidence: string[];
  probes: ProbeModel[];
}

export interface TargetModel {
  anchor: string;
  label: string;
  version: string;
  cluster: string;
  kubernetes: string | null;
  /** The kind release and node image the cluster was created with, or "unknown" / "not recorded". */
  kind: string;
  nodeImage: string;
  /** Bed settings that decide paths, as [name, value] pairs in display order. */
  settings: [string, string][];
  totals: Totals;
  warnings: string[];
  scenarios: ScenarioModel[];
}

export interface FailureModel {
  target: string;
  scenario: string;
  probe: string | null;
  anchor: string;
  hop: HopRole | null;
  sentence: string;
}

export interface ReportModel {
  runId: string;
  verdict: RunVerdict;
  totals: Totals;
  totalsText: string;
  versions: string[];
  startedAt: string;
  finishedAt: string;
  durationMs: number | null;
  podpathVersion: string;
  command: string;
  interrupted: boolean;
  dryRun: boolean;
  targets: TargetModel[];
  /** Every failed scenario's failing probes (or the scenario itself when no probe failed). */
  failures: FailureModel[];
}

/**
 * A stable HTML id from arbitrary parts (versions, scenario ids, probe names): safe characters
 * pass through, anything else becomes _XX, so the matrix can compute links into a run's page.
 */
export function anchorId(...parts: string[]): string {
  return parts.map((p) => [...p].map((c) => (/[A-Za-z0-9.-]/.test(c) ? c : `_${c.codePointAt(0)!.toString(16)}`)).join('')).join('--');
}

export function targetAnchor(target: TargetReport): string {
  return anchorId('istio', versionLabel(target));
}
export function scenarioAnchor(target: TargetReport, scenario: ScenarioReport): string {
  return anchorId('istio', versionLabel(target), scenario.id);
}
export function probeAnchor(target: TargetReport, scenario: ScenarioReport, probe: ProbeReport): string {
  return anchorId('istio', versionLabel(target), scenario.id, probe.name);
}

/** Which hop a mismatch sentence is about; the runner words them "client sidecar: ...", "expected outcome ...". */
export function mismatchHop(sentence: string): HopRole | 'other' {
  const s = sentence.replace(/^attempt \d+: /, '').toLowerCase();
  if (s.startsWith('client')) return 'client-sidecar';
  if (s.startsWith('server')) return 'server-sidecar';
  if (/^(expected (outcome|http)|outcome|responder|http)\b/.test(s) || /^expected .* to answer, saw /.test(s)) return 'server-app';
  // Explain's prediction, convergence waits, unreadable logs: about the probe, not one hop.
  return 'other';
}

function attemptOf(sentence: string): number | null {
  const m = /^attempt (\d+): /.exec(sentence);
  return m ? Number(m[1]) : null;
}

function sideLines(side: PathSide): string[] {
  const lines = [side.cluster ?? '(no cluster)', `flags ${formatFlags(side.flags)}${side.clusterKind ? ` · ${side.clusterKind}` : ''}`];
  if (side.responseCodeDetails) lines.push(`details ${side.responseCodeDetails}`);
  return lines;
}

function connectionModel(probe: ProbeReport, observed: ObservedPath, index: number): ConnectionModel {
  const multi = probe.observed.length > 1;
  const mine = probe.mismatches.filter((m) => !multi || attemptOf(m) === null || attemptOf(m) === index + 1);
  const at = (role: HopRole) => (probe.verdict === 'pass' ? [] : mine.filter((m) => mismatchHop(m) === role));
  const hops: Hop[] = [{ role: 'client-app', title: HOP_TITLES['client-app'], lines: [probe.from.workload, probe.from.pod, `${probe.from.ip} → ${dialled(probe)}/${probe.to.protocol}`], reached: true, mismatches: [] }];
  let stoppedAt: HopRole | null = null;
  const push = (role: HopRole, reached: boolean, lines: string[]) => {
    hops.push({ role, title: HOP_TITLES[role], lines, reached, mismatches: at(role) });
    if (!reached) stoppedAt = role;
    return reached;
  };
  const answer = `${observed.outcome}${observed.httpStatus !== null ? ` HTTP ${observed.httpStatus}` : ''}`;
  if (push('client-sidecar', observed.client !== null, observed.client ? sideLines(observed.client) : ['no access log entry', `stopped: ${answer}`])) {
    if (push('server-sidecar', observed.server !== null, observed.server ? sideLines(observed.server) : ['no access log entry', `stopped: ${answer}`])) {
      push('server-app', observed.responder !== null, observed.responder ? [observed.responder, answer] : ['nobody answered', `stopped: ${answer}`]);
    }
  }
  // Outcome and responder mismatches belong to the server app; when the path stopped before it, to the hop where it stopped.
  const last = hops[hops.length - 1];
  if (last.role !== 'server-app') last.mismatches.push(...at('server-app'));
  const logLines: ConnectionModel['logLines'] = [];
  if (observed.client) logLines.push({ side: 'client', line: observed.client.line });
  if (observed.server) logLines.push({ side: 'server', line: observed.server.line });
  return { hops, stoppedAt, outcome: observed.outcome, logLines, raw: observed };
}

type ExpectedSide = Exclude<ExpectedPath['client'], null>;

function expectedSideLines(side: ExpectedSide | null): string[] {
  if (side === null) return ['any entry'];
  const cluster = side.cluster ?? (side.clusterKind ? `any ${side.clusterKind} cluster` : 'any cluster');
  return [cluster, side.flags === null ? 'any flags' : `flags ${formatFlags(side.flags)}`];
}

function expectedHops(probe: ProbeReport, expected: ExpectedPath): Hop[] {
  const hop = (role: HopRole, lines: string[]): Hop => ({ role, title: HOP_TITLES[role], lines, reached: true, mismatches: [] });
  const hops = [hop('client-app', [probe.from.workload, `→ ${dialled(probe)}/${probe.to.protocol}`]), hop('client-sidecar', expectedSideLines(expected.client))];
  if (expected.server === 'absent') {
    hops.push({ ...hop('server-sidecar', ['no entry expected']), reached: false });
    return hops;
  }
  hops.push(hop('server-sidecar', expectedSideLines(expected.server)));
  hops.push(hop('server-app', [expected.responder ?? 'anyone', expected.outcome ?? 'any outcome']));
  return hops;
}

function probeModel(target: TargetReport, scenario: ScenarioReport, probe: ProbeReport): ProbeModel {
  const connections = probe.observed.map((o, i) => connectionModel(probe, o, i));
  const failing = connections.find((c) => c.hops.some((h) => h.mismatches.length > 0));
  return {
    anchor: probeAnchor(target, scenario, probe),
    name: probe.name,
    target: probeTarget(probe),
    verdict: probe.verdict,
    mismatches: probe.mismatches,
    otherMismatches: probe.verdict === 'pass' ? [] : probe.mismatches.filter((m) => mismatchHop(m) === 'other'),
    expected: expectedHops(probe, probe.expected),
    connections,
    prediction: probe.prediction,
    failedHop: probe.verdict === 'fail' ? (failing?.hops.find((h) => h.mismatches.length > 0)?.role ?? null) : null,
    raw: probe,
  };
}

/** The note a summary table shows beside a status. */
export function scenarioNote(scenario: ScenarioReport): string {
  if (scenario.status === 'skipped') return scenario.skipReason ?? 'no reason recorded';
  if (scenario.error) return `harness error: ${scenario.error}`;
  if (scenario.status === 'flaky') return `attempts: ${scenario.attempts.map((a) => a.status).join(', ')}`;
  if (scenario.status === 'partial') return `only observed, not checked: ${scenario.probes.filter((p) => p.verdict === 'observe').map((p) => p.name).join(', ')}`;
  return scenario.probes
    .filter((p) => p.verdict === 'fail')
    .map((p) => `${p.name}: ${p.mismatches[0] ?? 'path differs'}`)
    .join('; ');
}

function scenarioHeadline(scenario: ScenarioReport): string {
  switch (scenario.status) {
    case 'passed':
      return `passed: ${scenario.probes.length} probe${scenario.probes.length === 1 ? '' : 's'} took the expected path`;
    case 'skipped':
      return `skipped: ${scenario.skipReason ?? 'no reason recorded'}`;
    case 'observed':
      return `observed: ${scenario.probes.flatMap((p) => p.mismatches)[0] ?? 'behaviour recorded, not checked'}`;
    case 'flaky':
      return `flaky: ${scenarioNote(scenario)}`;
    case 'partial':
      return `partial: ${scenarioNote(scenario)}`;
    default:
      return `failed: ${failureHeadline(scenario)}`;
  }
}

function scenarioModel(target: TargetReport, scenario: ScenarioReport): ScenarioModel {
  return {
    anchor: scenarioAnchor(target, scenario),
    id: scenario.id,
    title: scenario.title,
    seed: scenario.seed,
    status: scenario.status,
    note: scenario.status === 'passed' ? '' : scenarioNote(scenario),
    headline: scenarioHeadline(scenario),
    error: scenario.error,
    skipReason: scenario.skipReason,
    attempts: scenario.attempts,
    durationMs: scenario.timings.total,
    evidence: scenario.evidence,
    probes: scenario.probes.map((p) => probeModel(target, scenario, p)),
  };
}

function targetModel(target: TargetReport): TargetModel {
  // Every meshConfig field the bed records, so settings added to the schema later show up without a change here.
  const mesh = Object.entries(target.istio.meshConfig as unknown as Record<string, unknown>).map(([k, v]): [string, string] => [`meshConfig.${k}`, v === null || v === undefined ? 'Istio default' : typeof v === 'string' ? v : JSON.stringify(v)]);
  const settings: [string, string][] = [
    ['Istio', target.istio.version],
    ...mesh,
    ['mTLS default', formatMtls(target.mtls)],
    ['bed features', formatFeatures(target.features)],
    ['istiod env', Object.entries(target.istio.pilotEnv ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'],
    ['Kubernetes', target.kubernetes ?? 'unknown'],
    ['kind', recorded(target.kind)],
    ['node image', recorded(target.nodeImage)],
    ['cluster', target.cluster],
  ];
  return {
    anchor: targetAnchor(target),
    label: versionLabel(target),
    version: target.istio.version,
    cluster: target.cluster,
    kubernetes: target.kubernetes,
    kind: recorded(target.kind),
    nodeImage: recorded(target.nodeImage),
    settings,
    totals: countStatuses(target.scenarios),
    warnings: target.warnings ?? [],
    scenarios: target.scenarios.map((s) => scenarioModel(target, s)),
  };
}

function duration(report: RunReport): number | null {
  const ms = Date.parse(report.run.finishedAt) - Date.parse(report.run.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

export function buildReportModel(report: RunReport): ReportModel {
  const targets = report.targets.map(targetModel);
  const totals = countStatuses(report.targets.flatMap((t) => t.scenarios));
  const failures: FailureModel[] = [];
  for (const target of targets) {
    for (const scenario of target.scenarios.filter((s) => s.status === 'failed')) {
      const failed = scenario.probes.filter((p) => p.verdict === 'fail');
      if (failed.length === 0) failures.push({ target: target.label, scenario: scenario.id, probe: null, anchor: scenario.anchor, hop: null, sentence: scenario.note || 'scenario failed' });
      for (const probe of failed) {
        // The sentence of the hop named beside it, so "at the client sidecar" is followed by what went wrong there.
        const hopSentence = probe.connections.flatMap((c) => c.hops).find((h) => h.role === probe.failedHop && h.mismatches.length)?.mismatches[0];
        const sentence = hopSentence ?? probe.mismatches[0] ?? 'observed path differs from the expected one';
        failures.push({ target: target.label, scenario: scenario.id, probe: probe.name, anchor: probe.anchor, hop: probe.failedHop, sentence });
      }
    }
  }
  return {
    runId: report.run.id,
    verdict: totals.failed > 0 ? 'failed' : report.run.interrupted ? 'interrupted' : 'passed',
    totals,
    totalsText: formatTotals(totals),
    versions: report.targets.map(versionLabel),
    startedAt: report.run.startedAt,
    finishedAt: report.run.finishedAt,
    durationMs: duration(report),
    podpathVersion: report.run.podpathVersion,
    command: ['podpath', ...report.run.argv].join(' '),
    interrupted: report.run.interrupted,
    dryRun: report.run.dryRun,
    targets,
    failures,
  };
}
