/**
 * `podpath report RUN`: re-render a finished run (a results/<run-id> directory or its
 * report.json) as the terminal table, summary.md, junit.xml or the validated JSON.
 */
import type { Command } from '../command.ts';
import { wantsColor, write, type Io } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { readReport, renderJunit, renderSummaryMarkdown, renderTerminalTable, countStatuses, unavailableBeds } from '../../report/index.ts';

const FORMATS = ['table', 'md', 'junit', 'json'] as const;
type Format = (typeof FORMATS)[number];

export const reportCommand: Command = {
  name: 'report',
  summary: 'Re-render the reports of a finished run',
  usage: 'RUN [--format table|md|junit|json]',
  details: [
    'RUN is a results/<run-id> directory or its report.json.',
    '',
    'Formats: table (default, what podpath run prints at the end), md (summary.md, with a mermaid',
    'diagram of each failing path), junit (junit.xml for CI test reporters), json (report.json, checked',
    'against schema version 1).',
    '',
    'Examples:',
    '  podpath report results/20261123T101500.123Z-3f9a',
    '  podpath report results/20261123T101500.123Z-3f9a/report.json --format md > summary.md',
    '',
    'Exit codes: 0 the run passed, 1 it had failures, 2 missing or invalid report (or unsupported schema',
    'version), or a run whose bed was unavailable or that was aborted (said on stderr).',
    'Guide: docs/reports.md',
  ].join('\n'),
  options: {
    format: { type: 'string', valueName: 'FORMAT', description: 'table, md, junit or json (default table)' },
  },
  allowPositionals: true,
  async run({ values, positionals, io }) {
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'report: which run? pass a results/<run-id> directory' : 'report: pass exactly one run', {
        hint: "Run 'podpath report --help' for usage; list runs with: ls results/",
      });
    }
    const format = (values.format ?? 'table') as string;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`report: unknown --format '${format}'`, { hint: `Use one of: ${FORMATS.join(', ')}.` });
    }
    const { report } = await readReport(positionals[0], io.cwd);
    const render: Record<Format, () => string> = {
      table: () => renderTerminalTable(report, { color: wantsColor(io) }),
      md: () => renderSummaryMarkdown(report),
      junit: () => renderJunit(report),
      json: () => JSON.stringify(report, null, 2) + '\n',
    };
    await write(io.stdout, render[format as Format]());
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
