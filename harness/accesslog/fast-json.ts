/**
 * The `podpath logs --json` fast path: TEXT lines go from input bytes to NDJSON bytes without
 * building strings or entry objects. It uses the same scanner (text-scan.ts) as the string
 * parser and hands any line it is not sure about (non-ASCII, escapes needed, JSON, custom or
 * malformed lines) to the string path, so its output is byte-for-byte that of entryToJson
 * (a property test holds it to that).
 */
import { clusterJson, entryToJson, jsonString } from './json-output.ts';
import { decodeCluster } from './cluster.ts';
import type { LineParser } from './parse.ts';
import {
  F_CLUSTER, F_CODE, F_DETAILS, F_DOWNSTREAM_LOCAL, F_DOWNSTREAM_REMOTE, F_DURATION, F_FLAGS, F_METHOD, F_PATH,
  F_PROTOCOL, F_RECEIVED, F_ROUTE, F_SENT, F_SERVICE_TIME, F_SNI, F_START, F_TERMINATION, F_TRANSPORT,
  F_UA, F_UPSTREAM_HOST, F_UPSTREAM_LOCAL, F_XFF, F_REQUEST_ID, F_AUTHORITY, FIELD_COUNT, interpret, newScan, tokenizeBytes, type Chars,
} from './text-scan.ts';
import type { LogFormatId, SkipReason } from './types.ts';

// Buffers only (never plain Uint8Arrays) so element access stays monomorphic in the hot loops.
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

// Output keys in output order; field k of the scan is the k-th key after `format`.
const NAMES: [number, string][] = [
  [F_START, 'startTime'], [F_METHOD, 'method'], [F_PATH, 'path'], [F_PROTOCOL, 'protocol'], [F_CODE, 'responseCode'],
  [F_FLAGS, 'responseFlags'], [F_DETAILS, 'responseCodeDetails'], [F_TERMINATION, 'connectionTerminationDetails'],
  [F_TRANSPORT, 'upstreamTransportFailureReason'], [F_RECEIVED, 'bytesReceived'], [F_SENT, 'bytesSent'],
  [F_DURATION, 'durationMs'], [F_SERVICE_TIME, 'upstreamServiceTimeMs'], [F_XFF, 'xForwardedFor'], [F_UA, 'userAgent'],
  [F_REQUEST_ID, 'requestId'], [F_AUTHORITY, 'authority'], [F_UPSTREAM_HOST, 'upstreamHost'], [F_CLUSTER, 'upstreamCluster'],
  [F_UPSTREAM_LOCAL, 'upstreamLocalAddress'], [F_DOWNSTREAM_LOCAL, 'downstreamLocalAddress'],
  [F_DOWNSTREAM_REMOTE, 'downstreamRemoteAddress'], [F_SNI, 'requestedServerName'], [F_ROUTE, 'routeName'],
];
const NUMBER_FIELDS = Int8Array.of(F_CODE, F_RECEIVED, F_SENT, F_DURATION, F_SERVICE_TIME);
const NUMERIC = new Uint8Array(FIELD_COUNT);
for (const k of NUMBER_FIELDS) NUMERIC[k] = 1;
// Flags are always written (an empty list at least).
const STRING_FIELDS = Int8Array.from(NAMES.map(([k]) => k).filter((k) => NUMERIC[k] === 0 && k !== F_FLAGS));
const FORMATS: LogFormatId[] = ['text-1.6', 'text-1.8', 'text-1.9', 'text-1.23', 'custom'];
const FORMAT_INDEX: Partial<Record<LogFormatId, number>> = Object.fromEntries(FORMATS.map((f, i) => [f, i]));
// Template slot for the pod name taken from a kubectl/stern prefix (field slots are 0..FIELD_COUNT-1).
const SLOT_POD = -1;
const SHAPE_POD = 1 << FIELD_COUNT;
const SHAPE_FORMAT = FIELD_COUNT + 1;

/**
 * The output of one line shape (which fields have values, whether the pod comes from a prefix, the
 * era): the constant text between values, merged, so a line is a few copies of constants and values.
 */
interface Template {
  /** consts[i] comes before value slots[i]; the last one closes the line up to the cluster. */
  consts: Buffer[];
  slots: Int8Array;
}

const EMPTY = Buffer.alloc(0);
// Bytes a JSON string cannot hold as they are (quote, backslash, controls) or that need UTF-8 decoding.
const UNSAFE = new Uint8Array(256);
for (let c = 0; c < 256; c++) UNSAFE[c] = c === 34 || c === 92 || c < 32 || c >= 128 ? 1 : 0;
const clusterPiece = (json: string): Buffer => bytes(`,"cluster":${json}}\n`);
const OTHER_CLUSTER = clusterPiece(clusterJson(decodeCluster(null)));
const clusterCache = new Map<string, Buffer>();

export interface FastSink { onEntry(): void; onSkip(reason: SkipReason): void }

/** Writes NDJSON for byte lines into an internal buffer; `take()` hands out what is ready. */
export class FastJsonWriter {
  private out: Buffer;
  private pos = 0;
  private readonly capacity: number;
  private ready: Buffer[] = [];
  private readyBytes = 0;
  private readonly scan = newScan();
  private readonly sourceJson: string;
  private readonly defaultPodBytes: Buffer;
  private readonly templates = new Map<number, Template>();
  private readonly decoder = new TextDecoder('utf-8');
  private line: Buffer = Buffer.alloc(0);
  private scratch: Buffer = Buffer.alloc(0);
  private readonly chars: Chars;
  private readonly parser: LineParser;
  private readonly source: string;
  private readonly defaultPod: string | null;
  private readonly sink: FastSink;
  private readonly recentClusters: Buffer[] = [];
  private readonly head: Buffer;

  /** Output buffers handed back after they were written (the parallel path recycles them). */
  readonly spare: Buffer[] = [];

  constructor(options: { source: string; defaultPod: string | null; parser: LineParser; sink: FastSink; capacity?: number }) {
    this.capacity = options.capacity ?? 1 << 20;
    this.out = Buffer.allocUnsafeSlow(this.capacity);
    this.source = options.source;
    this.sourceJson = jsonString(options.source);
    this.defaultPod = options.defaultPod;
    this.defaultPodBytes = bytes(jsonString(options.defaultPod));
    this.parser = options.parser;
    this.sink = options.sink;
    this.head = bytes(`{"source":${this.sourceJson},"line":`);
    this.chars = { at: (i: number) => this.line[i] };
  }

  get size(): number {
    return this.readyBytes + this.pos;
  }

  /** Everything written so far; the writer goes on in a spare buffer or, lazily, a new one (these may still be in flight). */
  take(): Buffer[] {
    if (this.pos > 0) {
      this.ready.push(this.out.subarray(0, this.pos));
      this.readyBytes += this.pos;
    }
    this.out = this.spare.pop() ?? EMPTY;
    this.pos = 0;
    const ready = this.ready;
    this.ready = [];
    this.readyBytes = 0;
    return ready;
  }

  private rotate(extra: number): void {
    if (this.pos > 0) {
      this.ready.push(this.out.subarray(0, this.pos));
      this.readyBytes += this.pos;
    }
    const size = Math.max(this.capacity, extra);
    const spare = this.spare.pop();
    this.out = spare !== undefined && spare.length >= size ? spare : Buffer.allocUnsafeSlow(size);
    this.pos = 0;
  }

  private ensure(extra: number): void {
    if (this.pos + extra > this.out.length) this.rotate(extra);
  }

  private put(piece: Buffer): void {
    // Short pieces (a closing quote, a key) copy faster in a loop than through TypedArray#set's call; merged keys do not.
    const out = this.out;
    const len = piece.length;
    let p = this.pos;
    if (len > 24) out.set(piece, p);
    else for (let i = 0; i < len; i++) out[p + i] = piece[i];
    this.pos = p + len;
  }

  private fail(mark: number): boolean {
    this.pos = mark;
    return false;
  }

  /** Decimal digits of a line number, written without making a string. */
  private digits(n: number): void {
    const out = this.out;
    let width = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) width++;
    let p = this.pos + width;
    this.pos = p;
    do {
      out[--p] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** Which fields have values (the template's shape; -1 when a number holds an ANSI code); numbers must be at most 15 digits, as toInt. */
  private shapeOf(b: Buffer, f: Int32Array): number {
    let mask = 0;
    for (let j = 0; j < STRING_FIELDS.length; j++) {
      const k = STRING_FIELDS[j];
      const start = f[k * 2];
      const len = f[k * 2 + 1] - start;
      if (start >= 0 && len > 0 && !(len === 1 && b[start] === 45)) mask |= 1 << k;
    }
    for (let j = 0; j < NUMBER_FIELDS.length; j++) {
      const k = NUMBER_FIELDS[j];
      const start = f[k * 2];
      const end = f[k * 2 + 1];
      if (start < 0 || end === start || end - start > 15) continue;
      let i = start;
      while (i < end && b[i] >= 48 && b[i] <= 57) i++;
      if (i === end) mask |= 1 << k;
      else for (; i < end; i++) if (b[i] === 27) return -1;
    }
    return mask;
  }

  private template(shape: number): Template {
    let t = this.templates.get(shape);
    if (t !== undefined) return t;
    const consts: Buffer[] = [];
    const slots: number[] = [];
    let pending = ',"pod":';
    const slot = (text: string, k: number): void => {
      consts.push(bytes(text));
      slots.push(k);
    };
    if ((shape & SHAPE_POD) !== 0) {
      slot(pending + '"', SLOT_POD);
      pending = '"';
    } else pending += jsonString(this.defaultPod);
    pending += `,"format":"${FORMATS[shape >>> SHAPE_FORMAT]}"`;
    for (const [k, name] of NAMES) {
      const key = `,"${name}":`;
      if (k === F_FLAGS) {
        slot(pending + key, k);
        pending = '';
      } else if ((shape & (1 << k)) === 0) pending += `${key}null`;
      else if (NUMERIC[k] === 1) {
        slot(pending + key, k);
        pending = '';
      } else {
        slot(pending + key + '"', k);
        pending = '"';
      }
    }
    consts.push(bytes(pending));
    t = { consts, slots: Int8Array.from(slots) };
    this.templates.set(shape, t);
    return t;
  }

  /** A string value's bytes; false when it needs escaping or decoding. */
  private str(f: Int32Array, b: Buffer, k: number): boolean {
    return this.copyPlain(b, f[k * 2], f[k * 2 + 1]);
  }

  /** A number's digits, leading zeros dropped, as toInt. */
  private num(b: Buffer, f: Int32Array, k: number): void {
    let start = f[k * 2];
    const end = f[k * 2 + 1];
    while (start < end - 1 && b[start] === 48) start++;
    const out = this.out;
    let p = this.pos;
    for (let i = start; i < end; i++) out[p++] = b[i];
    this.pos = p;
  }

  /** `-` → [], `UF,URX` → ["UF","URX"]; false for anything else (long names, odd characters). */
  private flags(b: Buffer, f: Int32Array): boolean {
    const start = f[F_FLAGS * 2];
    const end = f[F_FLAGS * 2 + 1];
    const out = this.out;
    let p = this.pos;
    out[p++] = 91;
    if (!(end - start === 1 && b[start] === 45)) {
      out[p++] = 34;
      let last = 44;
      for (let i = start; i < end; i++) {
        const c = b[i];
        if (c === 44) {
          if (last === 44) return false;
          out[p++] = 34;
          out[p++] = 44;
          out[p++] = 34;
        } else if (c >= 65 && c <= 90) out[p++] = c;
        else return false;
        last = c;
      }
      if (last === 44) return false;
      out[p++] = 34;
    }
    out[p++] = 93;
    this.pos = p;
    return true;
  }

  private clusterBytes(b: Buffer, f: Int32Array): Buffer {
    const start = f[F_CLUSTER * 2];
    const end = f[F_CLUSTER * 2 + 1];
    if (start < 0 || end === start || (end - start === 1 && b[start] === 45)) return OTHER_CLUSTER;
    // Few distinct clusters: compare bytes with the recent ones before building a string.
    const recent = this.recentClusters;
    for (let r = 0; r < recent.length; r += 2) {
      const known = recent[r];
      const len = known.length;
      if (len !== end - start) continue;
      let i = 0;
      while (i < len && known[i] === b[start + i]) i++;
      if (i === len) return recent[r + 1];
    }
    const name = b.toString('latin1', start, end);
    let hit = clusterCache.get(name);
    if (hit === undefined) {
      hit = clusterPiece(clusterJson(decodeCluster(name)));
      if (clusterCache.size < 10_000) clusterCache.set(name, hit);
    }
    if (recent.length < 64) recent.push(Buffer.from(b.subarray(start, end)), hit);
    return hit;
  }

  /**
   * One line: bytes [start, end) of `b`, no newline. Bytes outside the copied values may be
   * anything: both paths find the same delimiters (space, tab, quote are never inside a UTF-8
   * sequence), and the values themselves must be printable ASCII to stay on this path.
   * The line's bytes are the writer's to rewrite (a coloured prefix is stripped in place).
   */
  write(b: Buffer, start: number, end: number, lineNumber: number): void {
    if (end > start && b[end - 1] === 13) end--;
    if (end === start) return;
    if (b[start] !== 27 && this.tryFast(b, start, end, lineNumber)) return;
    // stern colours its prefix: the string path strips ANSI codes first, so try again on the stripped bytes,
    // first with only the prefix stripped in place (no copy of the body), then with the whole line copied.
    const from = this.stripPrefixAnsi(b, start, end);
    if (from > start) {
      if (this.tryFast(b, from, end, lineNumber)) return;
      start = from;
    }
    const stripped = this.stripAnsi(b, start, end);
    if (stripped > 0 && this.tryFast(this.scratch, 0, stripped, lineNumber)) return;
    this.slow(b, start, end, lineNumber);
  }

  /**
   * Strips the ANSI codes of the first 300 bytes (stern's prefix words) in place: the stripped prefix
   * is moved up against the rest of the line, which stays where it is. Returns the new start, or
   * `start` when there is nothing to strip there or an ESC that starts no code (the whole-line strip
   * decides then). Removing every code before the last one's end gives what prefix.ts stripAnsi gives
   * for that part, and no code can span that end, so the string path reads the same line either way.
   */
  private stripPrefixAnsi(b: Buffer, start: number, end: number): number {
    const limit = Math.min(end, start + 300);
    let last = -1;
    for (let i = start; i < limit; i++) {
      const c = b[i];
      // The access log starts at `[` and a digit (START_TIME) or `{`: no prefix code lies beyond.
      if ((c === 91 && b[i + 1] >= 48 && b[i + 1] <= 57) || c === 123) break;
      if (c !== 27) continue;
      const after = ansiEnd(b, i, end);
      if (after < 0) return start;
      last = after;
      i = after - 1;
    }
    if (last < 0) return start;
    if (this.scratch.length < last - start) this.scratch = Buffer.allocUnsafeSlow(Math.max(last - start, 4096));
    const kept = this.scratch;
    let n = 0;
    for (let i = start; i < last;) {
      if (b[i] === 27) {
        i = ansiEnd(b, i, end);
        continue;
      }
      kept[n++] = b[i++];
    }
    const from = last - n;
    for (let k = 0; k < n; k++) b[from + k] = kept[k];
    return from;
  }

  /**
   * Copies bytes [start, end) without ANSI codes (ESC `[` digits/`;` letter, as prefix.ts stripAnsi)
   * into the scratch buffer and returns the length, or 0 when there were none.
   */
  private stripAnsi(b: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && b[i] !== 27) i++;
    if (i === end) return 0;
    if (this.scratch.length < end - start) this.scratch = Buffer.allocUnsafeSlow(Math.max(end - start, 4096));
    const out = this.scratch;
    let p = 0;
    for (let k = start; k < i; k++) out[p++] = b[k];
    while (i < end) {
      const c = b[i];
      if (c === 27) {
        const after = ansiEnd(b, i, end);
        if (after > 0) {
          i = after;
          continue;
        }
      }
      out[p++] = c;
      i++;
    }
    return p;
  }

  private slow(b: Buffer, start: number, end: number, lineNumber: number): void {
    const line = this.decoder.decode(b.subarray(start, end));
    const result = this.parser.parse(line, lineNumber, this.source, this.defaultPod);
    if (typeof result === 'string') {
      this.sink.onSkip(result);
      return;
    }
    this.sink.onEntry();
    const text = entryToJson(result, this.sourceJson) + '\n';
    this.ensure(text.length * 3);
    this.pos += this.out.write(text, this.pos, 'utf8');
  }

  private tryFast(b: Buffer, start: number, end: number, lineNumber: number): boolean {
    // Prefixes: [pod/NAME/CONTAINER], an RFC 3339 timestamp, or stern's POD CONTAINER.
    let p = start;
    let podStart = -1;
    let podEnd = -1;
    if (b[p] === 91 && b[p + 1] === 112 && b[p + 2] === 111 && b[p + 3] === 100 && b[p + 4] === 47) {
      let close = p + 5;
      while (close < end && b[close] !== 93) close++;
      if (close >= end) return false;
      podStart = p + 5;
      podEnd = podStart;
      while (podEnd < close && b[podEnd] !== 47) podEnd++;
      p = close + 1;
      while (p < end && b[p] === 32) p++;
    }
    p = skipTimestamp(b, p, end);
    if (b[p] !== 91) {
      if (p !== start || b[p] === 123) return false;
      // stern: one to three words (namespace, pod, container) before the message
      let q = start;
      let w0 = -1, w0e = -1, w1 = -1, w1e = -1;
      for (let w = 0; w < 3; w++) {
        let sp = q;
        while (sp < end && b[sp] !== 32) sp++;
        if (sp >= end || sp === q || sp - start > 300) return false;
        if (w === 0) (w0 = q), (w0e = sp);
        else if (w === 1) (w1 = q), (w1e = sp);
        q = sp + 1;
        while (q < end && b[q] === 32) q++;
        q = skipTimestamp(b, q, end);
        if (b[q] === 123) return false;
        if (b[q] === 91 && b[q + 1] !== 112) {
          podStart = w === 2 ? w1 : w0;
          podEnd = w === 2 ? w1e : w0e;
          p = q;
          break;
        }
      }
      if (p === start) return false;
    }
    const s = this.scan;
    if (tokenizeBytes(b, p, end, s) !== null) return false;
    this.line = b;
    const why = interpret(this.chars, s);
    if (why !== null) return false;
    const f = s.fields;

    const fromPrefix = podStart >= 0 && podEnd > podStart;
    const shape = this.shapeOf(b, f);
    // An ANSI code in a number: the string path strips it and reads the number, so strip first.
    if (shape < 0) return false;
    const t = this.template(shape | (fromPrefix ? SHAPE_POD : 0) | ((FORMAT_INDEX[s.format] ?? 0) << SHAPE_FORMAT));

    this.ensure((end - start) * 2 + 1024 + this.head.length + this.defaultPodBytes.length);
    const mark = this.pos;
    this.put(this.head);
    this.digits(lineNumber);
    const { consts, slots } = t;
    const count = slots.length;
    for (let i = 0; i < count; i++) {
      this.put(consts[i]);
      const k = slots[i];
      if (k === SLOT_POD) {
        if (!this.copyPlain(b, podStart, podEnd)) return this.fail(mark);
      } else if (k === F_FLAGS) {
        if (!this.flags(b, f)) return this.fail(mark);
      } else if (NUMERIC[k] === 1) this.num(b, f, k);
      else if (!this.str(f, b, k)) return this.fail(mark);
    }
    this.put(consts[count]);
    this.put(this.clusterBytes(b, f));
    this.sink.onEntry();
    return true;
  }

  /** Bytes [start, end) as a JSON string body; false when they need escaping or decoding. */
  private copyPlain(b: Buffer, start: number, end: number): boolean {
    const out = this.out;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const c = b[i];
      // Only printable ASCII without `"` or `\` is copied as is; anything to escape or decode takes the string path.
      if (UNSAFE[c] === 1) return false;
      out[p++] = c;
    }
    this.pos = p;
    return true;
  }
}

/** The end of the ANSI code (ESC `[` digits/`;` letter, as prefix.ts stripAnsi) at `i`, or -1. */
function ansiEnd(b: Buffer, i: number, end: number): number {
  if (!(i + 1 < end && b[i + 1] === 91)) return -1;
  let j = i + 2;
  while (j < end && ((b[j] >= 48 && b[j] <= 57) || b[j] === 59)) j++;
  const t = b[j];
  return j < end && ((t >= 65 && t <= 90) || (t >= 97 && t <= 122)) ? j + 1 : -1;
}

function skipTimestamp(b: Buffer, p: number, end: number): number {
  const c = b[p];
  if (!(c >= 48 && c <= 57 && b[p + 4] === 45 && b[p + 7] === 45 && b[p + 10] === 84)) return p;
  while (p < end && b[p] !== 32) p++;
  while (p < end && b[p] === 32) p++;
  return p;
}
