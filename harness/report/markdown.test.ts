import test from 'ava';
import { renderSummaryMarkdown, pathFlowchart, mermaidLabel, mdCell } from './markdown.ts';
import { collisionPath, echoedPath, failingProbe, matrixReport, probe, report, scenario, target } from './testing/fixtures.ts';

function mermaidBlocks(md: string): string[] {
  return [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);
}

test('totals and one table per Istio version', (t) => {
  const md = renderSummaryMarkdown(matrixReport());
  t.regex(md, /❌ \*\*failed\*\*: 3 passed, 1 failed, 1 skipped, 1 flaky, 1 observed across Istio 1\.20\.8, 1\.24\.3\./);
  t.regex(md, /^## Istio 1\.20\.8$/m);
  t.regex(md, /^## Istio 1\.24\.3$/m);
  t.regex(md, /^\| 1\.20\.8 \| 1 \| 1 \| 1 \| 1 \| 0 \| 0 \|$/m);
  t.regex(md, /\| `serviceentry-dns-5701-collision` \| ⏭️ skipped \| 0 \| 0\.000 s \| applies to istio &gt;=1\.24; this target is 1\.20\.8 \|/);
  t.regex(md, /meshConfig\.connectTimeout 1s/);
});

test('a failing probe gets expected-vs-observed rows with escaped pipes and a mermaid flowchart', (t) => {
  const md = renderSummaryMarkdown(matrixReport());
  t.regex(md, /### ❌ externalname-5701-collision on Istio 1\.20\.8/);
  t.regex(md, /^\| client sidecar \| - PassthroughCluster \| UF,URX outbound\\\|5701\\\|\\\|app-ext\.app\.svc\.cluster\.local \|$/m);
  t.regex(md, /^\| server sidecar \| - inbound\\\|5701\\\|\\\| \| absent \|$/m);
  const blocks = mermaidBlocks(md);
  t.is(blocks.length, 1, 'only the failing probe is drawn');
  t.true(blocks[0].startsWith('flowchart LR\n'));
  t.regex(blocks[0], /client sidecar<br\/>outbound#124;5701#124;#124;app-ext\.app\.svc\.cluster\.local<br\/>flags UF,URX/);
  t.regex(blocks[0], /server sidecar<br\/>no entry/);
  t.regex(md, /\[evidence\/istio-1\.20\.8\/externalname-5701-collision\/client-sidecar\.log\]\(evidence\/istio-1\.20\.8\/externalname-5701-collision\/client-sidecar\.log\)/);
});

test('a passing run has no failure section and no diagram', (t) => {
  const md = renderSummaryMarkdown(report([target('1.30.1', [scenario()])]));
  t.regex(md, /✅ \*\*passed\*\*/);
  t.false(md.includes('## Failures'));
  t.is(mermaidBlocks(md).length, 0);
});

test('an interrupted run says so', (t) => {
  const md = renderSummaryMarkdown(report([target('1.30.1', [scenario()])], { interrupted: true }));
  t.regex(md, /⚠️ \*\*interrupted\*\*/);
  t.regex(md, /The run was interrupted/);
});

test('flowchart: full path ends at the responder', (t) => {
  const chart = pathFlowchart(probe(), echoedPath());
  const edges = chart.split('\n').filter((l) => l.includes('-->') || l.includes('-.->'));
  t.deepEqual(
    edges.map((l) => l.trim().split(/\s+/)[0] + '>' + l.trim().split(/\s+/).at(-1)),
    ['src>cs', 'cs>ss', 'ss>dst'],
  );
  t.regex(chart, /dst\("manager\/manager-7948dffbdd-p44xx<br\/>echoed"\)/);
  t.false(chart.includes('stopped'));
});

test('flowchart: stops at the client sidecar when it has no entry', (t) => {
  const chart = pathFlowchart(probe(), { ...collisionPath(), client: null, outcome: 'refused' });
  t.false(chart.includes('ss['));
  t.regex(chart, /cs -\.-> halt/);
  t.regex(chart, /class cs stopped/);
});

test('flowchart: stops at the server sidecar when the client sidecar ended the connection', (t) => {
  const chart = pathFlowchart(failingProbe(), collisionPath());
  t.regex(chart, /ss -\.-> halt/);
  t.regex(chart, /halt\("stopped: closed-after-connect"\)/);
  t.false(/\bend\b/.test(chart.replace(/"[^"]*"/g, '')), 'never the reserved word end as a node id');
});

test('mermaid labels escape everything that could end a label, an edge or the fence', (t) => {
  const label = mermaidLabel('a"b|c<d>e#f`g[h]i\nj');
  t.is(label, 'a#34;b#124;c#60;d#62;e#35;f#96;g#91;h#93;i<br/>j');
  t.false(/["|`<>\[\]]/.test(label.replace(/<br\/>/g, '')));
});

test('markdown cells escape pipes and newlines', (t) => {
  t.is(mdCell('outbound|5701||x\nnext'), 'outbound\\|5701\\|\\|x<br>next');
});

test('a target that already carries its port is not given it twice', (t) => {
  const p = probe({ to: { target: '10.244.1.8:5701', pod: null, port: 5701, protocol: 'tcp' } });
  t.regex(pathFlowchart(p, echoedPath()), /\|"tcp 10\.244\.1\.8:5701"\|/);
  const md = renderSummaryMarkdown(report([target('1.30.1', [scenario({ status: 'failed', probes: [{ ...p, verdict: 'fail', mismatches: ['x'] }] })])]));
  t.regex(md, /manager → 10\.244\.1\.8:5701\/tcp/);
  t.false(md.includes('5701:5701'));
});
