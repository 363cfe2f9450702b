/**
 * How long a nightly-sized page takes to render in the test browser (Debian's chromium through
 * playwright-core, as the browser tests drive it): the 13 scenarios × 11 versions matrix, and one
 * report.html holding the same 143 scenario runs with their drawings. The goal is under 1 s per
 * page; the ratio printed is the median load time over that second (target <= 1). An empty page
 * loaded in the same browser and run is printed beside it, so a slow machine shows as such.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { printRatio } from './lib.ts';
import { browserUnavailable, withBrowser, type BrowserSession } from '../harness/testing/browser.ts';
import { bigMatrix } from '../harness/report/testing/big-matrix.ts';
import { renderHtmlMatrix, renderHtmlReport, type RunReport } from '../harness/report/index.ts';

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? '7'));
const BUDGET_MS = 1000;

const unavailable = browserUnavailable();
if (unavailable) {
  console.log(`skipped: ${unavailable}`);
  process.exit(0);
}

/** Median of the navigation's load event end (ms after navigation start) over fresh pages. */
async function loadMs(session: BrowserSession, file: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const page = await session.context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    times.push(await page.evaluate(() => (performance.getEntriesByType('navigation' as never)[0] as unknown as { loadEventEnd: number }).loadEventEnd));
    await page.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const dir = await mkdtemp(path.join(tmpdir(), 'podpath-bench-html-'));
try {
  const runs = bigMatrix();
  const oneRun: RunReport = { ...runs[0], run: { ...runs[0].run, id: 'run-all' }, targets: runs.flatMap((r) => r.targets) };
  const pages = {
    empty: path.join(dir, 'empty.html'),
    matrix: path.join(dir, 'matrix.html'),
    report: path.join(dir, 'report.html'),
  };
  await writeFile(pages.empty, '<!doctype html><title>empty</title>');
  await writeFile(pages.matrix, renderHtmlMatrix(runs.map((r) => ({ report: r, href: `results/${r.run.id}/report.html` }))));
  await writeFile(pages.report, renderHtmlReport(oneRun));
  await withBrowser(async (session) => {
    const empty = await loadMs(session, pages.empty);
    for (const [name, file, what] of [
      ['report.html matrix, 13 scenarios × 11 versions (143 linked cells)', pages.matrix, 'matrix'],
      ['report.html of one run, 11 targets × 13 scenarios (143 sections, drawings)', pages.report, 'report'],
    ] as const) {
      const ms = await loadMs(session, file);
      printRatio({
        name,
        measured: `${what} page loaded in ${ms.toFixed(0)} ms (median of ${ROUNDS})`,
        reference: `the 1 s budget; an empty page loaded in ${empty.toFixed(0)} ms in the same browser`,
        ratio: ms / BUDGET_MS,
        target: { max: 1 },
      });
    }
    if (session.requests.some((u) => !u.startsWith('file:'))) throw new Error(`a page reached the network: ${session.requests.join(' ')}`);
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
