/**
 * `podpath report RUN`: re-render a finished run (a results/<run-id> directory or its
 * report.json) as the terminal table, summary.md, junit.xml, report.html or the validated JSON;
 * with --matrix, several runs as one scenarios × Istio versions page.
 */
import type { Command } from '../command.ts';
import { wantsColor, write, type Io } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { readReport, renderJunit, renderSummaryMarkdown, renderTerminalTable, countStatuses, renderHtmlReport, renderHtmlMatrix, unavailableBeds } from '../../report/index.ts';
import { emitHtml, runDirHref, runReportHref } from '../html-output.ts';

const FORMATS = ['table', 'md', 'junit', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

export const reportCommand: Command = {
  name: 'report',
  summary: 'Re-render the reports of a finished run',
  usage: 'RUN [--format table|md|junit|json|html] [--out FILE] | RUN... --format html --matrix [--out FILE]',
  details: [
    'RUN is a results/<run-id> directory or its report.json.',
    '',
    'Formats: table (default, what podpath run prints at the end), md (summary.md, with a mermaid',
    'diagram of each failing path), junit (junit.xml for CI test reporters), json (report.json, checked',
    'against schema version 1), html (report.html: one self-contained page, each probe\'s path drawn',
    'beside the expected one; podpath run writes it into every run directory).',
    '',
    '--matrix (with --format html) takes several runs and draws scenarios × Istio versions; every cell',
    'links to that scenario in its run\'s report.html, relative to where the page is written (--out, or',
    'the current directory when it goes to stdout).',
    '',
    'Examples:',
    '  podpath report results/20261123T101500.123Z-3f9a',
    '  podpath report results/20261123T101500.123Z-3f9a/report.json --format md > summary.md',
    '  podpath report results/* --format html --matrix --out matrix.html',
    '',
    'Exit codes: 0 the run passed, 1 it had failures, 2 missing or invalid report (or unsupported schema',
    'version), or a run whose bed was unavailable or that was aborted (said on stderr).',
    'Guide: docs/reports.md',
  ].join('\n'),
  options: {
    format: { type: 'string', valueName: 'FORMAT', description: 'table, md, junit, json or html (default table)' },
    matrix: { type: 'boolean', description: 'with --format html: one page of scenarios × Istio versions over every RUN given' },
    out: { type: 'string', valueName: 'FILE', description: 'with --format html: write the page to FILE instead of stdout' },
  },
  allowPositionals: true,
  async run({ values, positionals, io }) {
    const out = values.out as string | undefined;
    if (values.matrix) {
      if ((values.format ?? 'html') !== 'html') throw new UsageError('report: --matrix is an HTML page; use it with --format html');
      if (positionals.length === 0) throw new UsageError('report --matrix: which runs? pass one or more results/<run-id> directories', { hint: 'e.g. podpath report results/* --format html --matrix --out matrix.html' });
      const loaded = [];
      for (const where of positionals) loaded.push(await readReport(where, io.cwd));
      await emitHtml(io, out, renderHtmlMatrix(loaded.map((l) => ({ report: l.report, href: runReportHref(io, out, l.runDir) }))));
      return loaded.some((l) => countStatuses(l.report.targets.flatMap((t) => t.scenarios)).failed > 0) ? 1 : 0;
    }
    if (out !== undefined && values.format !== 'html') throw new UsageError('report: --out is for --format html; redirect stdout for the other formats');
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'report: which run? pass a results/<run-id> directory' : 'report: pass exactly one run (or several with --format html --matrix)', {
        hint: "Run 'podpath report --help' for usage; list runs with: ls results/",
      });
    }
    const format = (values.format ?? 'table') as string;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`report: unknown --format '${format}'`, { hint: `Use one of: ${FORMATS.join(', ')}.` });
    }
    const { report, runDir } = await readReport(positionals[0], io.cwd);
    const render: Record<Format, () => string> = {
      table: () => renderTerminalTable(report, { color: wantsColor(io) }),
      md: () => renderSummaryMarkdown(report),
      junit: () => renderJunit(report),
      json: () => JSON.stringify(report, null, 2) + '\n',
      // With --out elsewhere, evidence links are rewritten to reach the run folder from the page.
      html: () => renderHtmlReport(report, out ? { runDirHref: runDirHref(io, out, runDir) } : {}),
    };
    if (format === 'html') await emitHtml(io, out, render.html());
    else await write(io.stdout, render[format as Format]());
    // A bed that never came up ran nothing: its "failed" scenarios say nothing about Istio.
    const unavailable = unavailableBeds(report);
    if (unavailable.length > 0) {
      await write(io.stderr, unavailable.map((u) => `podpath: ${u}: its scenarios did not run\n`).join(''));
      return 2;
    }
    if (report.run.aborted) {
      await write(io.stderr, `podpath: the run was aborted (${report.run.aborted}): scenarios after that did not run\n`);
      return 2;
    }
    return countStatuses(report.targets.flatMap((t) => t.scenarios)).failed > 0 ? 1 : 0;
  },
};
