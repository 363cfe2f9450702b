/**
 * One connection drawn as inline SVG: hops top to bottom (client app → client sidecar → server
 * sidecar → server app), a dashed box where the evidence stops, and a marked border plus a
 * "✗ mismatch" tag on every hop a mismatch sentence belongs to. No fonts, images or scripts.
 */
import type { Hop } from './model.ts';
import { escapeHtml } from './html-escape.ts';

const WIDTH = 360;
const BOX = 78;
const GAP = 30;
const PAD = 6;
const MAX_CHARS = 50;

function clip(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}

export interface PathSvgOptions {
  /** Accessible name, e.g. "observed path of pod-ip-5701". */
  label: string;
  /** "observed" draws stop and mismatch markers; "expected" draws the reference path. */
  kind: 'observed' | 'expected';
}

export function renderPathSvg(hops: readonly Hop[], options: PathSvgOptions): string {
  const height = PAD * 2 + hops.length * BOX + (hops.length - 1) * GAP;
  const parts: string[] = [];
  hops.forEach((hop, i) => {
    const y = PAD + i * (BOX + GAP);
    const bad = options.kind === 'observed' && hop.mismatches.length > 0;
    const cls = ['hop', hop.reached ? 'reached' : 'stop', bad ? 'bad' : ''].filter(Boolean).join(' ');
    const title = [hop.title, ...hop.lines, ...hop.mismatches.map((m) => `mismatch: ${m}`)].join('\n');
    parts.push(`<g class="${cls}" data-hop="${hop.role}"><title>${escapeHtml(title)}</title>`);
    parts.push(`<rect x="${PAD}" y="${y}" width="${WIDTH - PAD * 2}" height="${BOX}" rx="8"/>`);
    const stopped = !hop.reached && options.kind === 'observed' ? ' ■ stopped here' : '';
    const tag = (bad ? ' ✗ mismatch' : '') + stopped;
    parts.push(`<text x="${PAD + 10}" y="${y + 18}" class="hop-title">${escapeHtml(hop.title)}<tspan class="tag">${escapeHtml(tag)}</tspan></text>`);
    hop.lines.slice(0, 3).forEach((line, j) => {
      parts.push(`<text x="${PAD + 10}" y="${y + 36 + j * 15}" class="hop-line">${escapeHtml(clip(line))}</text>`);
    });
    parts.push('</g>');
    if (i < hops.length - 1) {
      const next = hops[i + 1];
      const x = WIDTH / 2;
      const y1 = y + BOX;
      const y2 = y1 + GAP;
      parts.push(`<line class="edge${next.reached ? '' : ' dashed'}" x1="${x}" y1="${y1}" x2="${x}" y2="${y2 - 2}" marker-end="url(#arrow)"/>`);
    }
  });
  return (
    `<svg class="path ${options.kind}" role="img" aria-label="${escapeHtml(options.label)}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    parts.join('') +
    '</svg>'
  );
}

/** The arrowhead every path drawing refers to, defined once per page so ids stay unique. */
export const SVG_DEFS =
  '<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead"/></marker></defs></svg>';
