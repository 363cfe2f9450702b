/**
 * The grid view (scenarios × Istio versions, each cell linking into its run's report.html) and
 * the comparison view of two runs: the grid of both, then every probe that changed path between
 * A and B drawn side by side. `podpath diff --format html` and the upgrade flow write the same page.
 */
import type { RunReport } from './schema.ts';
import { buildComparisonModel, buildMatrixModel, type ComparisonEntry, type ComparisonLinks, type ComparisonModel, type MatrixModel, type MatrixRun } from './comparison.ts';
import { diffReports, type DiffKind, type ReportDiff } from './diff.ts';
import type { ProbeModel } from './model.ts';
import { escapeHtml as e } from './html-escape.ts';
import { renderPage, statusBadge, STATUS_TEXT } from './html-page.ts';
import { renderPathSvg } from './svg-path.ts';

export type { MatrixRun } from './comparison.ts';
/** Where each run's report.html is, relative to the comparison page. */
export type DiffLinks = ComparisonLinks;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The grid as a table: every cell is a link, its sentence in title, aria-label and a tooltip. */
export function matrixTable(matrix: MatrixModel): string {
  const head = matrix.columns
    .map((c) => `<th scope="col"><a href="${e(c.href)}">${e(c.label)}</a>${c.repeated ? `<br><span class="meta mono">${e(c.runId)}</span>` : ''}</th>`)
    .join('');
  const body = matrix.rows.map((row) => {
    const cells = row.cells.map((cell) => {
      const tip = cell.status === 'missing' ? '' : `<span class="tip" aria-hidden="true">${e(cell.headline)}</span>`;
      return `<td><a class="cell" href="${e(cell.href)}" title="${e(cell.text)}" aria-label="${e(cell.text)}">${statusBadge(cell.status)}${tip}</a></td>`;
    });
    return `<tr><th scope="row" class="row"><code>${e(row.id)}</code></th>${cells.join('')}</tr>`;
  });
  return [`<table class="matrix"><thead><tr><th scope="col">Scenario</th>${head}</tr></thead><tbody>`, ...body, '</tbody></table>'].join('\n');
}

const LEGEND = (['passed', 'failed', 'flaky', 'partial', 'observed', 'skipped', 'missing'] as const).map((s) => statusBadge(s)).join(' · ');

export function renderHtmlMatrix(runs: readonly MatrixRun[]): string {
  const matrix = buildMatrixModel(runs);
  const page = [
    '<header>',
    `<h1>podpath matrix: ${plural(matrix.rows.length, 'scenario')} × ${plural(matrix.columns.length, 'Istio version')}</h1>`,
    `<p><b>${e(matrix.totalsText)}</b> in ${plural(matrix.runs.length, 'run')}: ${matrix.runs.map((r) => `<a href="${e(r.href)}"><code>${e(r.id)}</code></a>`).join(', ')}.</p>`,
    `<p class="meta">Each cell links to the scenario in its run's report; hover or focus a cell for why it did not pass. Legend: ${LEGEND}</p>`,
    '</header>',
    '<main>',
    matrixTable(matrix),
    '</main>',
  ].join('\n');
  return renderPage(`podpath matrix (${matrix.columns.map((c) => c.label).join(', ')})`, page);
}

const KIND_ICON: Record<DiffKind, string> = { regression: '✗', fix: '✓', changed: '≈', skipped: '○', added: '+', removed: '−' };

function side(label: string, probe: ProbeModel | null, href: string | null): string {
  if (!probe) return `<figure><figcaption>${e(label)}</figcaption><p>not run</p></figure>`;
  const c = probe.connections[0];
  const link = href ? ` <a href="${e(href)}">details</a>` : '';
  if (!c) return `<figure><figcaption>${e(label)}: ${statusBadge(probe.verdict)}${link}</figcaption><p>no connection observed</p></figure>`;
  return `<figure><figcaption>${e(label)}: ${statusBadge(probe.verdict)}${link}</figcaption>${renderPathSvg(c.hops, { kind: 'observed', label: `${label} observed path of ${probe.name}` })}</figure>`;
}

function entry(model: ComparisonModel, item: ComparisonEntry): string {
  const out = [`<section class="scenario change ${item.kind}" id="${e(item.anchor)}" aria-label="${e(item.where)}"><h3><code>${e(item.where)}</code> <span class="meta">Istio ${e(item.versions)}</span></h3>`];
  out.push(`<ul>${item.changes.map((c) => `<li>${e(c)}</li>`).join('')}${item.paths ? `<li>${e(item.paths)}</li>` : ''}</ul>`);
  if (item.drawn) {
    out.push('<div class="paths">');
    out.push(side(`A ${model.a.id}`, item.before, item.beforeHref));
    out.push(side(`B ${model.b.id}`, item.after, item.afterHref));
    const expected = item.after ?? item.before;
    if (expected) out.push(`<figure><figcaption>Expected (${item.after ? 'B' : 'A'})</figcaption>${renderPathSvg(expected.expected, { kind: 'expected', label: `expected path of ${expected.name}` })}</figure>`);
    out.push('</div>');
  }
  out.push('</section>');
  return out.join('\n');
}

export function renderHtmlComparison(model: ComparisonModel): string {
  const run = (r: ComparisonModel['a'], name: string) => `${name} ${r.href ? `<a href="${e(r.href)}"><code>${e(r.id)}</code></a>` : `<code>${e(r.id)}</code>`} (Istio ${e(r.versions.join(', ') || '-')})`;
  const regressions = model.groups.find((g) => g.kind === 'regression')?.entries ?? [];
  const out = [
    '<header>',
    `<h1>podpath diff ${model.regressions ? statusBadge('failed') : statusBadge('passed')}</h1>`,
    `<p>${run(model.a, 'A')} → ${run(model.b, 'B')}</p>`,
    `<p><b>${e(model.countsText)}.</b></p>`,
  ];
  if (regressions.length) {
    out.push('<nav class="failures" aria-label="regressions"><b>✗ Regressions:</b><ul>');
    for (const r of regressions) out.push(`<li><a href="#${e(r.anchor)}">${e(r.where)}</a> on Istio ${e(r.versions)}: ${e(r.changes[0] ?? '')}</li>`);
    out.push('</ul></nav>');
  }
  out.push('</header>', '<main>');
  if (model.matrix) {
    out.push(`<h2 id="matrix">Scenarios × Istio versions</h2>`, `<p class="meta">Each cell links to the scenario in its run's report; hover or focus a cell for why it did not pass. Legend: ${LEGEND}</p>`, matrixTable(model.matrix));
  }
  for (const group of model.groups) {
    out.push(`<h2 id="${group.kind}">${KIND_ICON[group.kind]} ${e(group.title)}: ${group.entries.length}</h2>`);
    for (const item of group.entries) out.push(entry(model, item));
  }
  if (model.groups.length === 0) out.push(`<p>${STATUS_TEXT.passed.icon} No probe changed path.</p>`);
  out.push('</main>');
  return renderPage(`podpath diff ${model.a.id} → ${model.b.id}`, out.join('\n'));
}

/** The page of `podpath diff A B --format html` and of the upgrade flow: both runs' grid, then what changed. */
export function renderHtmlDiff(a: RunReport, b: RunReport, links: DiffLinks = {}, diff: ReportDiff = diffReports(a, b)): string {
  return renderHtmlComparison(buildComparisonModel(a, b, links, diff));
}
