import test from 'ava';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { failingScenario, matrixReport, report, scenario, target } from '../../report/testing/fixtures.ts';
import type { RunReport } from '../../report/index.ts';

async function workspace(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'podpath-report-html-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const run = async (name: string, r: RunReport) => {
    const runDir = path.join(dir, 'results', name);
    await mkdir(runDir, { recursive: true });
    await writeFile(path.join(runDir, 'report.json'), JSON.stringify(r));
    return runDir;
  };
  return { dir, run };
}

test('report --format html prints the page; --out writes it and says where', async (t) => {
  const w = await workspace(t);
  const runDir = await w.run('a', matrixReport());
  const io = captureIo({ cwd: w.dir });
  t.is(await main(['report', runDir, '--format', 'html'], io.io), 1);
  t.regex(io.stdout, /^<!doctype html>/);
  t.regex(io.stdout, /id="istio--1\.20\.8--externalname-5701-collision--pod-ip-5701"/);
  const out = captureIo({ cwd: w.dir });
  t.is(await main(['report', 'results/a', '--format', 'html', '--out', 'pages/a.html'], out.io), 1);
  t.is(out.stdout, '');
  t.regex(out.stderr, /wrote pages\/a\.html/);
  const page = await readFile(path.join(w.dir, 'pages/a.html'), 'utf8');
  t.regex(page, /<h1>podpath run <code>20261123T101500\.000Z-3f9a<\/code>/);
  t.regex(page, /href="\.\.\/results\/a\/evidence\/istio-1\.20\.8\/externalname-5701-collision\/client-sidecar\.log"/, 'evidence links reach the run folder from the page');
});

test('report --matrix over several runs links cells relative to the page', async (t) => {
  const w = await workspace(t);
  const a = await w.run('a', report([target('1.20.8', [scenario(), failingScenario()])], { id: 'a' }));
  const b = await w.run('b', report([target('1.24.3', [scenario(), { ...failingScenario(), status: 'passed', probes: [] }])], { id: 'b' }));
  const io = captureIo({ cwd: w.dir });
  t.is(await main(['report', a, b, '--format', 'html', '--matrix', '--out', 'site/matrix.html'], io.io), 1, io.stderr);
  const html = await readFile(path.join(w.dir, 'site/matrix.html'), 'utf8');
  t.regex(html, /href="\.\.\/results\/a\/report\.html#istio--1\.20\.8--externalname-5701-collision"/);
  t.regex(html, /href="\.\.\/results\/b\/report\.html#istio--1\.24\.3--tcp-pod-ip-baseline"/);
  const stdout = captureIo({ cwd: w.dir });
  t.is(await main(['report', 'results/b', '--matrix'], stdout.io), 0, '--matrix implies html');
  t.regex(stdout.stdout, /href="results\/b\/report\.html#/);
});

test('html options misused are usage errors (exit 2)', async (t) => {
  const w = await workspace(t);
  const a = await w.run('a', matrixReport());
  for (const argv of [
    ['report', a, '--matrix', '--format', 'md'],
    ['report', a, a],
    ['report', a, '--out', 'x.md'],
    ['report', '--matrix'],
    ['diff', a, a, '--format', 'pdf'],
    ['diff', a, a, '--json', '--format', 'html'],
    ['diff', a, a, '--out', 'x.html'],
  ]) {
    const io = captureIo({ cwd: w.dir });
    t.is(await main(argv, io.io), 2, argv.join(' '));
    t.false(io.stderr.includes('    at '), 'no stack trace');
  }
});

test('diff --format html draws the regression with links into both runs', async (t) => {
  const w = await workspace(t);
  const before = await w.run('before', report([target('1.20.8', [scenario(), { ...scenario(), id: 'externalname-5701-collision' }])], { id: 'before' }));
  const after = await w.run('after', report([target('1.21.5', [scenario(), failingScenario()])], { id: 'after' }));
  const io = captureIo({ cwd: w.dir });
  t.is(await main(['diff', before, after, '--format', 'html'], io.io), 1);
  t.regex(io.stdout, /✗ Regressions \(passed before, fail now\): 1/);
  t.is(io.stdout.match(/<svg class="path observed"/g)?.length, 2);
  t.regex(io.stdout, /href="results\/after\/report\.html#istio--1\.21\.5--externalname-5701-collision--pod-ip-5701">details/);
});

test('a report.json written before the bed facts (kind, node image, mTLS) re-renders, saying they were not recorded', async (t) => {
  const w = await workspace(t);
  const old = matrixReport();
  for (const field of ['kind', 'nodeImage', 'mtls']) t.false(field in old.targets[0], `the fixture has no ${field}, like an older report`);
  const runDir = await w.run('old', old);
  const io = captureIo({ cwd: w.dir });
  t.is(await main(['report', runDir, '--format', 'html'], io.io), 1, io.stderr);
  t.regex(io.stdout, /mTLS default <b>not recorded<\/b>/);
  t.regex(io.stdout, /kind <b>not recorded<\/b>/);
  t.regex(io.stdout, /node image <b>not recorded<\/b>/);
  const md = captureIo({ cwd: w.dir });
  t.is(await main(['report', runDir, '--format', 'md'], md.io), 1, md.stderr);
  t.regex(md.stdout, /kind `not recorded`, node image `not recorded`/);
});

test('diff --format html is one page: the grid of both runs, every cell linking into its run', async (t) => {
  const w = await workspace(t);
  const before = await w.run('before', report([target('1.20.8', [scenario(), { ...scenario(), id: 'externalname-5701-collision' }])], { id: 'before' }));
  const after = await w.run('after', report([target('1.21.5', [scenario(), failingScenario()])], { id: 'after' }));
  const io = captureIo({ cwd: w.dir });
  t.is(await main(['diff', before, after, '--format', 'html', '--out', 'pages/upgrade.html'], io.io), 1, io.stderr);
  const html = await readFile(path.join(w.dir, 'pages/upgrade.html'), 'utf8');
  const cells = [...html.matchAll(/<a class="cell" href="([^"]+)"/g)].map((m) => m[1]);
  t.is(cells.length, 4);
  t.true(cells.every((h) => /^\.\.\/results\/(before|after)\/report\.html#istio--1\.2[01]\.\d--/.test(h)), cells.join(' '));
});
