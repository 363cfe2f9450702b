/**
 * The terminal view of a run: the final table of `podpath run` and the default of
 * `podpath report`. One row per scenario, one column per Istio version, then why things
 * failed or were skipped, then the totals line.
 */
import { styleText } from 'node:util';
import type { RunReport, ScenarioStatus } from './schema.ts';
import { countStatuses, formatTotals, failureHeadline, versionLabel } from './format.ts';
import { describePaths } from './paths.ts';

type Style = Parameters<typeof styleText>[0];

const CELL: Record<ScenarioStatus, { text: string; style: Style }> = {
  passed: { text: 'pass', style: 'green' },
  failed: { text: 'FAIL', style: ['red', 'bold'] },
  skipped: { text: 'skip', style: 'gray' },
  flaky: { text: 'flaky', style: 'yellow' },
  observed: { text: 'observed', style: 'cyan' },
  partial: { text: 'partial', style: 'cyan' },
};

export interface TableOptions {
  /** The caller decides (TTY, NO_COLOR); this module never looks at the environment. */
  color: boolean;
}

export function renderTerminalTable(report: RunReport, options: TableOptions): string {
  const paint = (style: Style, text: string) => (options.color ? styleText(style, text, { validateStream: false }) : text);
  const versions = report.targets.map(versionLabel);
  const ids: string[] = [];
  for (const target of report.targets) for (const s of target.scenarios) if (!ids.includes(s.id)) ids.push(s.id);
  const status = (targetIndex: number, id: string) => report.targets[targetIndex].scenarios.find((s) => s.id === id)?.status;

  const header = ['scenario', ...versions.map((v) => `istio ${v}`)];
  const widths = header.map((h, i) => Math.max(h.length, ...(i === 0 ? ids.map((id) => id.length) : ids.map(() => 'observed'.length))));
  const pad = (text: string, i: number) => text.padEnd(widths[i]);
  const lines = [paint('bold', header.map(pad).join('  ').trimEnd())];
  for (const id of ids) {
    const cells = versions.map((_, ti) => {
      const s = status(ti, id);
      // Paint the word only and pad outside: escape codes must not count toward the width.
      const text = s ? CELL[s].text : '—';
      const spaces = ' '.repeat(widths[ti + 1] - text.length);
      return (s ? paint(CELL[s].style, text) : text) + spaces;
    });
    lines.push([pad(id, 0), ...cells].join('  ').replace(/ +$/, ''));
  }

  const notes: string[] = [];
  for (const target of report.targets) {
    for (const s of target.scenarios) {
      const where = `${s.id} [istio ${versionLabel(target)}]`;
      if (s.status === 'failed') {
        notes.push(`${paint('red', '✗')} ${where}: ${failureHeadline(s)}`);
        for (const p of s.probes.filter((x) => x.verdict === 'fail')) notes.push(`    ${p.name}: path ${describePaths(p)}`);
      }
      else if (s.status === 'skipped') notes.push(`${paint('gray', '-')} ${where}: skipped, ${s.skipReason ?? 'no reason recorded'}`);
      else if (s.status === 'flaky') notes.push(`${paint('yellow', '~')} ${where}: flaky (${s.attempts.map((a) => a.status).join(', ')})`);
    }
  }
  if (notes.length) lines.push('', ...notes);

  const totals = countStatuses(report.targets.flatMap((t) => t.scenarios));
  const summary = formatTotals(totals) + (report.run.interrupted ? ' (run interrupted)' : '') + (report.run.dryRun ? ' (dry run)' : '');
  lines.push('', paint(totals.failed > 0 ? ['red', 'bold'] : report.run.interrupted ? 'yellow' : 'green', summary));
  return lines.join('\n') + '\n';
}
