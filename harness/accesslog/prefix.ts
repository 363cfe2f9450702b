/**
 * Where the access log text starts in a line as users have it: raw istio-proxy output,
 * `kubectl logs --timestamps` (RFC 3339 time first), `kubectl logs --prefix` (`[pod/NAME/CONTAINER]`),
 * both, stern (`POD CONTAINER ...`, `NAMESPACE POD CONTAINER ...`, possibly coloured), kubetail
 * (`[POD CONTAINER] ...`), and text copied out of k9s (`│` column borders) or a chat tool (“ ”).
 */

export interface Located { start: number; pod: string | null }

const located: Located = { start: 0, pod: null };

function isRfc3339At(line: string, p: number): boolean {
  const c = line.charCodeAt(p);
  return c >= 48 && c <= 57 && line.charCodeAt(p + 4) === 45 && line.charCodeAt(p + 7) === 45 && line.charCodeAt(p + 10) === 84;
}

function skipSpaces(line: string, p: number): number {
  while (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9) p++;
  return p;
}

function skipTimestamp(line: string, p: number): number {
  if (!isRfc3339At(line, p)) return p;
  const sp = line.indexOf(' ', p);
  return sp < 0 ? line.length : skipSpaces(line, sp + 1);
}

function isContentStart(line: string, p: number): boolean {
  const c = line.charCodeAt(p);
  return c === 123 /* { */ || (c === 91 /* [ */ && line.charCodeAt(p + 1) !== 112 /* not [pod/ */);
}

/**
 * kubetail's `[POD CONTAINER] ` (or `[POD] `): a bracket that does not open a START_TIME, holds
 * one or two words, and is followed by a space. Returns the offset after it, or -1.
 */
function kubetailEnd(line: string): number {
  if (line.charCodeAt(0) !== 91) return -1;
  const d = line.charCodeAt(1);
  if ((d >= 48 && d <= 57) || d === 32) return -1;
  const end = line.indexOf('] ');
  if (end < 2 || end > 300) return -1;
  const inner = line.slice(1, end);
  if (inner.includes('[') || inner.includes('"') || inner.split(' ').length > 2) return -1;
  return end;
}

/** The returned object is reused: read it before the next call. Null when no access log start is found. */
export function locateContent(line: string): Located | null {
  let p = 0;
  let pod: string | null = null;
  if (line.startsWith('[pod/')) {
    const end = line.indexOf(']');
    if (end < 0) return null;
    const inner = line.slice(5, end);
    const slash = inner.indexOf('/');
    pod = slash >= 0 ? inner.slice(0, slash) : inner;
    p = skipSpaces(line, end + 1);
  } else {
    const end = kubetailEnd(line);
    if (end > 0) {
      const inner = line.slice(1, end);
      const space = inner.indexOf(' ');
      pod = space >= 0 ? inner.slice(0, space) : inner;
      p = skipSpaces(line, end + 1);
    }
  }
  p = skipTimestamp(line, p);
  if (isContentStart(line, p)) {
    located.start = p;
    located.pod = pod;
    return located;
  }
  if (p !== 0) return null;
  // stern: one to three words (namespace, pod, container) before the message.
  const words: string[] = [];
  let q = 0;
  for (let w = 0; w < 3; w++) {
    const sp = line.indexOf(' ', q);
    if (sp <= q || sp > 300) break;
    words.push(line.slice(q, sp));
    q = skipTimestamp(line, skipSpaces(line, sp + 1));
    if (isContentStart(line, q)) {
      located.start = q;
      located.pod = words.length >= 3 ? words[1] : words[0];
      return located;
    }
  }
  return null;
}

/** Offsets a custom format might start at, most specific prefix first (custom formats need not start with `[` or `{`). */
export function candidateStarts(line: string): Located[] {
  const out: Located[] = [];
  if (line.startsWith('[pod/')) {
    const end = line.indexOf(']');
    if (end > 0) {
      const inner = line.slice(5, end);
      const slash = inner.indexOf('/');
      const pod = slash >= 0 ? inner.slice(0, slash) : inner;
      const p = skipSpaces(line, end + 1);
      const t = skipTimestamp(line, p);
      if (t !== p) out.push({ start: t, pod });
      out.push({ start: p, pod });
    }
    out.push({ start: 0, pod: null });
    return out;
  }
  const kubetail = kubetailEnd(line);
  if (kubetail > 0) {
    const inner = line.slice(1, kubetail);
    const space = inner.indexOf(' ');
    const p = skipSpaces(line, kubetail + 1);
    const pod = space >= 0 ? inner.slice(0, space) : inner;
    const after = skipTimestamp(line, p);
    if (after !== p) out.push({ start: after, pod });
    out.push({ start: p, pod });
  }
  const t = skipTimestamp(line, 0);
  if (t !== 0) out.push({ start: t, pod: null });
  out.push({ start: 0, pod: null });
  const words: string[] = [];
  let q = 0;
  for (let w = 0; w < 3; w++) {
    const sp = line.indexOf(' ', q);
    if (sp <= q || sp > 300) break;
    words.push(line.slice(q, sp));
    q = skipSpaces(line, sp + 1);
    const pod = words.length >= 3 ? words[1] : words[0];
    const after = skipTimestamp(line, q);
    if (after !== q) out.push({ start: after, pod });
    out.push({ start: q, pod });
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(line: string): string {
  return line.indexOf('\x1b') < 0 ? line : line.replace(ANSI, '');
}

const BOX = '\u2502';
// Chat tools and word processors turn " into “ ” (and sometimes „ or ″).
const TYPOGRAPHIC_QUOTES = /[\u201C\u201D\u201E\u201F\u2033]/g;

/**
 * Undoes what copying a line out of a terminal UI or a chat tool did: k9s draws `│` borders
 * before and after each row (and pads to the column width); chat tools curl the quotes.
 */
// One scan per line for everything normalizeLine undoes; most lines have none of it.
const PASTED = /[\u2502\u201C-\u201F\u2033]/;

export function normalizeLine(line: string): string {
  if (!PASTED.test(line)) return line;
  let out = line;
  if (out.indexOf(BOX) >= 0) {
    let start = 0;
    while (start < out.length && (out.charCodeAt(start) === 32 || out.charCodeAt(start) === 9)) start++;
    if (out.startsWith(BOX, start)) start += BOX.length;
    const end = out.indexOf(BOX, start);
    out = (end < 0 ? out.slice(start) : out.slice(start, end)).trim();
  }
  return out.replace(TYPOGRAPHIC_QUOTES, '"');
}
