/**
 * Envoy evaluates `safe_regex` with Google RE2 (envoyproxy/envoy source/common/common/regex.cc,
 * full match), which runs in linear time. re2js is a port of RE2's matcher: RE2 syntax and
 * semantics, no backtracking, so a pattern from a dump can never hang explain.
 */
import { RE2JS } from 're2js';

const cache = new Map<string, RE2JS | Error>();
const CACHE_LIMIT = 256;

function compile(pattern: string, ignoreCase: boolean): RE2JS | Error {
  const key = `${ignoreCase ? 'i' : '-'}${pattern}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    try {
      compiled = RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    } catch (error) {
      compiled = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** True/false for a full match, or the reason RE2 rejects the pattern. */
export function re2FullMatch(pattern: string, subject: string, ignoreCase = false): boolean | { invalid: string } {
  const compiled = compile(pattern, ignoreCase);
  if (compiled instanceof Error) return { invalid: compiled.message };
  return compiled.matches(subject);
}
