import test from 'ava';
import { renderHtmlReport } from './html.ts';
import { renderHtmlDiff, renderHtmlMatrix } from './html-matrix.ts';
import { escapeHtml } from './html-escape.ts';
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
