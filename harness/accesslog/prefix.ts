/**
 * Where the access log text starts in a line as users have it: raw istio-proxy output,
 * `kubectl logs --timestamps` (RFC 3339 time first), `kubectl logs --prefix` (`[pod/NAME/CONTAINER]`),
 * both, or stern (`POD CONTAINER ...`, `NAMESPACE POD CONTAINER ...`, possibly coloured).
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
