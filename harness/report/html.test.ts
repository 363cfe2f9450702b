import test from 'ava';
import { renderHtmlReport } from './html.ts';
import { renderHtmlDiff, renderHtmlMatrix } from './html-matrix.ts';
import { escapeHtml } from './html-escape.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { renderJunit } from './junit.ts';
import { CONTENT_SECURITY_POLICY } from './html-page.ts';
import { failingScenario, matrixReport, report, scenario, target } from './testing/fixtures.ts';

const HOSTILE = '</script><img src=x onerror="alert(1)"><script>alert(2)</script>';

function hostileReport() {
  const s = failingScenario();
  s.id = `evil-${HOSTILE}`;
  s.title = HOSTILE;
  s.error = HOSTILE;
  s.probes[0].name = HOSTILE;
  s.probes[0].observed[0].client!.line = `[2026-11-23T10:15:02.001Z] "- - -" 0 UF,URX ${HOSTILE}`;
  s.probes[0].mismatches = [`client sidecar: expected a passthrough cluster, saw ${HOSTILE}`];
  return report([target('1.20.8', [s], { istio: { version: '1.20.8', pilotEnv: { [HOSTILE]: HOSTILE }, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' } } })]);
}

test('escapeHtml covers text and both attribute quotes', (t) => {
  t.is(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('a hostile log line, id, title and env render inert: one script element, ours, and no img', (t) => {
  for (const html of [renderHtmlReport(hostileReport()), renderHtmlMatrix([{ report: hostileReport(), href: 'r/report.html' }]), renderHtmlDiff(matrixReport(), hostileReport())]) {
    t.is(html.match(/<script/g)?.length, 1);
    t.is(html.match(/<\/script>/g)?.length, 1);
    t.false(/<img/i.test(html));
    t.false(html.includes('onerror="'));
  }
  const page = renderHtmlReport(hostileReport());
  t.true(page.includes('&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'), 'shown as text');
});

test('the page is self-contained: no URL outside the page and a CSP that forbids fetching', (t) => {
  const html = renderHtmlReport(matrixReport());
  t.regex(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  t.regex(CONTENT_SECURITY_POLICY, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  t.true(html.includes(`content="${CONTENT_SECURITY_POLICY}"`));
  const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  t.true(urls.every((u) => u.startsWith('#') || u.startsWith('evidence/')), urls.join(' '));
  t.false(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'only the SVG namespace, which is not fetched');
});

test('statuses carry an icon and a word; the header lists the failed probe and its hop first', (t) => {
  const html = renderHtmlReport(matrixReport());
  t.regex(html, /<span class="status bad"><span aria-hidden="true">✗<\/span> failed<\/span>/);
  t.regex(html, /<span class="status ok"><span aria-hidden="true">✓<\/span> passed<\/span>/);
  t.regex(html, /<span class="status warn"><span aria-hidden="true">≈<\/span> flaky<\/span>/);
  const header = html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
  t.regex(header, /<a href="#istio--1\.20\.8--externalname-5701-collision--pod-ip-5701">externalname-5701-collision \/ pod-ip-5701<\/a> on Istio 1\.20\.8 at the <b>client sidecar<\/b>: client cluster: expected PassthroughCluster/);
  t.regex(header, /meshConfig\.connectTimeout <b>1s<\/b>/);
  t.true(header.indexOf('class="failures"') < header.indexOf('class="settings"'), 'failed probes before the settings of every bed, so many versions cannot push them off the first screen');
  t.regex(html, /<details class="evidence"><summary>/, 'evidence folded: no open attribute');
  t.false(html.includes('<details open'));
});

test('a passing run has no failure list and every probe drawn to the server app', (t) => {
  const html = renderHtmlReport(report([target('1.30.1', [scenario()])]));
  t.false(html.includes('failed probes'));
  t.regex(html, /data-hop="server-app"/);
  t.false(html.includes('stopped here'));
});

test('matrix cells link into each run page and carry the sentence in title and aria-label', (t) => {
  const a = report([target('1.20.8', [scenario(), failingScenario()])], { id: 'a' });
  const b = report([target('1.24.3', [scenario()])], { id: 'b' });
  const html = renderHtmlMatrix([
    { report: a, href: 'results/a/report.html' },
    { report: b, href: 'results/b/report.html' },
  ]);
  t.regex(html, /<a class="cell" href="results\/a\/report\.html#istio--1\.20\.8--externalname-5701-collision" title="externalname-5701-collision on Istio 1\.20\.8: failed: pod-ip-5701: outcome: expected echoed, saw closed-after-connect" aria-label="[^"]+">/);
  t.regex(html, /<a class="cell" href="results\/b\/report\.html#istio--1\.24\.3" title="externalname-5701-collision on Istio 1\.24\.3: not run in b"/);
  t.is(html.match(/class="cell"/g)?.length, 4);
});

test('the header names the kind release and node image the bed ran, "unknown" when it did not say, "not recorded" for older reports', (t) => {
  const image = `kindest/node:v1.36.1@sha256:${'c'.repeat(64)}`;
  const header = (html: string) => html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
  const live = header(renderHtmlReport(report([target('1.30.1', [scenario()], { kind: 'v0.31.0', nodeImage: image, kubernetes: '1.36.1' })])));
  t.regex(live, /kind <b>v0\.31\.0<\/b>/);
  t.true(live.includes(`node image <b>${image}</b>`));
  t.regex(live, /Kubernetes <b>1\.36\.1<\/b>/);
  const double = header(renderHtmlReport(report([target('1.30.1', [scenario()], { kind: null, nodeImage: null })])));
  t.regex(double, /kind <b>unknown<\/b>.*node image <b>unknown<\/b>/s);
  // A report.json from before the fields: loads and renders, saying so.
  const old = header(renderHtmlReport(report([target('1.30.1', [scenario()])])));
  t.regex(old, /kind <b>not recorded<\/b>.*node image <b>not recorded<\/b>/s);
  t.regex(old, /mTLS default <b>not recorded<\/b>/);
  const strict = header(renderHtmlReport(report([target('1.30.1', [scenario()], { mtls: { mode: 'STRICT', policy: 'istio-system/default' } })])));
  t.regex(strict, /mTLS default <b>STRICT \(PeerAuthentication istio-system\/default\)<\/b>/);
  t.regex(double, /mTLS default <b>not recorded<\/b>/);
  t.regex(header(renderHtmlReport(report([target('1.30.1', [scenario()], { mtls: { mode: 'PERMISSIVE', policy: null } })]))), /mTLS default <b>PERMISSIVE \(Istio default: no mesh-wide PeerAuthentication\)<\/b>/);
  t.regex(renderSummaryMarkdown(report([target('1.30.1', [scenario()])])), /kind `not recorded`, node image `not recorded`/);
  t.regex(renderJunit(report([target('1.30.1', [scenario()], { kind: 'v0.31.0', nodeImage: image })])), new RegExp(`<property name="nodeImage" value="${image}"/>`));
});

test('the diff page is one page: the grid of both runs (every cell a link) and the changed probe drawn from A and B', (t) => {
  const a = report([target('1.29.9', [scenario(), scenario({ id: 'externalname-5701-collision' })])], { id: 'A' });
  const b = report([target('1.30.5', [scenario(), failingScenario()])], { id: 'B' });
  const html = renderHtmlDiff(a, b, { a: 'from/A/report.html', b: 'to/B/report.html' });
  const cells = [...html.matchAll(/<a class="cell" href="([^"]+)"/g)].map((m) => m[1]);
  t.deepEqual(cells, [
    'from/A/report.html#istio--1.29.9--tcp-pod-ip-baseline',
    'to/B/report.html#istio--1.30.5--tcp-pod-ip-baseline',
    'from/A/report.html#istio--1.29.9--externalname-5701-collision',
    'to/B/report.html#istio--1.30.5--externalname-5701-collision',
  ]);
  const change = html.slice(html.indexOf('<section class="scenario change regression"'));
  t.is(change.match(/<svg class="path observed"/g)?.length, 2, 'A and B side by side');
  t.regex(change, /href="to\/B\/report\.html#istio--1\.30\.5--externalname-5701-collision--pod-ip-5701">details/);
  const header = html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
  t.regex(header, /<a href="#change--1--externalname-5701-collision--pod-ip-5701">externalname-5701-collision \/ pod-ip-5701<\/a> on Istio 1\.29\.9 → 1\.30\.5: verdict pass → fail/);
});
