import test from 'ava';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readReport, validateReport } from './load.ts';
import { matrixReport } from './testing/fixtures.ts';
import { UsageError } from '../errors/index.ts';
import { tempDir } from '../testing/temp-dir.ts';

test('reads a run directory or its report.json', async (t) => {
  const dir = await tempDir('podpath-load-');
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(matrixReport()));
  const fromDir = await readReport(dir);
  const fromFile = await readReport(path.join(dir, 'report.json'));
  t.is(fromDir.report.run.id, matrixReport().run.id);
  t.is(fromFile.runDir, dir);
  t.is(fromDir.file, path.join(dir, 'report.json'));
});

test('missing paths, missing report.json and bad JSON are usage errors with a hint', async (t) => {
  const dir = await tempDir('podpath-load-');
  const missing = await t.throwsAsync(readReport(path.join(dir, 'nope')), { instanceOf: UsageError });
  t.regex(missing!.shortMessage, /no such run directory or report file/);
  await mkdir(path.join(dir, 'empty'));
  await t.throwsAsync(readReport(path.join(dir, 'empty')), { instanceOf: UsageError, message: /no report\.json there/ });
  await writeFile(path.join(dir, 'bad.json'), '{"schemaVersion": 1,');
  await t.throwsAsync(readReport(path.join(dir, 'bad.json')), { instanceOf: UsageError, message: /not valid JSON/ });
});

test('schema version: newer asks to upgrade podpath, older to re-run', (t) => {
  const newer = t.throws(() => validateReport({ ...matrixReport(), schemaVersion: 2 }), { instanceOf: UsageError });
  t.regex(newer!.shortMessage, /schema version 2 is not supported \(this podpath reads version 1\)/);
  t.regex(newer!.hint ?? '', /Upgrade podpath/);
  const older = t.throws(() => validateReport({ ...matrixReport(), schemaVersion: 0 }), { instanceOf: UsageError });
  t.regex(older!.hint ?? '', /Re-run/);
  t.throws(() => validateReport({ run: {} }), { message: /schemaVersion is missing/ });
});

test('structural problems name the exact field', (t) => {
  const r = JSON.parse(JSON.stringify(matrixReport())) as { targets: { scenarios: { status: string; probes: { verdict: string }[] }[] }[] };
  r.targets[1].scenarios[2].status = 'great';
  t.throws(() => validateReport(r), { message: /targets\[1\]\.scenarios\[2\]\.status is not one of/ });
  r.targets[1].scenarios[2].status = 'observed';
  r.targets[0].scenarios[0].probes[0].verdict = 'maybe';
  t.throws(() => validateReport(r), { message: /targets\[0\]\.scenarios\[0\]\.probes\[0\]\.verdict/ });
  t.throws(() => validateReport([]), { message: /top level is not a JSON object/ });
});

test('warnings are optional, and when present a list of strings', (t) => {
  const r = JSON.parse(JSON.stringify(matrixReport())) as { targets: { warnings?: unknown }[] };
  t.notThrows(() => validateReport(r));
  r.targets[0].warnings = ['could not preload docker.io/library/node:24-alpine'];
  t.deepEqual(validateReport(r).targets[0].warnings, ['could not preload docker.io/library/node:24-alpine']);
  r.targets[0].warnings = 'not a list';
  t.throws(() => validateReport(r), { message: /targets\[0\]\.warnings is not a list of strings/ });
});

test('kind, nodeImage and mtls are optional: a report written before them loads; when present, a string or null', (t) => {
  const r = JSON.parse(JSON.stringify(matrixReport())) as { targets: Record<string, unknown>[] };
  t.false('kind' in r.targets[0] || 'nodeImage' in r.targets[0], 'the fixture is a report from before the fields');
  t.notThrows(() => validateReport(r));
  r.targets[0].kind = 'v0.31.0';
  r.targets[0].nodeImage = null;
  const loaded = validateReport(r);
  t.is(loaded.targets[0].kind, 'v0.31.0');
  t.is(loaded.targets[0].nodeImage, null);
  r.targets[0].mtls = { mode: 'STRICT', policy: 'istio-system/default' };
  t.deepEqual(validateReport(r).targets[0].mtls, { mode: 'STRICT', policy: 'istio-system/default' });
  r.targets[0].mtls = 'STRICT';
  t.throws(() => validateReport(r), { message: /targets\[0\]\.mtls is not \{mode, policy\} or null/ });
  r.targets[0].mtls = null;
  r.targets[1].nodeImage = 136;
  t.throws(() => validateReport(r), { message: /targets\[1\]\.nodeImage is not a string or null/ });
});

test('features are optional: a report written before them loads; when present, the feature record or null', (t) => {
  const r = JSON.parse(JSON.stringify(matrixReport())) as { targets: Record<string, unknown>[] };
  t.false('features' in r.targets[0], 'the fixture is a report from before the field');
  t.notThrows(() => validateReport(r));
  const features = {
    externalNameAlias: true, dnsCapture: false, dnsAutoAllocate: true, outboundTrafficPolicy: 'ALLOW_ANY', connectTimeout: '10s',
    source: { externalNameAlias: 'not configurable in Istio 1.26', dnsCapture: 'default for Istio 1.26', dnsAutoAllocate: 'default for Istio 1.26', outboundTrafficPolicy: 'default for Istio 1.26', connectTimeout: 'default for Istio 1.26' },
  };
  r.targets[0].features = features;
  t.deepEqual(validateReport(r).targets[0].features, features);
  r.targets[0].features = null;
  t.is(validateReport(r).targets[0].features, null);
  r.targets[0].features = { ...features, externalNameAlias: 'true' };
  t.throws(() => validateReport(r), { message: /targets\[0\]\.features is not \{externalNameAlias, dnsCapture, dnsAutoAllocate, outboundTrafficPolicy, connectTimeout, source\} or null/ });
  r.targets[0].features = { ...features, source: undefined };
  t.throws(() => validateReport(r), { message: /targets\[0\]\.features is not/ });
});
