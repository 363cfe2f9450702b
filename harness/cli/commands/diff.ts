/**
 * `podpath diff RUN_A RUN_B`: the upgrade-validation view. Lists every scenario probe whose
 * verdict, outcome, responder, flags or cluster changed between two runs; exit 1 on regression.
 */
import type { Command } from '../command.ts';
import { write } from '../output.ts';
import { EnvironmentError, UsageError } from '../../errors/index.ts';
import { diffReports, hasRegressions, readReport, renderDiff, renderHtmlDiff, unavailableBeds } from '../../report/index.ts';
import { emitHtml, runReportHref } from '../html-output.ts';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare two runs (e.g. Istio A vs B) and list what changed',
  usage: 'RUN_A RUN_B [--json | --format html [--out FILE]]',
  details: [
    'RUN_A and RUN_B are results/<run-id> directories or report.json files; A is the baseline.',
    'Rows are scenario + probe; targets pair by equal Istio version, then in version order (so a',
    'run on 1.29 compares with a run on 1.30).',
    '',
    'Kinds: regression (pass → fail), fix (fail → pass), changed (same verdict, different outcome,',
    'responder, flags or cluster), skipped (skipped on one side only), only in A, only in B.',
    '',
    '--format html writes one page: both runs as a scenarios x versions grid, then every changed',
    'probe\'s path in A and in B side by side, with links into each run\'s report.html (relative to',
    '--out, or to the current directory for stdout). The upgrade flow writes the same page.',
    '',
    'Example:',
    '  podpath diff results/<run-on-1.29> results/<run-on-1.30>',
    '  podpath diff results/<run-on-1.29> results/<run-on-1.30> --format html --out upgrade.html',
    '',
    'Exit codes: 0 no regression, 1 at least one regression, 2 missing or invalid report, or a run',
    'with a bed marked unavailable (its scenarios did not run: there is nothing to compare).',
    'Guide: docs/reports.md',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'print the diff as JSON (kinds, before/after snapshots, counts)' },
    format: { type: 'string', valueName: 'FORMAT', description: 'text (default) or html (paths drawn side by side)' },
    out: { type: 'string', valueName: 'FILE', description: 'with --format html: write the page to FILE instead of stdout' },
  },
  allowPositionals: true,
  async run({ values, positionals, io }) {
    if (positionals.length !== 2) {
      throw new UsageError(`diff: needs two runs (got ${positionals.length})`, { hint: "Usage: podpath diff RUN_A RUN_B; run 'podpath diff --help' for details." });
    }
    const format = (values.format ?? 'text') as string;
    if (format !== 'text' && format !== 'html') throw new UsageError(`diff: unknown --format '${format}'`, { hint: 'Use text or html (or --json).' });
    if (format === 'html' && values.json) throw new UsageError('diff: --json and --format html are two different outputs; pick one');
    const out = values.out as string | undefined;
    if (out !== undefined && format !== 'html') throw new UsageError('diff: --out is for --format html; redirect stdout for text or --json');
    const [a, b] = await Promise.all(positionals.map((p) => readReport(p, io.cwd)));
    // A bed that never came up on either side would read as "unchanged" (failed → failed): refuse instead.
    const problems = [['A', a.report], ['B', b.report]] as const;
    for (const [side, report] of problems) {
      const unavailable = unavailableBeds(report);
      if (unavailable.length > 0) {
        throw new EnvironmentError(`cannot compare: run ${side}'s ${unavailable.join('; ')}`, { hint: 'Its scenarios did not run. Run it again once the bed comes up (podpath status says why not).' });
      }
    }
    const diff = diffReports(a.report, b.report);
    if (format === 'html') {
      await emitHtml(io, out, renderHtmlDiff(a.report, b.report, { a: runReportHref(io, out, a.runDir), b: runReportHref(io, out, b.runDir) }, diff));
    } else {
      await write(io.stdout, values.json ? JSON.stringify(diff, null, 2) + '\n' : renderDiff(diff));
    }
    return hasRegressions(diff) ? 1 : 0;
  },
};
