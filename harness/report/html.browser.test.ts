/**
 * report.html, the matrix and the diff page in a real browser (Debian's chromium through
 * playwright-core): what a person triaging a run sees, and that nothing leaves the page.
 */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { captureIo } from '../testing/capture-io.ts';
import { terminalSink } from '../cli/suite-output.ts';
import { browserUnavailable, withBrowser, type BrowserSession } from '../testing/browser.ts';
import { main } from '../cli/main.ts';
import { runSuite, scenario as defineScenario, type RunOptions } from '../runner/index.ts';
import { LoopbackMesh } from '../runner/testing/loopback-mesh.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { writeRunResults } from './write.ts';
import { renderHtmlMatrix } from './html-matrix.ts';
import { failingScenario, observedScenario, report, scenario, skippedScenario, target } from './testing/fixtures.ts';
import { bigMatrix } from './testing/big-matrix.ts';
import type { RunReport } from './schema.ts';

// Block 127.0.28.0/24 belongs to this file (each test file that starts the loopback double its own block).
const BLOCK = 28;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the browser tests: ${unavailable}`);
const browserTest = unavailable ? test.skip : test.serial;

let dir = '';
const runs: Record<'failed' | 'observed' | 'interrupted' | 'hostile', string> = { failed: '', observed: '', interrupted: '', hostile: '' };
const matrixRuns: string[] = [];

const wrongExpectation = defineScenario('collision-expected-to-be-harmless', 'A deliberately wrong expectation: baseline with app-ext applied')
  .apply('app-ext-externalname')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp' })
  .expect('*', { outcome: 'echoed', responder: 'target', client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] }, explain: 'passthrough' })
  .build();

const HOSTILE = '</script><img src="http://127.0.0.1:9/leak.png" onerror="window.__pwned=1"><script>window.__pwned=2</script>';

async function writeRun(name: string, r: RunReport): Promise<string> {
  const runDir = path.join(dir, 'results', name);
  await writeRunResults(runDir, r, new Map(), { env: {} });
  return runDir;
}

test.before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'podpath-html-browser-'));
  if (unavailable) return;
  // A real run on the test double: a failing scenario with evidence next to a passing one.
  const options: RunOptions = { scenarios: [], istio: ['1.20'], reuse: false, keep: false, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir: path.join(dir, 'results'), dryRun: false, logEncoding: 'text' };
  const { runDir } = await runSuite(options, terminalSink(captureIo().io), {
    scenarios: [wrongExpectation, ...SCENARIOS.filter((s) => s.id === 'tcp-pod-ip-baseline')],
    openBed: (spec) => LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, propagationMs: 60, logDelayMs: 40 }),
    pipeline: { logDeadlineMs: 3000, probeMarginMs: 1000, logBackoffMs: 20, pushWindowMs: 1000, convergeTimeoutMs: 1500 },
  });
  runs.failed = runDir;
  runs.observed = await writeRun('observed', report([target('1.24.3', [scenario(), observedScenario(), skippedScenario()])], { id: 'run-observed' }));
  runs.interrupted = await writeRun('interrupted', report([target('1.30.1', [scenario(), { ...skippedScenario(), skipReason: 'not run: the run was interrupted' }])], { id: 'run-interrupted', interrupted: true }));
  const hostile = failingScenario();
  hostile.probes[0].observed[0].client!.line = HOSTILE;
  hostile.error = HOSTILE;
  runs.hostile = await writeRun('hostile', report([target('1.20.8', [hostile])], { id: 'run-hostile' }));
  for (const [i, version] of ['1.20.8', '1.22.4', '1.24.3'].entries()) {
    const collision = version === '1.24.3' ? scenario({ id: 'externalname-5701-collision', title: 'fixed' }) : failingScenario();
    matrixRuns.push(await writeRun(`m${i}`, report([target(version, [scenario(), collision, version === '1.20.8' ? skippedScenario() : observedScenario()])], { id: `run-m${i}` })));
  }
});

test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(session: BrowserSession, file: string): Promise<Page> {
  const page = await session.context.newPage();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return page;
}

/** PODPATH_SCREENSHOTS=DIR keeps them (for docs or a look); by default they live and die with the temp dir. */
async function screenshot(t: { log(...values: unknown[]): void }, page: Page | Locator, name: string): Promise<void> {
  const file = path.join(process.env.PODPATH_SCREENSHOTS ?? path.join(dir, 'screenshots'), `${name}.png`);
  await page.screenshot({ path: file });
  t.log(`screenshot: ${file}`);
}

function offPage(session: BrowserSession): string[] {
  return session.requests.filter((url) => !url.startsWith('file:'));
}

/**
 * Follows every link the selector finds on the page: each must lead to a file that exists and
 * to an element with the fragment's id there. Returns the links that do not, as "href: why".
 */
async function brokenLinks(session: BrowserSession, page: Page, selector: string): Promise<{ checked: number; broken: string[] }> {
  const links = await page.locator(selector).evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href') ?? '', url: (a as unknown as { href: string }).href })));
  const ids = new Map<string, Set<string> | null>();
  const broken: string[] = [];
  const reader = await session.context.newPage();
  for (const { href, url } of links) {
    const target = new URL(url);
    const id = decodeURIComponent(target.hash.slice(1));
    target.hash = '';
    if (!ids.has(target.href)) {
      const loaded = await reader.goto(target.href).then(() => true, () => false);
      ids.set(target.href, loaded ? new Set(await reader.locator('[id]').evaluateAll((els) => els.map((el) => el.id))) : null);
    }
    const found = ids.get(target.href)!;
    if (found === null) broken.push(`${href}: no such file`);
    else if (id && !found.has(id)) broken.push(`${href}: no element with id ${id}`);
  }
  await reader.close();
  return { checked: links.length, broken };
}

const FIRST_VIEWPORT = { width: 1280, height: 800 };

browserTest('a failed double run: the header names the probe and hop in the first viewport, the drawing shows where it stopped, evidence unfolds', async (t) => {
  await withBrowser(async (session) => {
    const page = await open(session, path.join(runs.failed, 'report.html'));
    const failures = page.getByRole('navigation', { name: 'failed probes' });
    const line = failures.getByRole('listitem').filter({ hasText: 'manager → app pod IP:5701' });
    t.regex(await line.innerText(), /^collision-expected-to-be-harmless \/ manager → app pod IP:5701 on Istio 1\.20\.\d+ at the client sidecar: expected a passthrough cluster, saw outbound \(outbound\|5701\|\|app-ext/);
    t.is(await line.locator('b').innerText(), 'client sidecar', 'the hop, in bold');
    t.true(await line.evaluate((li) => li.closest('header') !== null), 'in the header');
    // Without scrolling: the line lies wholly inside the first 1280×800 viewport of the page as opened.
    t.is(await page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY), 0);
    const box = await line.boundingBox();
    t.truthy(box, 'the line is rendered');
    if (box) {
      t.log(`failed probe line at x ${box.x.toFixed(0)}–${(box.x + box.width).toFixed(0)}, y ${box.y.toFixed(0)}–${(box.y + box.height).toFixed(0)} of ${FIRST_VIEWPORT.width}×${FIRST_VIEWPORT.height}`);
      t.true(box.x >= 0 && box.y >= 0 && box.x + box.width <= FIRST_VIEWPORT.width && box.y + box.height <= FIRST_VIEWPORT.height, JSON.stringify(box));
    }
    const links = await brokenLinks(session, page, 'nav.failures a');
    t.is(links.checked, 1);
    t.deepEqual(links.broken, [], 'the failed probe links to its drawing');
    await screenshot(t, page, 'failed-run');

    const probe = page.locator('section.scenario.failed .probe');
    const observed = probe.locator('svg.path.observed');
    const hops = await observed.locator('g.hop').evaluateAll((gs) => gs.map((g) => ({ hop: g.getAttribute('data-hop'), cls: g.getAttribute('class'), text: g.textContent })));
    t.deepEqual(hops.map((h) => h.hop), ['client-app', 'client-sidecar', 'server-sidecar'], 'drawn up to the server sidecar, where the evidence stops');
    t.regex(hops[1].text ?? '', /client sidecar ✗ mismatch.*outbound\|5701\|\|app-ext.*flags UF,URX/);
    t.regex(hops[1].cls ?? '', /\bbad\b/);
    t.regex(hops[2].text ?? '', /server sidecar ✗ mismatch ■ stopped here.*no access log entry/);
    t.true(await observed.isVisible());
    t.regex(await probe.locator('ul.mismatches').innerText(), /✗ server app \(not reached\): expected outcome echoed, saw closed-after-connect/);
    const expectedHops = await probe.locator('svg.path.expected g.hop').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-hop')));
    t.deepEqual(expectedHops, ['client-app', 'client-sidecar', 'server-sidecar', 'server-app']);

    await screenshot(t, probe, 'failed-probe');
    const log = probe.locator('details.evidence pre.log');
    t.false(await log.isVisible(), 'evidence is folded by default');
    await probe.locator('details.evidence summary').click();
    t.true(await log.isVisible());
    t.regex(await log.innerText(), /client: .* 0 UF,URX .* outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);
    t.is(await probe.locator('details.evidence button.copy').first().innerText(), 'Copy', 'the script ran under the page CSP');
    await screenshot(t, page, 'failed-run-evidence');
    t.deepEqual(offPage(session), []);
    t.deepEqual(session.errors, []);
  }, { viewport: FIRST_VIEWPORT });
});

browserTest('without JavaScript the page still shows the failure, the drawing and the folded evidence', async (t) => {
  await withBrowser(
    async (session) => {
      const page = await open(session, path.join(runs.failed, 'report.html'));
      t.regex(await page.getByRole('navigation', { name: 'failed probes' }).innerText(), /at the client sidecar/);
      const probe = page.locator('section.scenario.failed .probe');
      t.true(await probe.locator('svg.path.observed g.hop.bad').first().isVisible());
      await probe.locator('details.evidence summary').click();
      t.true(await probe.locator('details.evidence pre.log').isVisible(), '<details> needs no script');
      t.is(await page.locator('button').count(), 0, 'no dead buttons: the script adds them');
      t.deepEqual(offPage(session), []);
    },
    { javaScriptEnabled: false },
  );
});

browserTest('pass, observe, skip and interrupted pages show status as icon and word, in both themes', async (t) => {
  await withBrowser(async (session) => {
    const observed = await open(session, path.join(runs.observed, 'report.html'));
    const text = await observed.locator('main').innerText();
    t.regex(text, /✓ passed/);
    t.regex(text, /◉ observed/);
    t.regex(text, /○ skipped/);
    await observed.getByRole('button', { name: 'Toggle light/dark theme' }).click();
    const theme = await observed.locator('html').getAttribute('data-theme');
    t.true(theme === 'dark' || theme === 'light');
    await screenshot(t, observed, 'observed-run-toggled-theme');
    const interrupted = await open(session, path.join(runs.interrupted, 'report.html'));
    t.regex(await interrupted.locator('header').innerText(), /■ interrupted/);
    t.regex(await interrupted.locator('main').innerText(), /not run: the run was interrupted/);
    t.deepEqual(offPage(session), []);
    t.deepEqual(session.errors, []);
  });
});

browserTest('a hostile log line renders as text: no script runs, no request leaves the page', async (t) => {
  await withBrowser(async (session) => {
    const page = await open(session, path.join(runs.hostile, 'report.html'));
    await page.locator('details.evidence summary').first().click();
    t.true((await page.locator('details.evidence pre.log').innerText()).includes(HOSTILE));
    t.true((await page.locator('main').innerText()).includes(`Harness error: ${HOSTILE}`));
    t.is(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    t.is(await page.locator('main img').count(), 0);
    t.deepEqual(offPage(session), []);
  });
});

browserTest('the 3-version matrix links every cell to its run section and explains it on focus', async (t) => {
  const file = path.join(dir, 'matrix.html');
  const io = captureIo({ cwd: dir });
  t.is(await main(['report', ...matrixRuns, '--format', 'html', '--matrix', '--out', file], io.io), 1, io.stderr);
  await withBrowser(async (session) => {
    const page = await open(session, file);
    const cells = page.locator('table.matrix a.cell');
    t.is(await cells.count(), 3 * 3, '3 scenario rows × 3 versions');
    const hrefs = await cells.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    t.true(hrefs.every((h) => /^results\/m\d\/report\.html#istio--/.test(h)), hrefs.join(' '));
    const links = await brokenLinks(session, page, 'table.matrix a');
    t.is(links.checked, 3 * 3 + 3, 'every cell and every column head');
    t.deepEqual(links.broken, [], 'each leads to an existing id in its run page');
    const cell = page.getByRole('link', { name: /^externalname-5701-collision on Istio 1\.22\.4: failed: pod-ip-5701: outcome: expected echoed/ });
    await cell.focus();
    t.true(await cell.locator('.tip').isVisible(), 'focus shows the mismatch sentence');
    await screenshot(t, page, 'matrix');
    await cell.click();
    await page.waitForURL(/m1\/report\.html#istio--1\.22\.4--externalname-5701-collision$/);
    const section = page.locator('section.scenario:target');
    t.regex(await section.locator('h3').innerText(), /✗ failed externalname-5701-collision on Istio 1\.22\.4/);
    t.true(await section.isVisible());
    const box = await section.boundingBox();
    t.truthy(box && box.y < 900 && box.y + 50 > 0, 'the browser scrolled to the section');
    t.deepEqual(offPage(session), []);
    t.deepEqual(session.errors, []);
  });
});

browserTest('diff --format html draws the changed probe from both runs side by side', async (t) => {
  const file = path.join(dir, 'upgrade.html');
  const io = captureIo({ cwd: dir });
  t.is(await main(['diff', matrixRuns[2], matrixRuns[1], '--format', 'html', '--out', file], io.io), 1, io.stderr);
  await withBrowser(async (session) => {
    const page = await open(session, file);
    const regression = page.locator('section.scenario', { hasText: 'externalname-5701-collision / pod-ip-5701' });
    t.is(await regression.locator('svg.path.observed').count(), 2, 'A and B drawn');
    t.regex(await regression.innerText(), /client - PassthroughCluster → UF,URX outbound/);
    const boxes = await regression.locator('svg.path.observed').evaluateAll((svgs) => svgs.map((svg) => svg.getBoundingClientRect().toJSON() as { x: number; y: number; width: number }));
    t.true(boxes[1].x >= boxes[0].x + boxes[0].width && Math.abs(boxes[1].y - boxes[0].y) < 40, `side by side: ${JSON.stringify(boxes)}`);
    t.is(await page.locator('table.matrix a.cell').count(), 3 * 2, 'the grid of both runs on the same page');
    const links = await brokenLinks(session, page, 'main a, nav a');
    t.true(links.checked >= 6 + 2 + 1, String(links.checked));
    t.deepEqual(links.broken, [], 'grid cells, details and the regression list lead to existing ids');
    await screenshot(t, page, 'diff');
    await regression.getByRole('link', { name: 'details' }).nth(1).click();
    await page.waitForURL(/m1\/report\.html#istio--1\.22\.4--externalname-5701-collision--pod-ip-5701$/);
    t.deepEqual(offPage(session), []);
  });
});

browserTest('13 scenarios × 11 versions: the matrix loads in the test browser with every cell (time printed; npm run bench measures it)', async (t) => {
  // Only a hang guard: the 1 s goal is measured by bench/report-html.bench.ts, not asserted on a shared machine.
  t.timeout(60_000);
  const reports = bigMatrix();
  const file = path.join(dir, 'big-matrix.html');
  await writeFile(file, renderHtmlMatrix(reports.map((r) => ({ report: r, href: `results/${r.run.id}/report.html` }))));
  await withBrowser(async (session) => {
    const page = await open(session, file);
    const ms = await page.evaluate(() => (performance.getEntriesByType('navigation' as never)[0] as unknown as { loadEventEnd: number }).loadEventEnd);
    t.log(`13 × 11 matrix: load event after ${ms.toFixed(0)} ms (goal: under 1 s; see npm run bench -- report-html)`);
    t.is(await page.locator('table.matrix a.cell').count(), 143);
    t.deepEqual(offPage(session), []);
  });
});
