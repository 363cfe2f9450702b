/**
 * The nightly view (scenarios × Istio versions, each cell linking into its run's report.html)
 * and the upgrade view (which probes changed path between two runs, drawn side by side).
 */
import type { RunReport, TargetReport } from './schema.ts';
import { buildReportModel, probeAnchor, targetAnchor, type ProbeModel, type ScenarioModel } from './model.ts';
import { diffReports, type DiffEntry, type DiffKind, type ReportDiff } from './diff.ts';
import { escapeHtml as e } from './html-escape.ts';
import { renderPage, statusBadge, STATUS_TEXT } from './html-page.ts';
import { renderPathSvg } from './svg-path.ts';
import { countStatuses, formatTotals, versionLabel } from './format.ts';

export interface MatrixRun {
  report: RunReport;
  /** Where that run's report.html is, relative to the matrix page (e.g. "results/<id>/report.html"). */
  href: string;
}

interface Column {
  label: string;
  run: MatrixRun;
  target: TargetReport;
  scenarios: Map<string, ScenarioModel>;
}

function hrefTo(run: MatrixRun, anchor: string): string {
  return `${encodeURI(run.href)}#${anchor}`;
}

export function renderHtmlMatrix(runs: readonly MatrixRun[]): string {
  const columns: Column[] = [];
  for (const run of runs) {
    const model = buildReportModel(run.report);
    run.report.targets.forEach((target, i) => {
      columns.push({ label: versionLabel(target), run, target, scenarios: new Map(model.targets[i].scenarios.map((s) => [s.id, s])) });
    });
  }
  const repeated = new Set(columns.map((c) => c.label).filter((l, i, all) => all.indexOf(l) !== i));
  const rows = [...new Set(columns.flatMap((c) => [...c.scenarios.keys()]))];
  const totals = countStatuses(runs.flatMap((r) => r.report.targets.flatMap((t) => t.scenarios)));
  const head = columns
    .map((c) => `<th scope="col"><a href="${e(hrefTo(c.run, targetAnchor(c.target)))}">${e(c.label)}</a>${repeated.has(c.label) ? `<br><span class="meta mono">${e(c.run.report.run.id)}</span>` : ''}</th>`)
    .join('');
  const body = rows.map((id) => {
    const cells = columns.map((c) => {
      const s = c.scenarios.get(id);
      if (!s) {
        const text = `${id} on Istio ${c.label}: not run in ${c.run.report.run.id}`;
        return `<td><a class="cell" href="${e(hrefTo(c.run, targetAnchor(c.target)))}" title="${e(text)}" aria-label="${e(text)}">${statusBadge('missing')}</a></td>`;
      }
      const text = `${id} on Istio ${c.label}: ${s.headline}`;
      return `<td><a class="cell" href="${e(hrefTo(c.run, s.anchor))}" title="${e(text)}" aria-label="${e(text)}">${statusBadge(s.status)}<span class="tip" aria-hidden="true">${e(s.headline)}</span></a></td>`;
    });
    return `<tr><th scope="row" class="row"><code>${e(id)}</code></th>${cells.join('')}</tr>`;
  });
  const legend = (['passed', 'failed', 'flaky', 'partial', 'observed', 'skipped', 'missing'] as const).map((s) => statusBadge(s)).join(' · ');
  const page = [
    '<header>',
    `<h1>podpath matrix: ${rows.length} scenario${rows.length === 1 ? '' : 's'} × ${columns.length} Istio version${columns.length === 1 ? '' : 's'}</h1>`,
    `<p><b>${e(formatTotals(totals))}</b> in ${runs.length} run${runs.length === 1 ? '' : 's'}: ${runs.map((r) => `<a href="${e(encodeURI(r.href))}"><code>${e(r.report.run.id)}</code></a>`).join(', ')}.</p>`,
    `<p class="meta">Each cell links to the scenario in its run's report; hover or focus a cell for why it did not pass. Legend: ${legend}</p>`,
    '</header>',
    '<main>',
    `<table class="matrix"><thead><tr><th scope="col">Scenario</th>${head}</tr></thead><tbody>`,
    ...body,
    '</tbody></table>',
    '</main>',
  ].join('\n');
  return renderPage(`podpath matrix (${columns.map((c) => c.label).join(', ')})`, page);
}

const KIND_TITLE: Record<DiffKind, string> = {
  regression: '✗ Regressions (passed before, fail now)',
  fix: '✓ Fixes (failed before, pass now)',
  changed: '≈ Changed path (same verdict)',
  skipped: '○ Skipped on one side',
  added: '+ Only in B',
  removed: '− Only in A',
};
const KIND_ORDER: DiffKind[] = ['regression', 'fix', 'changed', 'skipped', 'added', 'removed'];

const models = new WeakMap<RunReport, ReturnType<typeof buildReportModel>>();

function findProbe(report: RunReport, istio: string | undefined, scenario: string, probe: string | null): ProbeModel | null {
  if (!istio || !probe) return null;
  let model = models.get(report);
  if (!model) models.set(report, (model = buildReportModel(report)));
  const target = model.targets.find((t) => t.label === istio);
  return target?.scenarios.find((s) => s.id === scenario)?.probes.find((p) => p.name === probe) ?? null;
}

function side(label: string, probe: ProbeModel | null, href: string | null): string {
  if (!probe) return `<figure><figcaption>${e(label)}</figcaption><p>not run</p></figure>`;
  const c = probe.connections[0];
  const link = href ? ` <a href="${e(href)}">details</a>` : '';
  if (!c) return `<figure><figcaption>${e(label)}: ${statusBadge(probe.verdict)}${link}</figcaption><p>no connection observed</p></figure>`;
  return `<figure><figcaption>${e(label)}: ${statusBadge(probe.verdict)}${link}</figcaption>${renderPathSvg(c.hops, { kind: 'observed', label: `${label} observed path of ${probe.name}` })}</figure>`;
}

function entry(a: RunReport, b: RunReport, links: DiffLinks, item: DiffEntry): string {
  const where = `${item.scenario}${item.probe ? ` / ${item.probe}` : ''}`;
  const out = [`<section class="scenario" aria-label="${e(where)}"><h3><code>${e(where)}</code> <span class="meta">Istio ${e(item.before?.istio ?? '-')} → ${e(item.after?.istio ?? '-')}</span></h3>`];
  out.push(`<ul>${item.changes.map((c) => `<li>${e(c)}</li>`).join('')}</ul>`);
  if (item.kind === 'regression' || item.kind === 'fix' || item.kind === 'changed') {
    const before = findProbe(a, item.before?.istio, item.scenario, item.probe);
    const after = findProbe(b, item.after?.istio, item.scenario, item.probe);
    const anchorIn = (report: RunReport, istio: string | undefined, base: string | undefined) => {
      const target = report.targets.find((t) => versionLabel(t) === istio);
      const scenario = target?.scenarios.find((s) => s.id === item.scenario);
      const probe = scenario?.probes.find((p) => p.name === item.probe);
      return base && target && scenario && probe ? `${encodeURI(base)}#${probeAnchor(target, scenario, probe)}` : null;
    };
    out.push('<div class="paths">');
    out.push(side(`A ${a.run.id}`, before, anchorIn(a, item.before?.istio, links.a)));
    out.push(side(`B ${b.run.id}`, after, anchorIn(b, item.after?.istio, links.b)));
    const expected = after ?? before;
    if (expected) out.push(`<figure><figcaption>Expected (B)</figcaption>${renderPathSvg(expected.expected, { kind: 'expected', label: `expected path of ${expected.name}` })}</figure>`);
    out.push('</div>');
  }
  out.push('</section>');
  return out.join('\n');
}

export interface DiffLinks {
  /** report.html of run A and of run B, relative to the diff page, when they exist. */
  a?: string;
  b?: string;
}

/** The side-by-side view of `podpath diff A B --format html`. */
export function renderHtmlDiff(a: RunReport, b: RunReport, links: DiffLinks = {}, diff: ReportDiff = diffReports(a, b)): string {
  const c = diff.counts;
  const out = [
    '<header>',
    `<h1>podpath diff ${c.regression ? statusBadge('failed') : statusBadge('passed')}</h1>`,
    `<p>A <code>${e(a.run.id)}</code> (Istio ${e(diff.a.versions.join(', ') || '-')}) → B <code>${e(b.run.id)}</code> (Istio ${e(diff.b.versions.join(', ') || '-')})</p>`,
    `<p><b>${c.regression} regression${c.regression === 1 ? '' : 's'}, ${c.fix} fix${c.fix === 1 ? '' : 'es'}, ${c.changed} changed, ${c.skipped} skipped on one side, ${c.added} only in B, ${c.removed} only in A, ${c.unchanged} unchanged.</b></p>`,
    '</header>',
    '<main>',
  ];
  for (const kind of KIND_ORDER) {
    const group = diff.entries.filter((x) => x.kind === kind);
    if (!group.length) continue;
    out.push(`<h2 id="${kind}">${e(KIND_TITLE[kind])}: ${group.length}</h2>`);
    for (const item of group) out.push(entry(a, b, links, item));
  }
  if (diff.entries.length === 0) out.push(`<p>${STATUS_TEXT.passed.icon} No probe changed path.</p>`);
  out.push('</main>');
  return renderPage(`podpath diff ${a.run.id} → ${b.run.id}`, out.join('\n'));
}
