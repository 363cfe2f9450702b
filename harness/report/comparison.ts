/**
 * The comparison model: several runs as a scenarios × Istio versions grid, and for two runs what
 * changed between them (diff's entries with both observed paths). `podpath report --matrix`, the
 * nightly page, `podpath diff --format html`, the upgrade flow's page and its summary.md are all
 * rendered from it, so they agree on every cell, count and changed probe.
 */
import type { RunReport, ScenarioStatus } from './schema.ts';
import { anchorId, buildReportModel, probeAnchor, targetAnchor, type ProbeModel, type ReportModel } from './model.ts';
import { diffReports, pathLine, type DiffEntry, type DiffKind, type ReportDiff } from './diff.ts';
import { countStatuses, formatTotals, versionLabel } from './format.ts';
import type { Totals } from './schema.ts';

export interface MatrixRun {
  report: RunReport;
  /** Where that run's report.html is, relative to the page (e.g. "results/<id>/report.html"). */
  href: string;
}

export interface MatrixColumn {
  /** Istio version (and istiod env) of one target. */
  label: string;
  runId: string;
  /** Two columns with the same label (two runs of one version) also show their run ids. */
  repeated: boolean;
  /** The target's section in its run's report.html. */
  href: string;
}

export interface MatrixCell {
  status: ScenarioStatus | 'missing';
  /** The sentence a cell shows on hover or focus, also its accessible name: "ID on Istio V: why". */
  text: string;
  /** The tooltip: why it did not pass (no scenario id or version, the row and column say those). */
  headline: string;
  /** The scenario's section in its run's report.html (the target's section when it did not run). */
  href: string;
}

export interface MatrixModel {
  columns: MatrixColumn[];
  rows: { id: string; cells: MatrixCell[] }[];
  totals: Totals;
  totalsText: string;
  runs: { id: string; href: string }[];
}

const reportModels = new WeakMap<RunReport, ReportModel>();

/** One report model per report object: a page drawing a run twice (matrix and diff) builds it once. */
export function reportModelOf(report: RunReport): ReportModel {
  let model = reportModels.get(report);
  if (!model) reportModels.set(report, (model = buildReportModel(report)));
  return model;
}

function hrefTo(run: MatrixRun, anchor: string): string {
  return `${encodeURI(run.href)}#${anchor}`;
}

export function buildMatrixModel(runs: readonly MatrixRun[]): MatrixModel {
  const columns: (MatrixColumn & { scenarios: Map<string, ReportModel['targets'][number]['scenarios'][number]>; run: MatrixRun })[] = [];
  for (const run of runs) {
    const model = reportModelOf(run.report);
    run.report.targets.forEach((target, i) => {
      columns.push({ label: versionLabel(target), runId: run.report.run.id, repeated: false, href: hrefTo(run, targetAnchor(target)), run, scenarios: new Map(model.targets[i].scenarios.map((s) => [s.id, s])) });
    });
  }
  const labels = columns.map((c) => c.label);
  for (const c of columns) c.repeated = labels.indexOf(c.label) !== labels.lastIndexOf(c.label);
  const ids = [...new Set(columns.flatMap((c) => [...c.scenarios.keys()]))];
  const rows = ids.map((id) => ({
    id,
    cells: columns.map((c): MatrixCell => {
      const s = c.scenarios.get(id);
      if (!s) return { status: 'missing', text: `${id} on Istio ${c.label}: not run in ${c.runId}`, headline: `not run in ${c.runId}`, href: c.href };
      return { status: s.status, text: `${id} on Istio ${c.label}: ${s.headline}`, headline: s.headline, href: hrefTo(c.run, s.anchor) };
    }),
  }));
  const totals = countStatuses(runs.flatMap((r) => r.report.targets.flatMap((t) => t.scenarios)));
  return {
    columns: columns.map(({ label, runId, repeated, href }) => ({ label, runId, repeated, href })),
    rows,
    totals,
    totalsText: formatTotals(totals),
    runs: runs.map((r) => ({ id: r.report.run.id, href: encodeURI(r.href) })),
  };
}

export const DIFF_KIND_ORDER: readonly DiffKind[] = ['regression', 'fix', 'changed', 'skipped', 'added', 'removed'];
export const DIFF_KIND_TITLE: Record<DiffKind, string> = {
  regression: 'Regressions (passed before, fail now)',
  fix: 'Fixes (failed before, pass now)',
  changed: 'Changed path (same verdict)',
  skipped: 'Skipped on one side',
  added: 'Only in B',
  removed: 'Only in A',
};

export interface ComparisonEntry {
  kind: DiffKind;
  /** The entry's id on the comparison page. */
  anchor: string;
  /** "scenario / probe", or the scenario alone for a scenario-level row. */
  where: string;
  scenario: string;
  probe: string | null;
  /** "1.29.3 → 1.30.1" */
  versions: string;
  changes: string[];
  /** "path expected X; observed A → B", when the probe names a path. */
  paths: string | null;
  /** The probe as drawn in each run (null when it did not run there or the row is scenario-level). */
  before: ProbeModel | null;
  after: ProbeModel | null;
  /** The probe's section in each run's report.html, when the page knows where that is. */
  beforeHref: string | null;
  afterHref: string | null;
  /** Whether the page draws the two paths side by side (the probe ran on both sides). */
  drawn: boolean;
}

export interface ComparisonModel {
  a: { id: string; versions: string[]; href: string | null };
  b: { id: string; versions: string[]; href: string | null };
  regressions: number;
  countsText: string;
  counts: ReportDiff['counts'];
  /** Both runs as one grid; null when the page does not know where the runs' report.html are. */
  matrix: MatrixModel | null;
  groups: { kind: DiffKind; title: string; entries: ComparisonEntry[] }[];
  diff: ReportDiff;
}

export interface ComparisonLinks {
  /** report.html of run A and of run B, relative to the page, when they exist. */
  a?: string;
  b?: string;
}

function probeIn(report: RunReport, istio: string | undefined, scenario: string, probe: string | null): { model: ProbeModel; anchor: string } | null {
  if (!istio || !probe) return null;
  const i = report.targets.findIndex((t) => versionLabel(t) === istio);
  if (i < 0) return null;
  const target = report.targets[i];
  const s = target.scenarios.find((x) => x.id === scenario);
  const p = s?.probes.find((x) => x.name === probe);
  if (!s || !p) return null;
  const model = reportModelOf(report).targets[i].scenarios.find((x) => x.id === scenario)?.probes.find((x) => x.name === probe) ?? null;
  return model ? { model, anchor: probeAnchor(target, s, p) } : null;
}

function entryModel(a: RunReport, b: RunReport, links: ComparisonLinks, item: DiffEntry, index: number): ComparisonEntry {
  const before = probeIn(a, item.before?.istio, item.scenario, item.probe);
  const after = probeIn(b, item.after?.istio, item.scenario, item.probe);
  const link = (base: string | undefined, found: { anchor: string } | null) => (base && found ? `${encodeURI(base)}#${found.anchor}` : null);
  return {
    kind: item.kind,
    anchor: anchorId('change', String(index + 1), item.scenario, item.probe ?? ''),
    where: `${item.scenario}${item.probe ? ` / ${item.probe}` : ''}`,
    scenario: item.scenario,
    probe: item.probe,
    versions: `${item.before?.istio ?? '-'} → ${item.after?.istio ?? '-'}`,
    changes: item.changes,
    paths: pathLine(item),
    before: before?.model ?? null,
    after: after?.model ?? null,
    beforeHref: link(links.a, before),
    afterHref: link(links.b, after),
    drawn: item.kind === 'regression' || item.kind === 'fix' || item.kind === 'changed',
  };
}

/** Two runs compared: A is the baseline (the version before an upgrade), B the one after. */
export function buildComparisonModel(a: RunReport, b: RunReport, links: ComparisonLinks = {}, diff: ReportDiff = diffReports(a, b)): ComparisonModel {
  const c = diff.counts;
  let index = 0;
  const groups = DIFF_KIND_ORDER.map((kind) => ({
    kind,
    title: DIFF_KIND_TITLE[kind],
    entries: diff.entries.filter((x) => x.kind === kind).map((x) => entryModel(a, b, links, x, index++)),
  })).filter((g) => g.entries.length > 0);
  return {
    a: { id: a.run.id, versions: diff.a.versions, href: links.a ?? null },
    b: { id: b.run.id, versions: diff.b.versions, href: links.b ?? null },
    regressions: c.regression,
    countsText: `${c.regression} regression${c.regression === 1 ? '' : 's'}, ${c.fix} fix${c.fix === 1 ? '' : 'es'}, ${c.changed} changed, ${c.skipped} skipped on one side, ${c.added} only in B, ${c.removed} only in A, ${c.unchanged} unchanged`,
    counts: c,
    matrix: links.a !== undefined && links.b !== undefined ? buildMatrixModel([{ report: a, href: links.a }, { report: b, href: links.b }]) : null,
    groups,
    diff,
  };
}
