/** One record per lint rule: findings, --help and the docs table all come from (or are checked against) LINT_RULES. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { lint } from './lint.ts';
import { RULES } from './format.ts';
import { buildModel } from './model.ts';
import { loadResources } from './load.ts';
import { LINT_RULES, runRules, type LintRule } from './rules.ts';
import { SEVERITY_ORDER, type Severity } from './types.ts';

const docs = readFileSync(new URL('../../docs/lint.md', import.meta.url), 'utf8');

test('every rule is one complete record: id, readable name, severity, summary, fixes, match', (t) => {
  t.deepEqual(LINT_RULES.map((r) => r.id), ['PP001', 'PP002', 'PP003', 'PP004', 'PP005', 'PP006']);
  t.is(new Set(LINT_RULES.map((r) => r.name)).size, LINT_RULES.length, 'names are unique');
  for (const r of LINT_RULES) {
    t.regex(r.name, /^[a-z]+(?:-[a-z]+)+$/, r.id);
    t.true(r.summary.length > 20 && r.fixes.length > 0 && typeof r.match === 'function', r.id);
  }
  t.deepEqual(RULES, LINT_RULES.map((r) => ({ id: r.id, name: r.name, title: r.summary })), '--help lists the records');
});

/** The rules table of docs/lint.md: id, name and the most severe bold severity of each row. */
function docsRows(text: string): Array<{ id: string; name: string; severity: Severity | null }> {
  return [...text.matchAll(/^\| \*\*(PP\d{3})\*\* `([a-z-]+)`: [^|]*\| ([^|]*)\|/gm)].map((m) => {
    const words = [...m[3].matchAll(/\*\*([a-z/]+)\*\*/g)].flatMap((b) => b[1].split('/')).filter((w): w is Severity => w in SEVERITY_ORDER);
    const severity = words.sort((a, b) => SEVERITY_ORDER[a] - SEVERITY_ORDER[b])[0] ?? null;
    return { id: m[1], name: m[2], severity };
  });
}

test('the docs table has one row per record, in order, with its name and most severe finding', (t) => {
  t.deepEqual(docsRows(docs), LINT_RULES.map((r) => ({ id: r.id, name: r.name, severity: r.severity })));
  const renamed = docs.replace('`shared-tcp-port`', '`shared-port`');
  t.notDeepEqual(docsRows(renamed), LINT_RULES.map((r) => ({ id: r.id, name: r.name, severity: r.severity })), 'a drifted row is seen');
});

test('findings carry their rule\'s readable name', (t) => {
  const text = readFileSync(new URL('fixtures/seed/broken.yaml', import.meta.url), 'utf8');
  const findings = lint([{ path: 'broken.yaml', text }], { istio: '1.20' });
  t.true(findings.length >= 5);
  const byId = new Map(LINT_RULES.map((r) => [r.id, r.name]));
  for (const f of findings) t.is(f.name, byId.get(f.rule) ?? 'no such rule', `${f.rule} ${f.resource}`);
});

test('a rule cannot report above its record\'s severity', (t) => {
  const loud: LintRule = { id: 'PP999', name: 'too-loud', severity: 'info', summary: 'a rule that says info and reports errors', fixes: ['none'], match: (ctx, add) => {
    const anchor = ctx.model.services[0].res;
    add('error', anchor, anchor.line, 'louder than promised', 'none');
  } };
  const model = buildModel(loadResources([{ path: 'x.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n}\nspec:\n  ports: [{name: tcp, port: 1}]\n' }], []), {});
  t.throws(() => runRules(model, {}, [loud]), { message: /PP999 reported error, above its record's info/ });
});
