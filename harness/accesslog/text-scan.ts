/**
 * The TEXT scanner, shared by the string parser (text-parser.ts) and the byte fast path
 * (fast-json.ts): a tokenizer per representation fills token offsets, and one `interpret`
 * turns them into field offsets, so both paths read every era identically.
 *
 * Eras differ only between %RESPONSE_FLAGS% and %BYTES_RECEIVED%, so `interpret` anchors on the
 * runs of quoted and bare tokens there instead of on absolute positions:
 *   bare bare (details) → 1.9+;  "mixer" "transport" → 1.6-1.7;  "transport" → 1.8.
 * After the five quoted fields (x-forwarded-for .. upstream host) come the bare tail fields.
 */
import type { LogFormatId, SkipReason } from './types.ts';

export const F_START = 0, F_METHOD = 1, F_PATH = 2, F_PROTOCOL = 3, F_CODE = 4, F_FLAGS = 5, F_DETAILS = 6,
  F_TERMINATION = 7, F_TRANSPORT = 8, F_RECEIVED = 9, F_SENT = 10, F_DURATION = 11, F_SERVICE_TIME = 12, F_XFF = 13,
  F_UA = 14, F_REQUEST_ID = 15, F_AUTHORITY = 16, F_UPSTREAM_HOST = 17, F_CLUSTER = 18, F_UPSTREAM_LOCAL = 19,
  F_DOWNSTREAM_LOCAL = 20, F_DOWNSTREAM_REMOTE = 21, F_SNI = 22, F_ROUTE = 23;
export const FIELD_COUNT = 24;

const MAX_TOKENS = 48;

/** Scanner state: filled by a tokenizer, read by interpret and the field consumers. Reused per line. */
export interface Scan {
  timeStart: number; timeEnd: number; reqStart: number; reqEnd: number;
  n: number;
  tokStart: Int32Array; tokEnd: Int32Array; quoted: Uint8Array;
  /** start/end per field; start -1 = unset. */
  fields: Int32Array;
  format: LogFormatId;
}

export function newScan(): Scan {
  return {
    timeStart: 0, timeEnd: 0, reqStart: 0, reqEnd: 0, n: 0,
    tokStart: new Int32Array(MAX_TOKENS), tokEnd: new Int32Array(MAX_TOKENS), quoted: new Uint8Array(MAX_TOKENS),
    fields: new Int32Array(FIELD_COUNT * 2), format: 'text-1.9',
  };
}

/** Character access for interpret (few calls per line): a string's charCodeAt or a byte array. */
export interface Chars { at(i: number): number }

/** Tokenizes a string line from `p`; returns null or the skip reason. */
export function tokenizeString(line: string, p: number, s: Scan): SkipReason | null {
  if (line.charCodeAt(p) !== 91) return 'not-access-log';
  const d = line.charCodeAt(p + 1);
  if (d < 48 || d > 57) return 'not-access-log';
  const close = line.indexOf('] "', p + 1);
  // START_TIME is short; a far-away `] "` belongs to some other log line (Envoy's own logs use `][`).
  if (close < 0 || close - p > 64) return close < 0 && line.indexOf(']', p) < 0 ? 'truncated' : 'not-access-log';
  s.timeStart = p + 1;
  s.timeEnd = close;
  s.reqStart = close + 3;
  const reqEnd = line.indexOf('" ', s.reqStart);
  if (reqEnd < 0) return 'truncated';
  s.reqEnd = reqEnd;
  const len = line.length;
  const { tokStart, tokEnd, quoted } = s;
  let pos = reqEnd + 2;
  let n = 0;
  while (pos < len && n < MAX_TOKENS) {
    const c = line.charCodeAt(pos);
    if (c === 32 || c === 9) {
      pos++;
      continue;
    }
    if (c === 34) {
      let end = line.indexOf('"', pos + 1);
      if (end < 0) return 'truncated';
      // Envoy does not escape quotes inside values: a closing quote is one followed by a space or the end.
      while (end + 1 < len && line.charCodeAt(end + 1) !== 32) {
        const next = line.indexOf('"', end + 1);
        if (next < 0) break;
        end = next;
      }
      tokStart[n] = pos + 1;
      tokEnd[n] = end;
      quoted[n++] = 1;
      pos = end + 1;
    } else {
      let end = line.indexOf(' ', pos);
      if (end < 0) end = len;
      tokStart[n] = pos;
      tokEnd[n] = end;
      quoted[n++] = 0;
      pos = end;
    }
  }
  s.n = n;
  return null;
}

/** The same tokenizer over bytes [p, end) of an ASCII line. */
export function tokenizeBytes(b: Buffer, p: number, len: number, s: Scan): SkipReason | null {
  if (b[p] !== 91) return 'not-access-log';
  const d = b[p + 1];
  if (d < 48 || d > 57) return 'not-access-log';
  let close = -1;
  const limit = Math.min(len - 2, p + 65);
  for (let i = p + 1; i < limit; i++) {
    if (b[i] === 93 && b[i + 1] === 32 && b[i + 2] === 34) {
      close = i;
      break;
    }
  }
  if (close < 0) {
    for (let i = p; i < len; i++) if (b[i] === 93) return 'not-access-log';
    return 'truncated';
  }
  s.timeStart = p + 1;
  s.timeEnd = close;
  s.reqStart = close + 3;
  let reqEnd = -1;
  for (let i = s.reqStart; i < len - 1; i++) {
    if (b[i] === 34 && b[i + 1] === 32) {
      reqEnd = i;
      break;
    }
  }
  if (reqEnd < 0) return 'truncated';
  s.reqEnd = reqEnd;
  const { tokStart, tokEnd, quoted } = s;
  let pos = reqEnd + 2;
  let n = 0;
  while (pos < len && n < MAX_TOKENS) {
    const c = b[pos];
    if (c === 32 || c === 9) {
      pos++;
      continue;
    }
    if (c === 34) {
      let end = pos + 1;
      while (end < len && b[end] !== 34) end++;
      if (end >= len) return 'truncated';
      while (end + 1 < len && b[end + 1] !== 32) {
        let next = end + 1;
        while (next < len && b[next] !== 34) next++;
        if (next >= len) break;
        end = next;
      }
      tokStart[n] = pos + 1;
      tokEnd[n] = end;
      quoted[n++] = 1;
      pos = end + 1;
    } else {
      let end = pos + 1;
      while (end < len && b[end] !== 32) end++;
      tokStart[n] = pos;
      tokEnd[n] = end;
      quoted[n++] = 0;
      pos = end;
    }
  }
  s.n = n;
  return null;
}

function isDash(c: Chars, start: number, end: number): boolean {
  return end - start === 1 && c.at(start) === 45;
}

/** `1.2.3.4:80`, `[::1]:80`: what Envoy prints for socket addresses. */
function addressAt(c: Chars, start: number, end: number): boolean {
  let colon = -1;
  for (let i = end - 1; i > start; i--) {
    if (c.at(i) === 58) {
      colon = i;
      break;
    }
  }
  if (colon <= start || colon === end - 1) return false;
  for (let i = colon + 1; i < end; i++) {
    const d = c.at(i);
    if (d < 48 || d > 57) return false;
  }
  const first = c.at(start);
  return first === 91 || (first >= 48 && first <= 57);
}

/**
 * A token that starts like an address but is not one (`142.250.20`, `10.244.1.5:`, `[fd00::`):
 * what is left when a terminal or a paste cut the line inside an address.
 */
function partialAddressAt(c: Chars, start: number, end: number): boolean {
  const first = c.at(start);
  if (!(first === 91 || (first >= 48 && first <= 57))) return false;
  let dots = 0;
  let colons = 0;
  for (let i = start; i < end; i++) {
    const d = c.at(i);
    if (d === 46) dots++;
    else if (d === 58) colons++;
    else if (!((d >= 48 && d <= 57) || (d >= 97 && d <= 102) || (d >= 65 && d <= 70) || d === 91 || d === 93)) return false;
  }
  return (dots > 0 || colons > 0 || first === 91) && !addressAt(c, start, end);
}

/** Envoy prints socket addresses, `-`, or `envoy://` internal addresses in the address fields. */
function addressFieldAt(c: Chars, start: number, end: number): boolean {
  return isDash(c, start, end) || addressAt(c, start, end) || (end - start > 8 && equalsAt(c, start, start + 8, 'envoy://'));
}

const INBOUND_PASSTHROUGH = 'InboundPassthroughCluster';

function equalsAt(c: Chars, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (c.at(start + i) !== text.charCodeAt(i)) return false;
  return true;
}

function set(f: Int32Array, field: number, start: number, end: number): void {
  f[field * 2] = start;
  f[field * 2 + 1] = end;
}

/** Field offsets from the tokens; null on success, else why the line is not an entry. */
export function interpret(c: Chars, s: Scan): SkipReason | null {
  const { n, tokStart, tokEnd, quoted, fields: f } = s;
  f.fill(-1);
  if (n < 2) return 'truncated';
  if (quoted[0] === 1 || quoted[1] === 1) return 'not-access-log';
  set(f, F_START, s.timeStart, s.timeEnd);
  // "METHOD PATH PROTOCOL" ("- - -" for TCP): first and last space.
  let s1 = -1;
  let s2 = -1;
  for (let i = s.reqStart; i < s.reqEnd; i++) {
    if (c.at(i) === 32) {
      if (s1 < 0) s1 = i;
      s2 = i;
    }
  }
  if (s1 > s.reqStart && s2 > s1) {
    set(f, F_METHOD, s.reqStart, s1);
    set(f, F_PATH, s1 + 1, s2);
    set(f, F_PROTOCOL, s2 + 1, s.reqEnd);
  } else set(f, F_METHOD, s.reqStart, s.reqEnd);
  set(f, F_CODE, tokStart[0], tokEnd[0]);
  set(f, F_FLAGS, tokStart[1], tokEnd[1]);

  let i = 2;
  while (i < n && quoted[i] === 0) i++;
  const bare1 = i - 2;
  const q1 = i;
  while (i < n && quoted[i] === 1) i++;
  const quoted1 = i - q1;
  const b2 = i;
  while (i < n && quoted[i] === 0) i++;
  const bare2 = i - b2;
  const q2 = i;
  while (i < n && quoted[i] === 1) i++;
  const quoted2 = i - q2;
  if (quoted1 === 0) return i >= n && bare1 < 4 ? 'truncated' : 'not-access-log';
  if (bare2 !== 4 || quoted2 !== 5) return i >= n && bare2 <= 4 && quoted2 < 5 ? 'truncated' : 'not-access-log';
  const tail = i;
  const tailCount = n - i;
  // Every era prints addresses after the cluster: a line that stops at the cluster was cut.
  if (tailCount <= 1) return 'truncated';
  // Three address fields in a row, or a cut address anywhere in the tail: the line was wrapped or cut.
  if (tailCount >= 5) {
    for (let k = tail + 1; k <= tail + 3; k++) if (!addressFieldAt(c, tokStart[k], tokEnd[k])) return 'truncated';
  } else {
    for (let k = tail + 1; k < n; k++) if (partialAddressAt(c, tokStart[k], tokEnd[k])) return 'truncated';
  }

  let format: LogFormatId;
  if (bare1 >= 2) {
    // 1.9 and later always end with %REQUESTED_SERVER_NAME% %ROUTE_NAME%: five tail fields mean the line was cut.
    if (tailCount === 5) return 'truncated';
    format = 'text-1.9';
    set(f, F_DETAILS, tokStart[2], tokEnd[2]);
    set(f, F_TERMINATION, tokStart[3], tokEnd[3]);
    set(f, F_TRANSPORT, tokStart[q1 + quoted1 - 1], tokEnd[q1 + quoted1 - 1]);
  } else if (bare1 === 1) {
    format = 'custom';
    set(f, F_DETAILS, tokStart[2], tokEnd[2]);
    set(f, F_TRANSPORT, tokStart[q1 + quoted1 - 1], tokEnd[q1 + quoted1 - 1]);
  } else if (quoted1 >= 2) {
    format = 'text-1.6';
    set(f, F_TRANSPORT, tokStart[q1 + 1], tokEnd[q1 + 1]);
  } else if (tailCount === 5 && (isDash(c, tokStart[tail + 2], tokEnd[tail + 2]) || addressAt(c, tokStart[tail + 2], tokEnd[tail + 2]))) {
    // One quoted field and no %ROUTE_NAME%: the oldest (1.1-1.2) shape, whose quoted field is the mixer status.
    format = 'text-1.6';
  } else {
    format = 'text-1.8';
    set(f, F_TRANSPORT, tokStart[q1], tokEnd[q1]);
  }
  set(f, F_RECEIVED, tokStart[b2], tokEnd[b2]);
  set(f, F_SENT, tokStart[b2 + 1], tokEnd[b2 + 1]);
  set(f, F_DURATION, tokStart[b2 + 2], tokEnd[b2 + 2]);
  set(f, F_SERVICE_TIME, tokStart[b2 + 3], tokEnd[b2 + 3]);
  for (let k = 0; k < 5; k++) set(f, F_XFF + k, tokStart[q2 + k], tokEnd[q2 + k]);

  let clusterEnd = tokEnd[tail];
  if (clusterEnd > tokStart[tail] && c.at(clusterEnd - 1) === 59) {
    // Some 1.23/1.24 patches print `cluster;` (UPSTREAM_CLUSTER_RAW): strip it, it is that era.
    clusterEnd--;
    format = 'text-1.23';
  } else if (format === 'text-1.9' && equalsAt(c, tokStart[tail], clusterEnd, INBOUND_PASSTHROUGH)) {
    format = 'text-1.23';
  }
  set(f, F_CLUSTER, tokStart[tail], clusterEnd);
  const t = tail + 1;
  if (tailCount >= 5) {
    for (let k = 0; k < 4; k++) set(f, F_UPSTREAM_LOCAL + k, tokStart[t + k], tokEnd[t + k]);
    if (tailCount >= 6) set(f, F_ROUTE, tokStart[t + 4], tokEnd[t + 4]);
  } else {
    // Fewer tail fields than any era prints: addresses were cut out (the seed's blog lines).
    // Address-shaped tokens fill the address fields in order; the rest are SNI then route.
    let k = t;
    const end = tail + tailCount;
    let a = 0;
    while (k < end && a < 3 && addressAt(c, tokStart[k], tokEnd[k])) {
      set(f, F_UPSTREAM_LOCAL + a, tokStart[k], tokEnd[k]);
      a++;
      k++;
    }
    if (k < end) set(f, F_SNI, tokStart[k], tokEnd[k]), k++;
    if (k < end) set(f, F_ROUTE, tokStart[k], tokEnd[k]), k++;
  }
  s.format = format;
  return null;
}
