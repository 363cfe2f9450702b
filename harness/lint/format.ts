import type { Finding, Severity } from './types.ts';
import { LINT_RULES } from './rules.ts';

/** One line per rule, for --help: from the rule records, like the docs table (tested against them). */
export const RULES: readonly { id: string; name: string; title: string }[] = LINT_RULES.map((r) => ({ id: r.id, name: r.name, title: r.summary }));

/** NDJSON: one object per line with exactly the contract's keys. */
export function findingToJson(f: Finding): string {
  return JSON.stringify({ rule: f.rule, name: f.name, severity: f.severity, resource: f.resource, file: f.file, line: f.line, message: f.message, fix: f.fix });
}

export type Painter = (style: 'red' | 'yellow' | 'cyan' | 'bold' | 'dim' | 'green', text: string) => string;

const STYLE: Record<Severity, 'red' | 'yellow' | 'cyan'> = { error: 'red', warning: 'yellow', info: 'cyan' };

export function summarize(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** Findings grouped by file (in the order given), then one block per finding. */
export function formatHuman(findings: readonly Finding[], paint: Painter = (_s, t) => t): string {
  const out: string[] = [];
  let file: string | null = null;
  for (const f of findings) {
    if (f.file !== file) {
      if (file !== null) out.push('');
      file = f.file;
      out.push(paint('bold', f.file));
    }
    const where = `${f.file}:${f.line}`;
    out.push(`  ${paint(STYLE[f.severity], f.severity.padEnd(7))} ${paint('bold', f.rule)} ${f.name}  ${f.resource}  ${paint('dim', where)}`);
    out.push(`           ${f.message}`);
    out.push(`           ${paint('green', 'fix:')} ${f.fix}`);
  }
  const c = summarize(findings);
  if (out.length) out.push('');
  out.push(findings.length === 0
    ? paint('green', 'No findings.')
    : `${findings.length} finding${findings.length === 1 ? '' : 's'}: ${paint(c.error ? 'red' : 'bold', `${c.error} error${c.error === 1 ? '' : 's'}`)}, ${c.warning} warning${c.warning === 1 ? '' : 's'}, ${c.info} info`);
  return out.join('\n') + '\n';
}
