import test from 'ava';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { failingScenario, report, scenario, target } from '../../report/testing/fixtures.ts';
import type { ReportDiff, RunReport } from '../../report/index.ts';
import { tempDir } from '../../testing/temp-dir.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function runDir(r: RunReport): Promise<string> {
  const dir = path.join(await tempDir('podpath-diff-cmd-'), r.run.id);
  await mkdir(dir);
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(r));
  return dir;
}

const passingCollision = () => scenario({ id: 'externalname-5701-collision', title: 'ExternalName collision' });
const before = () => report([target('1.20.8', [scenario(), passingCollision()])], { id: '20261123T101500.000Z-aaaa' });
const after = () => report([target('1.21.5', [scenario(), failingScenario()])], { id: '20261124T101500.000Z-bbbb' });

test('a regression exits 1 and reads as an upgrade view', async (t) => {
  const io = captureIo();
  t.is(await main(['diff', await runDir(before()), await runDir(after())], io.io), 1);
  t.regex(io.stdout, /Regressions \(passed before, fail now\): 1/);
  t.regex(io.stdout, /externalname-5701-collision \/ pod-ip-5701 {2}\[istio 1\.20\.8 → 1\.21\.5\]/);
  t.regex(io.stdout, /client - PassthroughCluster → UF,URX outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);
});

test('the reverse direction is a fix and exits 0; --json is machine-readable', async (t) => {
  const io = captureIo();
  t.is(await main(['diff', await runDir(after()), await runDir(before()), '--json'], io.io), 0);
  const diff = JSON.parse(io.stdout) as ReportDiff;
  t.is(diff.counts.fix, 1);
  t.is(diff.counts.regression, 0);
  t.is(diff.entries[0].before?.verdict, 'fail');
  t.is(diff.entries[0].after?.verdict, 'pass');
  t.deepEqual(diff.pairs, [{ a: '1.21.5', b: '1.20.8' }]);
});

test('wrong arity or a bad report exits 2', async (t) => {
  const one = captureIo();
  t.is(await main(['diff', await runDir(before())], one.io), 2);
  t.regex(one.stderr, /needs two runs \(got 1\)/);
  const bad = path.join(await tempDir('podpath-diff-bad-'), 'report.json');
  await writeFile(bad, '{"schemaVersion":1,"run":{}}');
  const io = captureIo();
  t.is(await main(['diff', bad, await runDir(after())], io.io), 2);
  t.regex(io.stderr, /run\.id is not a string/);
});

test('as a child process: exit 1 on regression, 0 without', async (t) => {
  const a = await runDir(before());
  const b = await runDir(after());
  const regressed = await execa('npx', ['node', 'bin/podpath.ts', 'diff', a, b], { cwd: repoRoot, reject: false });
  t.is(regressed.exitCode, 1, regressed.stderr);
  t.regex(regressed.stdout, /1 regression, 0 fixes/);
  const same = await execa('npx', ['node', 'bin/podpath.ts', 'diff', a, a], { cwd: repoRoot, reject: false });
  t.is(same.exitCode, 0);
  t.regex(same.stdout, /0 regressions, 0 fixes, 0 changed, 0 skipped on one side, 0 only in B, 0 only in A, 2 unchanged\./);
});
