/** A `partial` scenario (some probes passed, others only observed) reads as partial everywhere, never as a plain pass. */
import test from 'ava';
import { renderJunit } from './junit.ts';
import { renderTerminalTable } from './table.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { renderHtmlReport } from './html.ts';
import { validateReport } from './load.ts';
import { countStatuses, formatTotals } from './format.ts';
import { collisionPath, probe, report, scenario, target } from './testing/fixtures.ts';

const partial = scenario({
  id: 'half-pinned',
  status: 'partial',
  attempts: [{ attempt: 1, status: 'partial' }],
  probes: [probe(), probe({ name: 'pod-ip-8080', verdict: 'observe', observed: [collisionPath()], expected: { ...probe().expected, observeOnly: true } })],
});
const run = report([target('1.24.3', [scenario(), partial])]);

test('totals count partial apart from passed', (t) => {
  t.like(countStatuses(run.targets[0].scenarios), { passed: 1, partial: 1 });
  t.is(formatTotals(countStatuses(run.targets[0].scenarios)), '1 passed, 0 failed, 0 skipped, 0 flaky, 0 observed, 1 partial');
  t.is(formatTotals(countStatuses([scenario()])), '1 passed, 0 failed, 0 skipped, 0 flaky, 0 observed', 'unchanged when there is none');
});

test('report.json with a partial scenario loads back', (t) => {
  t.notThrows(() => validateReport(JSON.parse(JSON.stringify(run))));
});

test('JUnit says which probes were only observed; the table, Markdown and HTML say partial', (t) => {
  const xml = renderJunit(run);
  t.regex(xml, /PARTIAL: pod-ip-8080 only observed, not checked; the other probes passed/);
  t.regex(xml, /name="observed\.half-pinned\.pod-ip-8080"/);
  t.notRegex(xml, /name="observed\.half-pinned\.pod-ip-5701"/, 'the checked probe is not listed as observed');
  t.regex(renderTerminalTable(run, { color: false }), /half-pinned\s+partial/);
  t.regex(renderSummaryMarkdown(run), /\| 1\.24\.3 \| 1 \| 0 \| 0 \| 0 \| 0 \| 1 \|/);
  t.regex(renderSummaryMarkdown(run), /◐ partial/);
  t.regex(renderHtmlReport(run), /◐<\/span> partial/);
});
