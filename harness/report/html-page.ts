/**
 * The shell every HTML page shares: one file with inline CSS and one inline script, a
 * Content-Security-Policy that forbids every network fetch and any script but ours (pinned by
 * hash), light and dark themes, and statuses that always carry an icon and a word.
 */
import { createHash } from 'node:crypto';
import type { ProbeVerdict, ScenarioStatus } from './schema.ts';
import type { RunVerdict } from './model.ts';
import { escapeHtml } from './html-escape.ts';
import { SVG_DEFS } from './svg-path.ts';

export type AnyStatus = ScenarioStatus | ProbeVerdict | RunVerdict | 'missing';

/** Icon and word: colour only repeats what the text already says. */
export const STATUS_TEXT: Record<AnyStatus, { icon: string; word: string; tone: string }> = {
  passed: { icon: '✓', word: 'passed', tone: 'ok' },
  pass: { icon: '✓', word: 'pass', tone: 'ok' },
  failed: { icon: '✗', word: 'failed', tone: 'bad' },
  fail: { icon: '✗', word: 'fail', tone: 'bad' },
  skipped: { icon: '○', word: 'skipped', tone: 'muted' },
  flaky: { icon: '≈', word: 'flaky', tone: 'warn' },
  observed: { icon: '◉', word: 'observed', tone: 'info' },
  partial: { icon: '◐', word: 'partial', tone: 'info' },
  observe: { icon: '◉', word: 'observe', tone: 'info' },
  interrupted: { icon: '■', word: 'interrupted', tone: 'warn' },
  missing: { icon: '–', word: 'not run', tone: 'muted' },
};

export function statusBadge(status: AnyStatus): string {
  const s = STATUS_TEXT[status];
  return `<span class="status ${s.tone}"><span aria-hidden="true">${s.icon}</span> ${s.word}</span>`;
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d0d7de;--panel:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da;--badbg:#ffebe9;--code:#eff1f3}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--info:#4493f8;--badbg:#3c1618;--code:#262c36}}
:root[data-theme=dark]{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--panel:#151b23;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--info:#4493f8;--badbg:#3c1618;--code:#262c36}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem 3rem;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.4rem;margin:.2rem 0 .5rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .3rem}h4{font-size:.95rem;margin:1rem 0 .3rem}
a{color:var(--info)}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em}
code{background:var(--code);padding:0 .25em;border-radius:4px}
pre{background:var(--code);padding:.6rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:var(--panel)}
.status{font-weight:600;white-space:nowrap}.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.info{color:var(--info)}.muted{color:var(--muted)}
header{border-bottom:2px solid var(--line);padding-bottom:.6rem}
.meta{color:var(--muted);font-size:.9rem}
.settings{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;margin:.4rem 0;font-size:.9rem}.settings span b{font-weight:600}
.failures{border:2px solid var(--bad);background:var(--badbg);border-radius:8px;padding:.4rem .8rem;margin:.6rem 0}
.failures ul{margin:.2rem 0;padding-left:1.2rem}
.warning{border-left:4px solid var(--warn);padding:.2rem .6rem;margin:.4rem 0}
section.scenario{border:1px solid var(--line);border-radius:8px;padding:.2rem 1rem .8rem;margin:.8rem 0;content-visibility:auto;contain-intrinsic-size:auto 600px}
section.scenario.failed{border-color:var(--bad);border-width:2px}
.probe{border-top:1px dashed var(--line);margin-top:.6rem}
.paths{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}
figure{margin:.3rem 0}figcaption{font-weight:600;font-size:.9rem;margin-bottom:.2rem}
.mismatch{color:var(--bad);font-weight:600}
svg.path .hop rect{fill:var(--panel);stroke:var(--line);stroke-width:1.5}
svg.path .hop.stop rect{stroke-dasharray:6 4;fill:none}
svg.path .hop.bad rect{stroke:var(--bad);stroke-width:3}
svg.path text{fill:var(--fg);font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11px}
svg.path .hop-title{font-family:system-ui,sans-serif;font-size:13px;font-weight:700}
svg.path .tag{fill:var(--bad)}
svg.path .edge{stroke:var(--muted);stroke-width:2}svg.path .edge.dashed{stroke-dasharray:5 4}
.arrowhead{fill:var(--muted)}svg.defs{position:absolute}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
.copy{margin-left:.5rem;font-size:.8rem}
.theme{float:right}
table.matrix td{padding:0;text-align:center}table.matrix th.row{text-align:left}
.cell{display:block;padding:.25rem .5rem;text-decoration:none;position:relative}
.cell .tip{display:none;position:absolute;z-index:2;left:0;top:100%;min-width:18rem;max-width:28rem;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:6px;padding:.3rem .5rem;text-align:left;font-weight:400;box-shadow:0 2px 8px #0004}
.cell:hover .tip,.cell:focus .tip{display:block}
.cell:focus{outline:3px solid var(--info)}
:target{outline:3px solid var(--info);outline-offset:4px}
`;

const SCRIPT = `(function(){
var root=document.documentElement,KEY='podpath-theme';
try{var saved=localStorage.getItem(KEY);if(saved)root.setAttribute('data-theme',saved);}catch(e){}
var bar=document.getElementById('theme');
if(bar){var b=document.createElement('button');b.type='button';b.textContent='Toggle light/dark theme';
b.addEventListener('click',function(){var dark=root.getAttribute('data-theme')==='dark'||(!root.getAttribute('data-theme')&&matchMedia('(prefers-color-scheme: dark)').matches);
var next=dark?'light':'dark';root.setAttribute('data-theme',next);try{localStorage.setItem(KEY,next);}catch(e){}});bar.appendChild(b);}
document.querySelectorAll('pre[data-copy]').forEach(function(pre){var b=document.createElement('button');b.type='button';b.className='copy';b.textContent='Copy';
b.addEventListener('click',function(){var done=function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1500);};
var select=function(){var r=document.createRange();r.selectNodeContents(pre);var sel=getSelection();sel.removeAllRanges();sel.addRange(r);b.textContent='Selected: press Ctrl+C';};
if(navigator.clipboard){navigator.clipboard.writeText(pre.textContent).then(done,select);}else{select();}});
pre.parentNode.insertBefore(b,pre);});
})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/** default-src 'none': no image, font, fetch or frame can leave the page, even from a bad log line. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;

export function renderPage(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    SVG_DEFS,
    '<div id="theme" class="theme"></div>',
    body,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
}
