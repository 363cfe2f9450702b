import test from 'ava';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { XMLValidator } from 'fast-xml-parser';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { matrixReport, report, scenario, target } from '../../report/testing/fixtures.ts';
import type { RunReport } from '../../report/index.ts';
import { tempDir } from '../../testing/temp-dir.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function runDir(r: RunReport, name = 'run'): Promise<string> {
  const dir = path.join(await tempDir('podpath-report-cmd-'), name);
  await mkdir(dir);
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(r, null, 2));
  return dir;
}

test('default table for a failing run exits 1', async (t) => {
  const dir = await runDir(matrixReport());
  const io = captureIo();
  t.is(await main(['report', dir], io.io), 1);
  t.regex(io.stdout, /^externalname-5701-collision +FAIL +pass$/m);
  t.regex(io.stdout, /3 passed, 1 failed, 1 skipped, 1 flaky, 1 observed/);
  t.false(io.stdout.includes('\u001b['), 'NO_COLOR in captureIo means no colour');
});

test('a passing run exits 0; report.json path works as well as the directory', async (t) => {
  const dir = await runDir(report([target('1.30.1', [scenario()])]));
  const io = captureIo();
  t.is(await main(['report', path.join(dir, 'report.json')], io.io), 0);
  t.regex(io.stdout, /1 passed, 0 failed/);
});

test('--format md, junit and json', async (t) => {
  const dir = await runDir(matrixReport());
  const md = captureIo();
  await main(['report', dir, '--format', 'md'], md.io);
  t.regex(md.stdout, /^# podpath run/);
  t.regex(md.stdout, /```mermaid\nflowchart LR/);
  const junit = captureIo();
  await main(['report', dir, '--format', 'junit'], junit.io);
  t.is(XMLValidator.validate(junit.stdout), true);
  t.regex(junit.stdout, /<testsuite name="istio-1\.20\.8" tests="4" failures="1"/);
  const json = captureIo();
  await main(['report', dir, '--format', 'json'], json.io);
  t.deepEqual(JSON.parse(json.stdout), matrixReport());
});

test('relative paths resolve against the cwd in io', async (t) => {
  const dir = await runDir(matrixReport(), 'rel');
  const io = captureIo({ cwd: path.dirname(dir) });
  t.is(await main(['report', 'rel', '--format', 'json'], io.io), 1);
  t.is((JSON.parse(io.stdout) as RunReport).run.id, matrixReport().run.id);
});

test('bad input exits 2 with a message and no stack', async (t) => {
  const dir = await runDir(matrixReport());
  const cases: [string[], RegExp][] = [
    [['report'], /which run\?/],
    [['report', dir, dir], /exactly one run/],
    [['report', dir, '--format', 'pdf'], /unknown --format 'pdf'/],
    [['report', path.join(dir, 'missing')], /no such run directory/],
  ];
  for (const [argv, message] of cases) {
    const io = captureIo();
    t.is(await main(argv, io.io), 2, argv.join(' '));
    t.regex(io.stderr, message);
    t.false(io.stderr.includes('    at '), 'no stack trace');
  }
  const newer = await runDir({ ...matrixReport(), schemaVersion: 9 } as unknown as RunReport);
  const io = captureIo();
  t.is(await main(['report', newer], io.io), 2);
  t.regex(io.stderr, /schema version 9 is not supported/);
  t.regex(io.stderr, /Upgrade podpath/);
});

test('as a child process: table on stdout, exit code 1 for a failing run, --help works', async (t) => {
  const dir = await runDir(matrixReport());
  const result = await execa('npx', ['node', 'bin/podpath.ts', 'report', dir], { cwd: repoRoot, reject: false, env: { NO_COLOR: '1' } });
  t.is(result.exitCode, 1);
  t.regex(result.stdout, /externalname-5701-collision +FAIL/);
  const help = await execa('npx', ['node', 'bin/podpath.ts', 'report', '--help'], { cwd: repoRoot, reject: false });
  t.is(help.exitCode, 0);
  t.regex(help.stdout, /Usage: podpath report RUN \[--format table\|md\|junit\|json\|html\]/);
});
