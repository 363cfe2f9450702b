/** One record per diagnose signature: the diagnoser, --help and docs/logs.md's table come from (or are checked against) SIGNATURES. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { diagnose, parseLogText, SIGNATURE_IDS, SIGNATURES } from './index.ts';

const docs = readFileSync(new URL('../../docs/logs.md', import.meta.url), 'utf8');

test('every signature is one complete record: id, readable name, severity, summary, fixes, match', (t) => {
  t.is(new Set(SIGNATURES.map((s) => s.id)).size, SIGNATURES.length);
  for (const s of SIGNATURES) {
    t.regex(s.id, /^[a-z]+(?:-[a-z]+)*$/);
    t.true(s.name.length > 10 && s.summary.length > 40 && s.fixes.length > 0 && typeof s.match === 'function', s.id);
  }
  t.deepEqual(SIGNATURE_IDS, SIGNATURES.map((s) => s.id));
});

/** The Signatures table of docs/logs.md: id and severity cell per row, in order. */
function docsRows(text: string): Array<{ id: string; severity: string }> {
  const section = text.slice(text.indexOf('## Signatures'));
  return [...section.matchAll(/^\| `([a-z-]+)` \| ([^|]+) \|/gm)].map((m) => ({ id: m[1], severity: m[2].trim() }));
}

test('the docs table has one row per record, in order, naming the record\'s severity', (t) => {
  const rows = docsRows(docs);
  t.deepEqual(rows.map((r) => r.id), SIGNATURES.map((s) => s.id));
  for (const [i, s] of SIGNATURES.entries()) t.true(new RegExp(`\\b${s.severity}\\b`).test(rows[i].severity), `${s.id}: ${rows[i].severity}`);
});

test('a diagnosis carries its record: the name as its title, the record\'s severity and fixes', (t) => {
  const log = '[2024-09-01T12:00:00.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.8:5701 10.244.1.5:45555 - -';
  const [d] = diagnose(parseLogText(log, { source: 't' }).entries);
  const record = SIGNATURES.find((s) => s.id === 'plaintext-to-strict-mtls');
  t.like(d, { id: record?.id, title: record?.name, severity: record?.severity, fixes: record?.fixes });
  t.true(d.meaning.startsWith(record?.summary ?? '-'));
});
