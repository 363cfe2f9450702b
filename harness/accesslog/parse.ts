/** One line in, one entry or a skip reason out: prefix, then the format (auto-detected per line unless fixed). */
import { compileFormat, parseWithFormat, type CompiledFormat } from './custom-format.ts';
import { compileJsonDictionary, parseJsonAt, parseJsonWithDictionary, type JsonDictionary } from './json-parser.ts';
import { candidateStarts, locateContent, stripAnsi } from './prefix.ts';
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
}

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
  return {
    parse(line, lineNumber, source, pod = null) {
      const work = stripAnsi(line);
      where.source = source;
      where.line = lineNumber;
      where.raw = line;
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
    },
  };
}

/** Parses a whole text (tests, small logs); `options.pod` fills entries without a pod prefix. */
export function parseLogText(
  text: string,
  options: { source: string; pod?: string | null } & ParserOptions,
): { entries: AccessLogEntry[]; skipped: number; skippedBy: Partial<Record<SkipReason, number>> } {
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
  return { entries, skipped, skippedBy };
}
