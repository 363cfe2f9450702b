import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { applyMutant, formatScore, MUTANTS, parseMutationArgs, scores, TESTS_FOR } from './mutation.ts';
import { UsageError } from '../../harness/errors/index.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

test('every mutant still fits the code: its snippet occurs exactly once and the break changes the file', async (t) => {
  for (const mutant of MUTANTS) {
    const source = await readFile(`${repoRoot}${mutant.file}`, 'utf8');
    const applied = applyMutant(source, mutant);
    t.true(applied.ok, `${mutant.file}: "${mutant.what}" ${applied.ok ? '' : applied.reason}: update scripts/lib/mutation.ts with the code`);
    if (applied.ok) t.not(applied.text, source, mutant.what);
    t.true(mutant.file in TESTS_FOR, `${mutant.file} has tests to run`);
  }
  t.deepEqual(new Set(MUTANTS.map((m) => m.what)).size, MUTANTS.length, 'each mutant says a different thing');
});

test('applyMutant refuses a snippet that is missing or ambiguous; scores count timeouts as caught and stale mutants apart', (t) => {
  const m = { file: 'f.ts', what: 'x', find: 'a === b', replace: 'true' };
  t.deepEqual(applyMutant('if (a === b) go();', m), { ok: true, text: 'if (true) go();' });
  t.false(applyMutant('if (a !== b) go();', m).ok);
  t.false(applyMutant('a === b; a === b', m).ok);
  const s = scores([{ mutant: m, status: 'killed' }, { mutant: { ...m, what: 'y' }, status: 'timeout' }, { mutant: { ...m, what: 'z' }, status: 'survived' }, { mutant: { ...m, what: 'w' }, status: 'stale' }]);
  t.deepEqual(s, [{ file: 'f.ts', killed: 2, total: 3, survivors: ['z'], stale: ['w'] }]);
  t.is(formatScore(s[0]), 'f.ts: 2/3 killed (67%); survived: z; no longer fit the code: w');
  t.deepEqual(parseMutationArgs(['--file', 'diff', '--json']), { file: 'diff', json: true, help: false });
  t.throws(() => parseMutationArgs(['--nope']), { instanceOf: UsageError });
});
