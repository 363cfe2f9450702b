/** One line in, one entry or a skip reason out: prefix, then the format (auto-detected per line unless fixed). */
import { compileFormat, parseWithFormat, type CompiledFormat } from './custom-format.ts';
import { compileJsonDictionary, parseJsonAt, parseJsonWithDictionary, type JsonDictionary } from './json-parser.ts';
import { candidateStarts, locateContent, normalizeLine, stripAnsi } from './prefix.ts';
import { parseTextAt } from './text-parser.ts';
import type { AccessLogEntry, SkipReason } from './types.ts';

export type FormatMode = 'auto' | 'text' | 'json';

export interface ParserOptions {
  /** auto (default): text or JSON per line. */
  mode?: FormatMode;
  /** An Envoy format string (text) or JSON dictionary, as in meshConfig.accessLogFormat. */
  logFormat?: string | null;
}

export interface LineParser {
  parse(line: string, lineNumber: number, source: string, pod?: string | null): AccessLogEntry | SkipReason;
  /**
   * Lines that were physically wrapped (a terminal UI wrapped them, JSON was pasted over several
   * lines) and joined back into one entry: how many entries, and the skip results already
   * returned for their earlier fragments, which callers that count skips should take back.
   */
  readonly joined: { entries: number; lines: number; absorbed: Partial<Record<SkipReason, number>> };
}

// Joining stops after this many fragments or characters: a real entry is never longer.
const MAX_FRAGMENTS = 40;
const MAX_JOINED = 1 << 16;

interface Pending { text: string; source: string; first: number; last: number; fragments: number; reasons: SkipReason[] }

export function createLineParser(options: ParserOptions = {}): LineParser {
  const mode = options.mode ?? 'auto';
  const custom = options.logFormat ?? null;
  let text: CompiledFormat | null = null;
  let dictionary: JsonDictionary | null = null;
  if (custom !== null) {
    if (custom.trimStart().startsWith('{')) dictionary = compileJsonDictionary(custom);
    else text = compileFormat(custom);
  }
  const where = { source: '', line: 0, pod: null as string | null, raw: '' };
  const joined = { entries: 0, lines: 0, absorbed: {} as Partial<Record<SkipReason, number>> };
  let pending: Pending | null = null;

  function parseWork(work: string, raw: string, lineNumber: number, source: string, pod: string | null): AccessLogEntry | SkipReason {
    where.source = source;
    where.line = lineNumber;
    where.raw = raw;
    if (text !== null) {
      for (const candidate of candidateStarts(work)) {
        where.pod = candidate.pod ?? pod;
        const entry = parseWithFormat(text, work, candidate.start, where);
        if (entry !== null) return entry;
      }
      return 'not-access-log';
    }
    const at = locateContent(work);
    if (at === null) return 'not-access-log';
    where.pod = at.pod ?? pod;
    const isJson = work.charCodeAt(at.start) === 123;
    if (dictionary !== null) return isJson ? parseJsonWithDictionary(dictionary, work, at.start, where) : 'not-access-log';
    if (isJson) return mode === 'text' ? 'wrong-format' : parseJsonAt(work, at.start, where);
    return mode === 'json' ? 'wrong-format' : parseTextAt(work, at.start, where);
  }

  /** The line continues the pending fragment: the entry they make together, or null. */
  function join(p: Pending, work: string, lineNumber: number, pod: string | null, result: SkipReason): AccessLogEntry | null {
    // A terminal wraps at a column, mid-token: the fragments join with nothing between them (a space
    // at the break, if any, is still at the end of one fragment or the start of the next).
    const glued = p.text + work;
    const entry = parseWork(glued, glued, p.first, p.source, pod);
    if (typeof entry !== 'string') {
      joined.entries++;
      joined.lines += p.fragments + 1;
      for (const r of p.reasons) joined.absorbed[r] = (joined.absorbed[r] ?? 0) + 1;
      entry.joinedLines = p.fragments + 1;
      return entry;
    }
    const still = entry === 'truncated' ? glued : null;
    pending = still !== null && p.fragments < MAX_FRAGMENTS && still.length < MAX_JOINED
      ? { text: still, source: p.source, first: p.first, last: lineNumber, fragments: p.fragments + 1, reasons: [...p.reasons, result] }
      : null;
    return null;
  }

  return {
    joined,
    parse(line, lineNumber, source, pod = null) {
      const work = normalizeLine(stripAnsi(line));
      const result = parseWork(work, line, lineNumber, source, pod);
      if (typeof result !== 'string') {
        pending = null;
        return result;
      }
      const p = pending;
      pending = null;
      // Only a line that starts no entry of its own can be the rest of the one before it.
      if (p !== null && result === 'not-access-log' && p.source === source && lineNumber === p.last + 1) {
        const entry = join(p, work, lineNumber, pod, result);
        if (entry !== null) return entry;
        return result;
      }
      if (result === 'truncated') pending = { text: work, source, first: lineNumber, last: lineNumber, fragments: 1, reasons: [result] };
      return result;
    },
  };
}

/** Parses a whole text (tests, small logs); `options.pod` fills entries without a pod prefix. */
export function parseLogText(
  text: string,
  options: { source: string; pod?: string | null } & ParserOptions,
): { entries: AccessLogEntry[]; skipped: number; skippedBy: Partial<Record<SkipReason, number>>; joined: number } {
  const parser = createLineParser(options);
  const entries: AccessLogEntry[] = [];
  const skippedBy: Partial<Record<SkipReason, number>> = {};
  let skipped = 0;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const result = parser.parse(line, i + 1, options.source, options.pod ?? null);
    if (typeof result === 'string') {
      skipped++;
      skippedBy[result] = (skippedBy[result] ?? 0) + 1;
    } else entries.push(result);
  }
  for (const [reason, n] of Object.entries(parser.joined.absorbed) as [SkipReason, number][]) {
    skipped -= n;
    skippedBy[reason] = (skippedBy[reason] ?? 0) - n;
    if (skippedBy[reason] === 0) delete skippedBy[reason];
  }
  return { entries, skipped, skippedBy, joined: parser.joined.entries };
}
