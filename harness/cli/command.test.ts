import test from 'ava';
import { PassThrough } from 'node:stream';
import { inputPaths } from './command.ts';
import { main } from './main.ts';
import { captureIo } from '../testing/capture-io.ts';
import { UsageError } from '../errors/index.ts';

function ctx(positionals: string[], stdinIsTTY: boolean) {
  const { io } = captureIo();
  const stdin = Object.assign(new PassThrough(), { isTTY: stdinIsTTY });
  return { positionals, io: { ...io, stdin } };
}

test('inputPaths: the positionals as given', (t) => {
  t.deepEqual(inputPaths(ctx(['a.log', '-', 'b.log'], true), 'logs', 'hint'), ['a.log', '-', 'b.log']);
});

test('inputPaths: no positionals and piped stdin means stdin', (t) => {
  t.deepEqual(inputPaths(ctx([], false), 'logs', 'hint'), ['-']);
});

test('inputPaths: no positionals and a terminal on stdin is a usage error carrying the hint', (t) => {
  const error = t.throws(() => inputPaths(ctx([], true), 'lint', 'Give YAML files'), { instanceOf: UsageError });
  t.is(error?.shortMessage, 'lint: no input');
  t.is(error?.hint, 'Give YAML files');
});

test('inputPaths: stdin can be read once', (t) => {
  t.throws(() => inputPaths(ctx(['-', 'x', '-'], false), 'logs', 'hint'), { instanceOf: UsageError, message: /logs: - \(stdin\) given more than once/ });
});

test('lint --istio that is not a version exits 2 before reading any input', async (t) => {
  // stdin is never closed: reading it first would hang the test.
  const cap = captureIo();
  const stdin = new PassThrough();
  t.is(await main(['lint', '--istio', 'banana', '-'], { ...cap.io, stdin }), 2);
  t.regex(cap.stderr, /^podpath: lint: --istio: 'banana' is not an Istio version\nGive MAJOR\.MINOR or MAJOR\.MINOR\.PATCH/);
});
