import test from 'ava';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { flowStamp, scriptArgs, splitList } from './args.ts';

test('scriptArgs finds the script in argv under node and under zx', (t) => {
  const file = path.resolve('scripts/nightly.ts');
  const url = pathToFileURL(file).href;
  t.deepEqual(scriptArgs(url, ['/usr/bin/node', file, '--istio', '1.30']), ['--istio', '1.30']);
  t.deepEqual(scriptArgs(url, ['/usr/bin/node', '/x/node_modules/zx/build/cli.js', 'scripts/nightly.ts', '--dry-run']), ['--dry-run']);
});

test('splitList and flowStamp', (t) => {
  t.deepEqual(splitList(['1.29,1.30', ' 1.28 ']), ['1.29', '1.30', '1.28']);
  t.deepEqual(splitList(undefined), []);
  t.is(flowStamp(new Date('2026-11-23T02:00:00.123Z')), '20261123T020000Z');
});
