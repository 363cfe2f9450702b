/**
 * junit.xml in the shape Jenkins, GitLab and GitHub test reporters read (the common "JUnit XML"
 * schema): testsuites > testsuite (one per Istio version) > testcase (one per scenario).
 * Flaky and observed scenarios are passed test cases with a <system-out> note, because that
 * schema has no such states; testcase-level <properties> would break strict validators, so
 * observations also go to the suite's <properties>.
 */
import type { RunReport, ScenarioReport, TargetReport } from './schema.ts';
import { countStatuses, formatExpected, formatMtls, formatFeatures, formatObserved, recorded, seconds, targetLabel, failureHeadline, probeTarget } from './format.ts';

// XML 1.0 Char production: everything else (NUL, most C0 controls, lone surrogates, U+FFFE/F) is illegal even escaped.
const ILLEGAL_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Illegal characters become a visible "\uXXXX" so a NUL in a log line is still diagnosable. */
export function xmlSafe(text: string): string {
  return text.replace(ILLEGAL_XML, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

export function escapeXmlText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values also keep their newlines and tabs (parsers normalise raw ones to spaces). */
export function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeXmlAttribute(String(v))}"`)
    .join('');
}

function scenarioSeconds(scenario: ScenarioReport): number {
  return scenario.timings.total;
}

/** Actual-vs-expected text for a failed scenario: every failing probe, its mismatches, both paths, evidence. */
export function failureText(scenario: ScenarioReport): string {
  const lines: string[] = [];
  if (scenario.error) lines.push(`harness error: ${scenario.error}`, '');
  for (const probe of scenario.probes) {
    if (probe.verdict !== 'fail') continue;
    lines.push(`probe ${probe.name} (${probeTarget(probe)})`);
    for (const mismatch of probe.mismatches) lines.push(`  - ${mismatch}`);
    lines.push(`  expected: ${formatExpected(probe.expected)}`);
    if (probe.observed.length === 0) lines.push('  actual:   no connection observed');
    probe.observed.forEach((observed, i) => {
      lines.push(`  actual${probe.observed.length > 1 ? ` #${i + 1}` : ''}:   ${formatObserved(observed)}`);
      if (observed.client) lines.push(`    client sidecar: ${observed.client.line}`);
      if (observed.server) lines.push(`    server sidecar: ${observed.server.line}`);
    });
    if (probe.prediction) lines.push(`  explain: ${probe.prediction.verdict} (${probe.prediction.steps.join(' → ')})`);
    lines.push('');
  }
  if (scenario.evidence.length) lines.push('evidence:', ...scenario.evidence.map((e) => `  ${e}`));
  return lines.join('\n').trimEnd();
}

function observationNote(scenario: ScenarioReport): string {
  const lines: string[] = [];
  if (scenario.status === 'flaky') {
    lines.push(`FLAKY: attempts disagreed (${scenario.attempts.map((a) => `#${a.attempt} ${a.status}`).join(', ')}); reported as passed.`);
  }
  if (scenario.status === 'observed') lines.push('OBSERVED: behaviour recorded, not checked (observe); reported as passed.');
  if (scenario.status === 'partial') lines.push(`PARTIAL: ${scenario.probes.filter((p) => p.verdict === 'observe').map((p) => p.name).join(', ')} only observed, not checked; the other probes passed; reported as passed.`);
  for (const probe of scenario.probes) {
    for (const observed of probe.observed) lines.push(`probe ${probe.name}: ${formatObserved(observed)}`);
  }
  return lines.join('\n');
}

function testcase(target: TargetReport, scenario: ScenarioReport): string {
  const open = `    <testcase${attrs({ name: scenario.id, classname: targetLabel(target), time: seconds(scenarioSeconds(scenario)) })}`;
  const body: string[] = [];
  switch (scenario.status) {
    case 'failed': {
      // A harness error (the scenario could not be checked) is an <error>, a wrong path a <failure>.
      const element = scenario.error ? 'error' : 'failure';
      body.push(`      <${element}${attrs({ message: failureHeadline(scenario), type: scenario.error ? 'HarnessError' : 'PathMismatch' })}>${escapeXmlText(failureText(scenario))}</${element}>`);
      break;
    }
    case 'skipped':
      body.push(`      <skipped${attrs({ message: scenario.skipReason ?? 'skipped (no reason recorded)' })}/>`);
      break;
    case 'flaky':
    case 'observed':
    case 'partial':
      body.push(`      <system-out>${escapeXmlText(observationNote(scenario))}</system-out>`);
      break;
    case 'passed':
      break;
  }
  return body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

function suiteProperties(target: TargetReport): string[] {
  const props: [string, string][] = [
    ['istio.version', target.istio.version],
    ['kubernetes', target.kubernetes ?? 'unknown'],
    ['cluster', target.cluster],
    ['kind', recorded(target.kind)],
    ['nodeImage', recorded(target.nodeImage)],
    ['meshConfig.connectTimeout', target.istio.meshConfig.connectTimeout ?? 'default'],
    ['meshConfig.accessLogEncoding', target.istio.meshConfig.accessLogEncoding],
    ['mtls', formatMtls(target.mtls)],
    ['features', formatFeatures(target.features)],
    ...Object.entries(target.istio.pilotEnv).map(([k, v]): [string, string] => [`pilotEnv.${k}`, v]),
  ];
  for (const scenario of target.scenarios) {
    if (scenario.status !== 'observed' && scenario.status !== 'partial') continue;
    for (const probe of scenario.probes) {
      if (probe.verdict !== 'observe') continue;
      probe.observed.forEach((observed, i) => props.push([`observed.${scenario.id}.${probe.name}${probe.observed.length > 1 ? `.${i + 1}` : ''}`, formatObserved(observed)]));
    }
  }
  return ['    <properties>', ...props.map(([name, value]) => `      <property${attrs({ name, value })}/>`), '    </properties>'];
}

function errorCount(scenarios: readonly ScenarioReport[]): number {
  return scenarios.filter((s) => s.status === 'failed' && s.error).length;
}

function testsuite(report: RunReport, target: TargetReport): string {
  const totals = countStatuses(target.scenarios);
  const errors = errorCount(target.scenarios);
  const time = target.scenarios.reduce((sum, s) => sum + scenarioSeconds(s), 0);
  const head = `  <testsuite${attrs({
    name: targetLabel(target),
    tests: target.scenarios.length,
    failures: totals.failed - errors,
    errors,
    skipped: totals.skipped,
    time: seconds(time),
    timestamp: report.run.startedAt.replace(/Z$/, '').replace(/\.\d+$/, ''),
    hostname: target.cluster,
  })}>`;
  return [head, ...suiteProperties(target), ...target.scenarios.map((s) => testcase(target, s)), '  </testsuite>'].join('\n');
}

export function renderJunit(report: RunReport): string {
  const all = report.targets.flatMap((t) => t.scenarios);
  const totals = countStatuses(all);
  const errors = errorCount(all);
  const durationMs = Date.parse(report.run.finishedAt) - Date.parse(report.run.startedAt);
  const head = `<testsuites${attrs({
    name: `podpath ${report.run.id}${report.run.interrupted ? ' (interrupted)' : ''}`,
    tests: all.length,
    failures: totals.failed - errors,
    errors,
    skipped: totals.skipped,
    time: seconds(Number.isFinite(durationMs) ? durationMs : 0),
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...report.targets.map((t) => testsuite(report, t)), '</testsuites>', ''].join('\n');
}
