import test from 'ava';
import { readFile, readdir, writeFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { extract as extractTar, list as listTar } from 'tar';
import { writeRunResults, RunResultsExistError, evidencePath } from './write.ts';
import { readReport } from './load.ts';
import { matrixReport } from './testing/fixtures.ts';
import { REDACTED } from './redact.ts';
import { UsageError } from '../errors/index.ts';
import { tempDir } from '../testing/temp-dir.ts';

const SECRET_YAML = ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: db', '  namespace: app', 'data:', '  password: aHVudGVyMg==', ''].join('\n');
const CURL = 'curl -H "Authorization: Bearer tok-123456" http://10.244.1.8:8080/\n';

async function tempResults(): Promise<string> {
  return tempDir('podpath-results-');
}

function evidence(): Map<string, string> {
  return new Map([
    ['evidence/istio-1.20.8/externalname-5701-collision/client-sidecar.log', '[2026-11-23T10:15:02.001Z] "- - -" 0 UF,URX - - "-" 0 0 1000 -\n'],
    ['istio-1.20.8/externalname-5701-collision/secret.yaml', SECRET_YAML],
    ['evidence/istio-1.20.8/externalname-5701-collision/events.txt', CURL],
  ]);
}

test('writes report.json, junit.xml, summary.md, report.html, evidence and the bundle, and nothing else', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, '20261123T101500.000Z-3f9a');
  await writeRunResults(runDir, matrixReport(), evidence(), { env: {} });
  t.deepEqual((await readdir(runDir)).sort(), ['bundle.tar.gz', 'evidence', 'junit.xml', 'report.html', 'report.json', 'summary.md']);
  t.deepEqual(await readdir(results), ['20261123T101500.000Z-3f9a'], 'no temp dir left behind');
  const loaded = await readReport(runDir);
  t.deepEqual(loaded.report, matrixReport());
  t.regex(await readFile(path.join(runDir, 'junit.xml'), 'utf8'), /<testsuite name="istio-1\.20\.8"/);
  t.regex(await readFile(path.join(runDir, 'summary.md'), 'utf8'), /```mermaid\nflowchart LR/);
  t.regex(await readFile(path.join(runDir, 'report.html'), 'utf8'), /id="istio--1\.20\.8--externalname-5701-collision--pod-ip-5701"/);
  const secret = await readFile(path.join(runDir, 'evidence/istio-1.20.8/externalname-5701-collision/secret.yaml'), 'utf8');
  t.false(secret.includes('aHVudGVyMg=='));
  t.true(secret.includes(`password: ${REDACTED}`));
});

test('the bundle unpacks into <run-id>/ and holds only redacted files', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-1');
  const counts = await writeRunResults(runDir, matrixReport(), evidence(), { env: {} });
  // What was taken out is counted by kind, for the line printed when the bundle is written.
  t.true((counts.get('bearer/basic credentials') ?? 0) >= 1, JSON.stringify([...counts]));
  t.true((counts.get('Secret values') ?? 0) >= 1, JSON.stringify([...counts]));
  const names: string[] = [];
  await listTar({ file: path.join(runDir, 'bundle.tar.gz'), onReadEntry: (entry) => void names.push(entry.path) });
  t.true(names.every((n) => n.startsWith('run-1/')), names.join(','));
  t.false(names.some((n) => n.endsWith('bundle.tar.gz')));
  const out = path.join(await tempResults(), 'x');
  await mkdir(out);
  await extractTar({ file: path.join(runDir, 'bundle.tar.gz'), cwd: out });
  const base = path.join(out, 'run-1');
  for (const file of ['report.json', 'junit.xml', 'summary.md', 'report.html']) t.truthy(await stat(path.join(base, file)));
  const events = await readFile(path.join(base, 'evidence/istio-1.20.8/externalname-5701-collision/events.txt'), 'utf8');
  t.false(events.includes('tok-123456'));
  t.true(events.includes(`Bearer ${REDACTED}`));
  const secret = await readFile(path.join(base, 'evidence/istio-1.20.8/externalname-5701-collision/secret.yaml'), 'utf8');
  t.false(secret.includes('aHVudGVyMg=='));
});

test('secrets in the report itself are redacted in report.json and report.html', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-2');
  const r = matrixReport();
  r.targets[0].scenarios[1].error = 'probe failed: Authorization: Bearer abc.def.ghi rejected';
  await writeRunResults(runDir, r, new Map(), { env: {} });
  const text = await readFile(path.join(runDir, 'report.json'), 'utf8');
  t.false(text.includes('abc.def.ghi'));
  const html = await readFile(path.join(runDir, 'report.html'), 'utf8');
  t.true(html.includes('probe failed: Authorization: Bearer'), 'the error is in the page');
  t.false(html.includes('abc.def.ghi'));
  t.false((await readdir(runDir)).includes('evidence'), 'no evidence folder when there is no evidence');
});

test('never overwrites an existing run directory', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-3');
  await mkdir(runDir);
  await writeFile(path.join(runDir, 'report.json'), 'precious');
  const error = await t.throwsAsync(writeRunResults(runDir, matrixReport(), evidence(), { env: {} }), { instanceOf: RunResultsExistError });
  t.is(error?.exitCode, 2);
  t.is(await readFile(path.join(runDir, 'report.json'), 'utf8'), 'precious');
  t.deepEqual((await readdir(results)).sort(), ['run-3']);
});

test('a directory that appears while writing is not replaced', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-4');
  await t.throwsAsync(
    writeRunResults(runDir, matrixReport(), evidence(), {
      env: {},
      beforeCommit: async () => {
        await mkdir(runDir);
        await writeFile(path.join(runDir, 'mine'), 'other run');
      },
    }),
    { instanceOf: RunResultsExistError },
  );
  t.deepEqual(await readdir(runDir), ['mine']);
  t.deepEqual((await readdir(results)).sort(), ['run-4'], 'temp dir removed');
});

test('the finished directory is the temp directory renamed into place, not a copy', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-6');
  let tempInode = -1;
  await writeRunResults(runDir, matrixReport(), evidence(), {
    env: {},
    beforeCommit: async (temp) => {
      tempInode = (await stat(temp)).ino;
    },
  });
  // One rename is what makes the write atomic: readers see no run directory, then a complete one.
  t.is((await stat(runDir)).ino, tempInode);
  t.deepEqual(await readdir(results), ['run-6']);
});

test('a failure before the rename leaves no run directory and no temp dir', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-5');
  await t.throwsAsync(
    writeRunResults(runDir, matrixReport(), evidence(), {
      env: {},
      beforeCommit: async (temp) => {
        t.truthy(await stat(path.join(temp, 'bundle.tar.gz')));
        throw new Error('disk full (injected)');
      },
    }),
    { message: 'disk full (injected)' },
  );
  t.deepEqual(await readdir(results), []);
});

test('evidence paths that escape the run directory are refused before anything is written', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-6');
  await t.throwsAsync(writeRunResults(runDir, matrixReport(), new Map([['../../etc/passwd', 'x']]), { env: {} }), { instanceOf: UsageError });
  t.deepEqual(await readdir(results), []);
  t.throws(() => evidencePath('/abs/path'), { instanceOf: UsageError });
  t.throws(() => evidencePath('evidence/../../x'), { instanceOf: UsageError });
  t.is(evidencePath('a/b.log'), 'evidence/a/b.log');
  t.is(evidencePath('evidence/a/b.log'), 'evidence/a/b.log');
});

test('summary.md is appended to GITHUB_STEP_SUMMARY when the env names one', async (t) => {
  const results = await tempResults();
  const summaryFile = path.join(results, 'step-summary.md');
  await writeFile(summaryFile, '# earlier step\n');
  await writeRunResults(path.join(results, 'run-7'), matrixReport(), new Map(), { env: { GITHUB_STEP_SUMMARY: summaryFile } });
  const text = await readFile(summaryFile, 'utf8');
  t.true(text.startsWith('# earlier step\n# podpath run'));
  t.is(text.slice('# earlier step\n'.length), (await readFile(path.join(results, 'run-7', 'summary.md'), 'utf8')) + '\n');
});

test('without GITHUB_STEP_SUMMARY nothing else is written', async (t) => {
  const results = await tempResults();
  await writeRunResults(path.join(results, 'run-8'), matrixReport(), new Map(), { env: {} });
  t.deepEqual(await readdir(results), ['run-8']);
});

test('a broken GITHUB_STEP_SUMMARY is reported after the results are safely in place', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-9');
  const error = await t.throwsAsync(writeRunResults(runDir, matrixReport(), new Map(), { env: { GITHUB_STEP_SUMMARY: path.join(results, 'no-such-dir', 'summary.md') } }));
  t.regex(error?.message ?? '', /results written to .*run-9, but appending summary\.md to GITHUB_STEP_SUMMARY/);
  t.truthy(await stat(path.join(runDir, 'report.json')));
});

test('bed features round-trip through report.json and show in every header: read, not read, and not recorded (older reports)', async (t) => {
  const results = await tempResults();
  const runDir = path.join(results, 'run-features');
  const report = matrixReport();
  t.true(report.targets.length >= 2, 'the fixture has a target to leave without features');
  report.targets[0].features = {
    externalNameAlias: false, dnsCapture: false, dnsAutoAllocate: false, outboundTrafficPolicy: 'ALLOW_ANY', connectTimeout: '1s',
    source: { externalNameAlias: 'istiod', dnsCapture: 'default for Istio 1.20', dnsAutoAllocate: 'default for Istio 1.20', outboundTrafficPolicy: 'default for Istio 1.20', connectTimeout: 'istiod' },
  };
  report.targets[1].features = null;
  const probe = report.targets[0].scenarios.find((s) => s.probes.length > 0)!.probes[0];
  probe.rowChosenBy = 'features';
  probe.notes = ["row 1 (externalNameAlias=false) chosen by the bed's features: externalNameAlias=false (istiod)"];
  await writeRunResults(runDir, report, evidence(), { env: {} });
  const loaded = await readReport(runDir);
  t.deepEqual(loaded.report, report);
  const summary = await readFile(path.join(runDir, 'summary.md'), 'utf8');
  t.regex(summary, /Bed features \(expectation rows keyed on them\): externalNameAlias=false \(istiod\), dnsCapture=false \(default for Istio 1\.20\)/);
  t.regex(summary, /Bed features \(expectation rows keyed on them\): not read \(rows chosen by Istio version range\)/);
  const html = await readFile(path.join(runDir, 'report.html'), 'utf8');
  t.regex(html, /bed features <b>externalNameAlias=false \(istiod\)/);
  t.regex(await readFile(path.join(runDir, 'junit.xml'), 'utf8'), /<property name="features" value="externalNameAlias=false \(istiod\)/);
  // A report written before the field: every renderer says so.
  delete report.targets[0].features;
  const older = path.join(results, 'run-older');
  await writeRunResults(older, report, evidence(), { env: {} });
  t.regex(await readFile(path.join(older, 'summary.md'), 'utf8'), /Bed features \(expectation rows keyed on them\): not recorded/);
});
