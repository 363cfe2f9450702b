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
  F_UA, F_UPSTREAM_HOST, F_UPSTREAM_LOCAL, F_XFF, F_REQUEST_ID, F_AUTHORITY, interpret, newScan, tokenizeBytes, type Chars,
} from './text-scan.ts';
import type { SkipReason } from './types.ts';

// Buffers only (never plain Uint8Arrays) so element access stays monomorphic in the hot loops.
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

const K = {
  pod: bytes(',"pod":'), responseFlags: bytes(',"responseFlags":'), cluster: bytes(',"cluster":'), end: bytes('}\n'),
};

// Per field: the key with an opening quote (value follows) and the key with null, so each field is one or two copies.
const NAMES: [number, string][] = [
  [F_START, 'startTime'], [F_METHOD, 'method'], [F_PATH, 'path'], [F_PROTOCOL, 'protocol'], [F_CODE, 'responseCode'],
  [F_DETAILS, 'responseCodeDetails'], [F_TERMINATION, 'connectionTerminationDetails'],
  [F_TRANSPORT, 'upstreamTransportFailureReason'], [F_RECEIVED, 'bytesReceived'], [F_SENT, 'bytesSent'],
  [F_DURATION, 'durationMs'], [F_SERVICE_TIME, 'upstreamServiceTimeMs'], [F_XFF, 'xForwardedFor'], [F_UA, 'userAgent'],
  [F_REQUEST_ID, 'requestId'], [F_AUTHORITY, 'authority'], [F_UPSTREAM_HOST, 'upstreamHost'], [F_CLUSTER, 'upstreamCluster'],
  [F_UPSTREAM_LOCAL, 'upstreamLocalAddress'], [F_DOWNSTREAM_LOCAL, 'downstreamLocalAddress'],
  [F_DOWNSTREAM_REMOTE, 'downstreamRemoteAddress'], [F_SNI, 'requestedServerName'], [F_ROUTE, 'routeName'],
];
const KEY_QUOTE: Buffer[] = [];
const KEY_BARE: Buffer[] = [];
const KEY_NULL: Buffer[] = [];
for (const [field, name] of NAMES) {
  // startTime follows the format string's closing quote.
  const lead = field === F_START ? '",' : ',';
  KEY_QUOTE[field] = bytes(`${lead}"${name}":"`);
  KEY_BARE[field] = bytes(`${lead}"${name}":`);
  KEY_NULL[field] = bytes(`${lead}"${name}":null`);
}

const FORMAT_BYTES: Record<string, Buffer> = Object.fromEntries(['text-1.6', 'text-1.8', 'text-1.9', 'text-1.23', 'custom'].map((f) => [f, bytes(`,"format":"${f}`)]));
const EMPTY = Buffer.alloc(0);
const OTHER_CLUSTER = bytes(clusterJson(decodeCluster(null)));
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
    // Pieces are keys and cached cluster objects, mostly under 64 bytes: a loop beats TypedArray#set's call overhead.
    const out = this.out;
    const len = piece.length;
    let p = this.pos;
    if (len > 64) out.set(piece, p);
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

  /** A string field with its key: null for unset/`-`/empty; false when the value needs escaping or decoding. */
  private str(b: Buffer, f: Int32Array, k: number): boolean {
    const start = f[k * 2];
    const end = f[k * 2 + 1];
    if (start < 0 || end === start || (end - start === 1 && b[start] === 45)) {
      this.put(KEY_NULL[k]);
      return true;
    }
    this.put(KEY_QUOTE[k]);
    const out = this.out;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const c = b[i];
      // Only printable ASCII without `"` or `\` is copied as is; anything to escape or decode takes the string path.
      if (c === 34 || c === 92 || c < 32 || c >= 128) return false;
      out[p++] = c;
    }
    out[p++] = 34;
    this.pos = p;
    return true;
  }

  /** A number field with its key, as toInt: digits only (leading zeros dropped), at most 15, else null. */
  private num(b: Buffer, f: Int32Array, k: number): void {
    let start = f[k * 2];
    const end = f[k * 2 + 1];
    const len = end - start;
    if (start < 0 || len === 0 || len > 15) {
      this.put(KEY_NULL[k]);
      return;
    }
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c < 48 || c > 57) {
        this.put(KEY_NULL[k]);
        return;
      }
    }
    this.put(KEY_BARE[k]);
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
      hit = bytes(clusterJson(decodeCluster(name)));
      if (clusterCache.size < 10_000) clusterCache.set(name, hit);
    }
    if (recent.length < 64) recent.push(Buffer.from(b.subarray(start, end)), hit);
    return hit;
  }

  /**
   * One line: bytes [start, end) of `b`, no newline. Bytes outside the copied values may be
   * anything: both paths find the same delimiters (space, tab, quote are never inside a UTF-8
   * sequence), and the values themselves must be printable ASCII to stay on this path.
   */
  write(b: Buffer, start: number, end: number, lineNumber: number): void {
    if (end > start && b[end - 1] === 13) end--;
    if (end === start) return;
    if (this.tryFast(b, start, end, lineNumber)) return;
    // stern colours its prefix: the string path strips ANSI codes first, so try again on the stripped bytes.
    const stripped = this.stripAnsi(b, start, end);
    if (stripped > 0 && this.tryFast(this.scratch, 0, stripped, lineNumber)) return;
    this.slow(b, start, end, lineNumber);
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
      if (c === 27 && b[i + 1] === 91 && i + 1 < end) {
        let j = i + 2;
        while (j < end && ((b[j] >= 48 && b[j] <= 57) || b[j] === 59)) j++;
        const t = b[j];
        if (j < end && ((t >= 65 && t <= 90) || (t >= 97 && t <= 122))) {
          i = j + 1;
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

    this.ensure((end - start) * 2 + 1024 + this.head.length + this.defaultPodBytes.length);
    const mark = this.pos;
    this.put(this.head);
    this.digits(lineNumber);
    this.put(K.pod);
    if (podStart >= 0 && podEnd > podStart) {
      this.out[this.pos++] = 34;
      for (let i = podStart; i < podEnd; i++) {
        const c = b[i];
        if (c === 34 || c === 92 || c < 32 || c >= 128) return this.fail(mark);
        this.out[this.pos++] = c;
      }
      this.out[this.pos++] = 34;
    } else this.put(this.defaultPodBytes);
    this.put(FORMAT_BYTES[s.format]);
    if (!this.str(b, f, F_START)) return this.fail(mark);
    if (!this.str(b, f, F_METHOD)) return this.fail(mark);
    if (!this.str(b, f, F_PATH)) return this.fail(mark);
    if (!this.str(b, f, F_PROTOCOL)) return this.fail(mark);
    this.num(b, f, F_CODE);
    this.put(K.responseFlags);
    if (!this.flags(b, f)) return this.fail(mark);
    if (!this.str(b, f, F_DETAILS)) return this.fail(mark);
    if (!this.str(b, f, F_TERMINATION)) return this.fail(mark);
    if (!this.str(b, f, F_TRANSPORT)) return this.fail(mark);
    this.num(b, f, F_RECEIVED);
    this.num(b, f, F_SENT);
    this.num(b, f, F_DURATION);
    this.num(b, f, F_SERVICE_TIME);
    for (let k = F_XFF; k <= F_ROUTE; k++) if (!this.str(b, f, k)) return this.fail(mark);
    this.put(K.cluster);
    this.put(this.clusterBytes(b, f));
    this.put(K.end);
    this.sink.onEntry();
    return true;
  }
}

function skipTimestamp(b: Buffer, p: number, end: number): number {
  const c = b[p];
  if (!(c >= 48 && c <= 57 && b[p + 4] === 45 && b[p + 7] === 45 && b[p + 10] === 84)) return p;
  while (p < end && b[p] !== 32) p++;
  while (p < end && b[p] === 32) p++;
  return p;
}
