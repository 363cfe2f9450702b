/**
 * report.html: the run drawn for people triaging it. A header with the bed's settings and a
 * list of failed probes (each naming the hop that went wrong), then per scenario per probe the
 * observed path beside the expected one, explain's prediction and the raw evidence folded away.
 */
import type { RunReport } from './schema.ts';
import { buildReportModel, HOP_TITLES, mismatchHop, type ConnectionModel, type ProbeModel, type ReportModel, type ScenarioModel, type TargetModel } from './model.ts';
import { escapeHtml as e } from './html-escape.ts';
import { renderPage, seconds, statusBadge } from './html-page.ts';
import { renderPathSvg } from './svg-path.ts';
import { formatExpected, formatObserved } from './format.ts';

function header(model: ReportModel): string {
  const out = [
    '<header>',
    `<h1>podpath run <code>${e(model.runId)}</code> ${statusBadge(model.verdict)}</h1>`,
    `<p><b>${e(model.totalsText)}</b> across Istio ${e(model.versions.join(', ') || '(no versions)')}${model.durationMs !== null ? `, in ${seconds(model.durationMs)}` : ''}.</p>`,
    `<p class="meta">podpath ${e(model.podpathVersion)} · started ${e(model.startedAt)} · finished ${e(model.finishedAt)} · <code>${e(model.command)}</code></p>`,
  ];
  if (model.interrupted) out.push('<p class="warning"><b>■ Interrupted:</b> scenarios that had not finished are missing or marked as such.</p>');
  if (model.dryRun) out.push('<p class="warning"><b>Dry run:</b> nothing was executed; statuses are placeholders.</p>');
  // The failed probes first: with many targets the settings below would push them out of the first screen.
  if (model.failures.length) {
    out.push('<nav class="failures" aria-label="failed probes"><b>✗ Failed:</b><ul>');
    for (const f of model.failures) {
      const where = f.probe ? `${f.scenario} / ${f.probe}` : f.scenario;
      const hop = f.hop ? ` at the <b>${HOP_TITLES[f.hop]}</b>` : '';
      out.push(`<li><a href="#${e(f.anchor)}">${e(where)}</a> on Istio ${e(f.target)}${hop}: ${e(f.hop ? withoutHop(f.sentence, HOP_TITLES[f.hop]) : f.sentence)}</li>`);
    }
    out.push('</ul></nav>');
  }
  for (const target of model.targets) {
    out.push(`<div class="settings" aria-label="bed settings for Istio ${e(target.label)}">${target.settings.map(([k, v]) => `<span>${e(k)} <b>${e(v)}</b></span>`).join('')}</div>`);
  }
  out.push('</header>');
  return out.join('\n');
}

function connectionFigure(probe: ProbeModel, connection: ConnectionModel, index: number): string {
  const suffix = probe.connections.length > 1 ? ` (connection ${index + 1})` : '';
  const stop = connection.stoppedAt ? `stopped at the ${HOP_TITLES[connection.stoppedAt]}: ${connection.outcome}` : `reached the server app: ${connection.outcome}`;
  return (
    `<figure><figcaption>Observed${e(suffix)}: ${e(stop)}</figcaption>` +
    renderPathSvg(connection.hops, { kind: 'observed', label: `observed path of ${probe.name}${suffix}, ${stop}` }) +
    '</figure>'
  );
}

/** "client sidecar: expected …" under a "client sidecar" label would say the hop twice. */
function withoutHop(sentence: string, title: string): string {
  const m = /^(attempt \d+: )?(.*)$/s.exec(sentence)!;
  const rest = m[2].startsWith(`${title}: `) ? m[2].slice(title.length + 2) : m[2];
  return (m[1] ?? '') + rest;
}

function hopMismatchList(probe: ProbeModel): string {
  const rows: string[] = [];
  probe.connections.forEach((c, i) => {
    for (const hop of c.hops) {
      for (const m of hop.mismatches) {
        const about = mismatchHop(m);
        // Outcome and responder belong to the server app; when the path stopped before it, say so.
        const label = about !== 'other' && about !== hop.role ? `${HOP_TITLES[about]} (not reached)` : hop.title;
        rows.push(`<li><span class="mismatch">✗ ${e(label)}</span>${probe.connections.length > 1 ? ` (connection ${i + 1})` : ''}: ${e(withoutHop(m, hop.title))}</li>`);
      }
    }
  });
  for (const m of probe.otherMismatches) rows.push(`<li><span class="mismatch">✗ probe</span>: ${e(m)}</li>`);
  return rows.length ? `<ul class="mismatches" aria-label="mismatches">${rows.join('')}</ul>` : '';
}

function evidence(probe: ProbeModel): string {
  const logs = probe.connections.flatMap((c, i) => c.logLines.map((l) => `${probe.connections.length > 1 ? `#${i + 1} ` : ''}${l.side}: ${l.line}`));
  const parts = ['<details class="evidence"><summary>Evidence: sidecar log lines and probe result</summary>'];
  parts.push(logs.length ? `<h4>Sidecar access log lines</h4><pre data-copy class="log">${e(logs.join('\n'))}</pre>` : '<p>No sidecar access log line matched this connection.</p>');
  parts.push(`<h4>Expected</h4><pre data-copy>${e(formatExpected(probe.raw.expected))}</pre>`);
  for (const c of probe.connections) parts.push(`<h4>Observed</h4><pre data-copy>${e(formatObserved(c.raw))}</pre>`);
  parts.push(`<h4>Probe result (report.json)</h4><pre data-copy>${e(JSON.stringify(probe.raw, null, 2))}</pre>`);
  parts.push('</details>');
  return parts.join('\n');
}

export function renderProbe(probe: ProbeModel): string {
  const out = [`<div class="probe" id="${e(probe.anchor)}">`, `<h4>${statusBadge(probe.verdict)} Probe <code>${e(probe.name)}</code>: ${e(probe.target)}</h4>`];
  out.push(hopMismatchList(probe));
  out.push('<div class="paths">');
  probe.connections.forEach((c, i) => out.push(connectionFigure(probe, c, i)));
  if (probe.connections.length === 0) out.push('<p>No connection was observed for this probe.</p>');
  out.push(`<figure><figcaption>Expected${probe.raw.expected.observeOnly ? ' (observe only)' : ''}</figcaption>${renderPathSvg(probe.expected, { kind: 'expected', label: `expected path of ${probe.name}` })}</figure>`);
  out.push('</div>');
  if (probe.prediction) {
    out.push(`<p>Explain predicted <b>${e(probe.prediction.verdict)}</b>${probe.raw.expected.explain ? ` (expected ${e(probe.raw.expected.explain)})` : ''}: ${probe.prediction.steps.map((s) => `<code>${e(s)}</code>`).join(' → ')}</p>`);
  }
  out.push(evidence(probe));
  out.push('</div>');
  return out.join('\n');
}

function scenarioSection(target: TargetModel, scenario: ScenarioModel, options: HtmlReportOptions): string {
  const out = [
    `<section class="scenario ${scenario.status}" id="${e(scenario.anchor)}" aria-label="${e(scenario.id)} on Istio ${e(target.label)}">`,
    `<h3>${statusBadge(scenario.status)} <code>${e(scenario.id)}</code> on Istio ${e(target.label)}</h3>`,
    `<p>${e(scenario.title)}${scenario.seed ? ` <span class="meta">(incident: ${e(scenario.seed)})</span>` : ''} <span class="meta">· ${seconds(scenario.durationMs)}${scenario.attempts.length > 1 ? ` · attempts ${e(scenario.attempts.map((a) => a.status).join(', '))}` : ''}</span></p>`,
  ];
  if (scenario.skipReason) out.push(`<p>Skipped: ${e(scenario.skipReason)}</p>`);
  if (scenario.error) out.push(`<p class="mismatch">Harness error: ${e(scenario.error)}</p>`);
  for (const probe of scenario.probes) out.push(renderProbe(probe));
  if (scenario.evidence.length) out.push(`<p>Evidence files: ${scenario.evidence.map((f) => `<a href="${e(encodeURI(options.runDirHref && options.runDirHref !== '.' ? `${options.runDirHref}/${f}` : f))}">${e(f)}</a>`).join(', ')}</p>`);
  out.push('</section>');
  return out.join('\n');
}

function targetSection(target: TargetModel, options: HtmlReportOptions): string {
  const t = target.totals;
  const out = [
    `<section class="target" id="${e(target.anchor)}">`,
    `<h2>Istio ${e(target.label)}</h2>`,
    `<p>${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t.flaky} flaky, ${t.observed} observed · cluster <code>${e(target.cluster)}</code>, Kubernetes ${e(target.kubernetes ?? 'unknown')}</p>`,
    ...target.warnings.map((w) => `<p class="warning">Warning: ${e(w)}</p>`),
    '<table><thead><tr><th>Scenario</th><th>Status</th><th>Note</th></tr></thead><tbody>',
    ...target.scenarios.map((s) => `<tr><td><a href="#${e(s.anchor)}"><code>${e(s.id)}</code></a></td><td>${statusBadge(s.status)}</td><td>${e(s.note)}</td></tr>`),
    '</tbody></table>',
  ];
  // Failures first: the page is read top-down by someone looking for what broke.
  const order = [...target.scenarios].sort((a, b) => Number(b.status === 'failed') - Number(a.status === 'failed'));
  for (const scenario of order) out.push(scenarioSection(target, scenario, options));
  out.push('</section>');
  return out.join('\n');
}

export interface HtmlReportOptions {
  /** The run folder as seen from the page, when the page is not inside it (evidence links start there). */
  runDirHref?: string;
}

export function renderHtmlReport(report: RunReport, options: HtmlReportOptions = {}): string {
  const model = buildReportModel(report);
  const body = [header(model), '<main>', ...model.targets.map((t) => targetSection(t, options)), '</main>'].join('\n');
  return renderPage(`podpath ${model.verdict}: ${model.runId}`, body);
}
