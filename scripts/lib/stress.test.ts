import test from 'ava';
import { UsageError } from '../../harness/errors/index.ts';
import { leftovers, parseStressArgs, summarizeLeftovers } from './stress.ts';

test('stress flags: three runs and one hog per core by default; counts must be whole numbers >= 1', (t) => {
  t.deepEqual(parseStressArgs([], 2), { runs: 3, hogs: 2, help: false });
  t.deepEqual(parseStressArgs(['--runs', '1', '--hogs', '4'], 2), { runs: 1, hogs: 4, help: false });
  t.true(parseStressArgs(['--help'], 2).help);
  for (const argv of [['--runs', '0'], ['--hogs', 'x'], ['--runs', '1.5'], ['--nope'], ['extra']]) t.throws(() => parseStressArgs(argv, 2), { instanceOf: UsageError }, argv.join(' '));
});

test('stress leftovers: only podpath-* entries count, grouped by prefix', (t) => {
  const left = leftovers(['node-compile-cache', 'podpath-bed-b2', 'podpath-tools-x', 'podpath-bed-a1', 'other']);
  t.deepEqual(left, ['podpath-bed-a1', 'podpath-bed-b2', 'podpath-tools-x']);
  t.is(summarizeLeftovers(left), 'podpath-bed-* x2, podpath-tools-* x1');
  t.deepEqual(leftovers([]), []);
});
