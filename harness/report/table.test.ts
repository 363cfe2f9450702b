import test from 'ava';
import { stripVTControlCharacters } from 'node:util';
import { renderTerminalTable } from './table.ts';
import { matrixReport, report, scenario, target } from './testing/fixtures.ts';

test('one row per scenario, one column per version, a dash where a scenario did not exist', (t) => {
  const out = renderTerminalTable(matrixReport(), { color: false });
  const lines = out.split('\n');
  t.regex(lines[0], /^scenario +istio 1\.20\.8 +istio 1\.24\.3$/);
  t.regex(out, /^externalname-5701-collision +FAIL +pass$/m);
  t.regex(out, /^serviceentry-dns-5701-collision +skip +observed$/m);
  t.regex(out, /^fix-sidecar-egress +flaky +—$/m);
});

test('failures, skips and flaky scenarios are explained under the table, then the totals', (t) => {
  const out = renderTerminalTable(matrixReport(), { color: false });
  t.regex(out, /✗ externalname-5701-collision \[istio 1\.20\.8\]: pod-ip-5701: outcome: expected echoed, saw closed-after-connect/);
  t.regex(out, /- serviceentry-dns-5701-collision \[istio 1\.20\.8\]: skipped, applies to istio >=1\.24/);
  t.regex(out, /~ fix-sidecar-egress \[istio 1\.20\.8\]: flaky \(passed, failed\)/);
  t.regex(out, /\n3 passed, 1 failed, 1 skipped, 1 flaky, 1 observed\n$/);
});

test('color adds escape codes without changing the text or the alignment', (t) => {
  const plain = renderTerminalTable(matrixReport(), { color: false });
  const colored = renderTerminalTable(matrixReport(), { color: true });
  t.not(plain, colored);
  t.true(colored.includes('\u001b['));
  t.is(stripVTControlCharacters(colored), plain);
  t.false(plain.includes('\u001b['));
});

test('an interrupted run is marked in the totals line', (t) => {
  const out = renderTerminalTable(report([target('1.30.1', [scenario()])], { interrupted: true }), { color: false });
  t.regex(out, /1 passed, 0 failed, 0 skipped, 0 flaky, 0 observed \(run interrupted\)\n$/);
});
