/**
 * summary.md: what a person reads first (GitHub job summary, PR comment, results folder).
 * Totals, one table per Istio version, then every failing probe with actual-vs-expected and a
 * mermaid flowchart of the path it took, or where it stopped. Statuses, notes and totals come
 * from the report model that report.html is drawn from too.
 */
import type { ProbeReport, RunReport, ScenarioReport, ScenarioStatus, TargetReport, ObservedPath } from './schema.ts';
import { buildReportModel, type RunVerdict, type ScenarioModel, type TargetModel } from './model.ts';
import type { ComparisonModel } from './comparison.ts';
import { expectedPathName, observedPathName, describePaths } from './paths.ts';
import { countStatuses, dialled, versionLabel, formatExpected, formatExpectedSide, formatFlags, formatObserved, formatSide, formatTotals, formatMtls, formatFeatures, probeTarget, seconds } from './format.ts';

const VERDICT: Record<RunVerdict, string> = { failed: '❌ **failed**', interrupted: '⚠️ **interrupted**', passed: '✅ **passed**' };
const STATUS_ICON: Record<ScenarioStatus, string> = { passed: '✅ passed', failed: '❌ failed', skipped: '⏭️ skipped', flaky: '⚠️ flaky', observed: '👁️ observed', partial: '◐ partial' };

/** Table cells: a cluster name like outbound|5701||x would otherwise split the row. */
export function mdCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>');
}

/** Inline code that survives backticks inside the text. */
export function mdCode(text: string): string {
  const ticks = '`'.repeat(Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/**
 * Mermaid label text for a quoted label ("..."): mermaid decodes #NN; entity codes, so every
 * character that could end the label, the edge or the code fence becomes one; newlines become <br/>.
 */
export function mermaidLabel(text: string): string {
  const escaped = text.replace(/[#"|<>`&;\[\]{}()\\]/g, (c) => `#${c.codePointAt(0)};`);
  return escaped.replace(/\r?\n/g, '<br/>');
}

function node(id: string, label: string, shape: 'box' | 'round' = 'box'): string {
  const text = `"${mermaidLabel(label)}"`;
  return shape === 'round' ? `${id}(${text})` : `${id}[${text}]`;
}

function edge(from: string, to: string, label: string | null, dotted = false): string {
  const arrow = dotted ? '-.->' : '-->';
  return label ? `  ${from} ${arrow}|"${mermaidLabel(label)}"| ${to}` : `  ${from} ${arrow} ${to}`;
}

function sideLabel(title: string, side: ObservedPath['client']): string {
  if (!side) return `${title}\nno entry`;
  return `${title}\n${side.cluster ?? '(no cluster)'}\nflags ${formatFlags(side.flags)}`;
}

/**
 * flowchart LR of one observed connection: app → client sidecar → server sidecar → app,
 * cut where the chain stopped (no client entry, no server entry, nobody answered).
 */
export function pathFlowchart(probe: ProbeReport, observed: ObservedPath): string {
  const lines = ['flowchart LR'];
  lines.push(`  ${node('src', `${probe.from.workload}\n${probe.from.pod}\n${probe.from.ip}`, 'round')}`);
  lines.push(`  ${node('cs', sideLabel('client sidecar', observed.client))}`);
  lines.push(edge('src', 'cs', `${probe.to.protocol} ${dialled(probe)}`));
  let stop = observed.client ? null : 'cs';
  if (observed.client) {
    lines.push(`  ${node('ss', sideLabel('server sidecar', observed.server))}`);
    lines.push(edge('cs', 'ss', observed.client.cluster ?? null, !observed.server));
    if (!observed.server) stop = 'ss';
    else {
      const who = observed.responder ?? probe.to.pod ?? probe.to.target;
      lines.push(`  ${node('dst', `${who}\n${observed.outcome}${observed.httpStatus !== null ? ` HTTP ${observed.httpStatus}` : ''}`, 'round')}`);
      lines.push(edge('ss', 'dst', observed.server.cluster ?? null));
      if (!observed.responder) stop = 'dst';
    }
  }
  if (stop) {
    // Not "end": that is a reserved word in mermaid flowcharts and breaks the diagram.
    lines.push(`  ${node('halt', `stopped: ${observed.outcome}`, 'round')}`);
    lines.push(edge(stop, 'halt', null, true));
    lines.push('  classDef stopped stroke:#c00,stroke-width:2px');
    lines.push(`  class ${stop} stopped`);
  }
  return lines.join('\n');
}

function scenarioRow(scenario: ScenarioModel): string {
  return `| ${mdCode(scenario.id)} | ${STATUS_ICON[scenario.status]} | ${scenario.probes.length} | ${seconds(scenario.durationMs)} s | ${mdCell(scenario.note)} |`;
}

function targetSection(target: TargetReport, model: TargetModel): string[] {
  const totals = model.totals;
  const env = Object.entries(target.istio.pilotEnv).map(([k, v]) => `${k}=${v}`);
  const lines = [
    `## Istio ${versionLabel(target)}`,
    '',
    `Cluster ${mdCode(target.cluster)}, Kubernetes ${target.kubernetes ?? 'unknown'}, kind ${mdCode(model.kind)}, node image ${mdCode(model.nodeImage)}, access log ${target.istio.meshConfig.accessLogEncoding}` +
      (target.istio.meshConfig.connectTimeout ? `, **meshConfig.connectTimeout ${target.istio.meshConfig.connectTimeout}** (set by podpath to keep failures fast)` : '') +
      `, mTLS default ${formatMtls(target.mtls)}` +
      (env.length ? `, istiod env ${env.map(mdCode).join(' ')}` : '') +
      '.',
    '',
    `Bed features (expectation rows keyed on them): ${formatFeatures(target.features)}.`,
    '',
    ...(target.warnings?.length ? [...target.warnings.map((w) => `> warning: ${w}`), ''] : []),
    formatTotals(totals) + '.',
    '',
    '| Scenario | Status | Probes | Time | Note |',
    '|---|---|---:|---:|---|',
    ...model.scenarios.map(scenarioRow),
    '',
  ];
  return lines;
}

function comparisonTable(probe: ProbeReport, observed: ObservedPath): string[] {
  const expected = probe.expected;
  const rows: [string, string, string][] = [
    ['path', expectedPathName(expected), observedPathName(observed)],
    ['outcome', expected.outcome ?? 'any', observed.outcome + (observed.httpStatus !== null ? ` (HTTP ${observed.httpStatus})` : '')],
    ['responder', expected.responder ?? 'any', observed.responder ?? 'nobody'],
    ['client sidecar', formatExpectedSide(expected.client), formatSide(observed.client)],
    ['server sidecar', formatExpectedSide(expected.server), formatSide(observed.server)],
  ];
  if (expected.explain || probe.prediction) rows.push(['explain verdict', expected.explain ?? 'any', probe.prediction?.verdict ?? 'not run']);
  return ['| | expected | observed |', '|---|---|---|', ...rows.map(([k, e, o]) => `| ${k} | ${mdCell(e)} | ${mdCell(o)} |`)];
}

function failureSection(target: TargetReport, scenario: ScenarioReport): string[] {
  const lines = [`### ❌ ${scenario.id} on Istio ${versionLabel(target)}`, '', mdCell(scenario.title), ''];
  if (scenario.error) lines.push(`Harness error: ${mdCode(scenario.error)}`, '');
  for (const probe of scenario.probes.filter((p) => p.verdict === 'fail')) {
    lines.push(`#### Probe ${mdCode(probe.name)}: ${mdCell(probeTarget(probe))}`, '');
    for (const mismatch of probe.mismatches) lines.push(`- ${mdCell(mismatch)}`);
    if (probe.mismatches.length) lines.push('');
    lines.push(`Path: ${mdCode(describePaths(probe))}`, '');
    lines.push(`Expected: ${mdCode(formatExpected(probe.expected))}`, '');
    probe.observed.forEach((observed, i) => {
      if (probe.observed.length > 1) lines.push(`Connection ${i + 1}: ${mdCode(formatObserved(observed))}`, '');
      lines.push(...comparisonTable(probe, observed), '');
      lines.push('```mermaid', pathFlowchart(probe, observed), '```', '');
      const logLines = [observed.client ? `client: ${observed.client.line}` : null, observed.server ? `server: ${observed.server.line}` : null].filter((l): l is string => l !== null);
      if (logLines.length) lines.push('<details><summary>sidecar log lines</summary>', '', '```text', ...logLines.map((l) => l.replace(/```/g, '`​``')), '```', '', '</details>', '');
    });
    if (probe.observed.length === 0) lines.push('No connection was observed for this probe.', '');
    if (probe.prediction) lines.push(`Explain predicted ${mdCode(probe.prediction.verdict)}: ${probe.prediction.steps.map(mdCode).join(' → ')}`, '');
  }
  if (scenario.evidence.length) lines.push('Evidence: ' + scenario.evidence.map((e) => `[${mdCell(e)}](${encodeURI(e)})`).join(', '), '');
  return lines;
}

export function renderSummaryMarkdown(report: RunReport): string {
  const model = buildReportModel(report);
  const { totals, versions } = model;
  const verdict = VERDICT[model.verdict];
  const lines = [
    `# podpath run ${mdCode(report.run.id)}`,
    '',
    `${verdict}: ${formatTotals(totals)} across Istio ${versions.join(', ') || '(no versions)'}.`,
    '',
  ];
  if (report.run.interrupted) lines.push('> [!WARNING]', '> The run was interrupted: scenarios that had not finished are missing or marked as such.', '');
  if (report.run.dryRun) lines.push('> [!NOTE]', '> Dry run: nothing was executed; statuses are placeholders.', '');
  lines.push(
    `Started ${report.run.startedAt}, finished ${report.run.finishedAt}, podpath ${report.run.podpathVersion}, ${mdCode(['podpath', ...report.run.argv].join(' '))}.`,
    '',
    '| Istio | passed | failed | skipped | flaky | observed | partial |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...report.targets.map((t) => {
      const c = countStatuses(t.scenarios);
      return `| ${mdCell(versionLabel(t))} | ${c.passed} | ${c.failed} | ${c.skipped} | ${c.flaky} | ${c.observed} | ${c.partial ?? 0} |`;
    }),
    '',
  );
  report.targets.forEach((target, i) => lines.push(...targetSection(target, model.targets[i])));
  const failures = report.targets.flatMap((t) => t.scenarios.filter((s) => s.status === 'failed').map((s) => [t, s] as const));
  if (failures.length) {
    lines.push('## Failures', '');
    for (const [target, scenario] of failures) lines.push(...failureSection(target, scenario));
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** A link target inside (...): parentheses and spaces would end or break it. */
function mdLinkTarget(href: string): string {
  return href.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

const MATRIX_ICON: Record<ScenarioStatus | 'missing', string> = { ...STATUS_ICON, missing: '– not run' };

/**
 * summary.md of a comparison (the upgrade flow): the same model as its HTML page, so both list the
 * same grid, counts and changed probes. Cells link to the scenario in each run's report.html.
 */
export function renderComparisonMarkdown(model: ComparisonModel): string {
  const lines = [
    `# podpath upgrade ${model.regressions ? '❌ **regressions**' : '✅ **no regression**'}: Istio ${model.a.versions.join(', ') || '-'} → ${model.b.versions.join(', ') || '-'}`,
    '',
    `A ${mdCode(model.a.id)} → B ${mdCode(model.b.id)}: ${model.countsText}.`,
    '',
  ];
  if (model.matrix) {
    lines.push(`| Scenario | ${model.matrix.columns.map((c) => `Istio ${mdCell(c.label)}`).join(' | ')} |`, `|---|${model.matrix.columns.map(() => '---').join('|')}|`);
    for (const row of model.matrix.rows) lines.push(`| ${mdCode(row.id)} | ${row.cells.map((c) => `[${MATRIX_ICON[c.status]}](${mdLinkTarget(c.href)})`).join(' | ')} |`);
    lines.push('');
  }
  for (const group of model.groups) {
    lines.push(`## ${group.title}: ${group.entries.length}`, '');
    for (const item of group.entries) {
      lines.push(`- ${mdCode(item.where)} (Istio ${item.versions})`);
      for (const change of item.changes) lines.push(`  - ${mdCode(change)}`);
      if (item.paths) lines.push(`  - ${mdCode(item.paths)}`);
    }
    lines.push('');
  }
  if (model.groups.length === 0) lines.push('No probe changed path.', '');
  return lines.join('\n');
}
