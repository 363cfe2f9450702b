import test from 'ava';
import { ExecaExec, ExecError, tail } from './execa-exec.ts';
import { EnvironmentError, InterruptedError } from '../errors/index.ts';

const node = process.execPath;
const exec = new ExecaExec({ forceKillAfterMs: 500 });

test('runs an argument array without a shell and returns stdout', async (t) => {
  // A shell would expand $HOME and split on the space; execa must pass both through untouched.
  const result = await exec.run(node, ['-e', 'process.stdout.write(process.argv.slice(1).join("|"))', '$HOME', 'a b']);
  t.is(result.stdout, '$HOME|a b');
  t.is(result.exitCode, 0);
});

test('input is written to the child stdin', async (t) => {
  const result = await exec.run(node, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'kind: Cluster\n' });
  t.is(result.stdout, 'kind: Cluster\n');
});

test('a failing child becomes an ExecError with command, exit code and stderr tail', async (t) => {
  const script = 'for (let i = 1; i <= 30; i++) console.error("line " + i); process.exit(3)';
  const error = await t.throwsAsync(exec.run(node, ['-e', script]), { instanceOf: ExecError });
  t.is(error.processExitCode, 3);
  t.is(error.exitCode, 2);
  t.true(error.command.startsWith(node));
  t.regex(error.stderrTail, /line 30$/);
  t.notRegex(error.stderrTail, /line 10\n/);
  t.regex(error.shortMessage, /exited with code 3/);
});

test('a missing binary is an EnvironmentError naming it', async (t) => {
  const error = await t.throwsAsync(exec.run('podpath-no-such-binary', ['x']), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /podpath-no-such-binary: command not found/);
});

test('aborting the signal kills the child and raises InterruptedError', async (t) => {
  const controller = new AbortController();
  const started = Date.now();
  const running = exec.run(node, ['-e', 'setInterval(() => {}, 1000)'], { signal: controller.signal });
  controller.abort(new Error('SIGINT'));
  await t.throwsAsync(running, { instanceOf: InterruptedError });
  t.true(Date.now() - started < 30_000, 'the child was killed, not waited for');
});

test('an already aborted signal starts nothing', async (t) => {
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(exec.run(node, ['-e', 'process.exit(0)'], { signal: controller.signal }), { instanceOf: InterruptedError });
});

test('timeoutMs ends a child that runs too long', async (t) => {
  const error = await t.throwsAsync(exec.run(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200 }), { instanceOf: ExecError });
  t.is(error.processExitCode, null);
  t.regex(error.hint ?? '', /200 ms/);
});

test('tail keeps the last lines only', (t) => {
  t.is(tail('a\nb\nc\n', 2), 'b\nc');
});
