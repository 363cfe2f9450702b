/** Worker side of the parallel --json fast path: pieces of whole lines in, NDJSON bytes out. */
import { parentPort, workerData } from 'node:worker_threads';
import { FastJsonWriter } from './fast-json.ts';
import { createLineParser, type FormatMode } from './parse.ts';
import type { SkipReason } from './types.ts';

export interface PieceMessage { seq: number; buf: Uint8Array; firstLine: number }
/** Output buffers the main thread has written, handed back for reuse. */
export interface RecycleMessage { recycle: ArrayBuffer[] }
export interface PieceResult { seq: number; out: Uint8Array[]; piece: ArrayBuffer; entries: number; skipped: Partial<Record<SkipReason, number>>; joined: { entries: number; lines: number } }

const data = workerData as { source: string; defaultPod: string | null; mode: FormatMode; maxLineLength: number };
let entries = 0;
let skipped: Partial<Record<SkipReason, number>> = {};
const parser = createLineParser({ mode: data.mode });
// What the parser had joined before this piece: wrapped lines only join within a piece (consecutive line numbers).
let joinedBefore = { entries: 0, lines: 0, absorbed: {} as Partial<Record<SkipReason, number>> };
const writer = new FastJsonWriter({
  source: data.source,
  defaultPod: data.defaultPod,
  parser,
  sink: { onEntry: () => void entries++, onSkip: (reason) => void (skipped[reason] = (skipped[reason] ?? 0) + 1) },
  // A 1 MiB piece makes about 3 MiB of NDJSON: one output buffer per piece, so one transfer back instead of four.
  capacity: 1 << 22,
});

parentPort?.on('message', (message: PieceMessage | RecycleMessage) => {
  if ('recycle' in message) {
    for (const ab of message.recycle) if (writer.spare.length < 4) writer.spare.push(Buffer.from(ab));
    return;
  }
  const b = Buffer.from(message.buf.buffer, message.buf.byteOffset, message.buf.byteLength);
  entries = 0;
  skipped = {};
  let start = 0;
  let line = message.firstLine;
  while (start < b.length) {
    let nl = b.indexOf(10, start);
    if (nl < 0) nl = b.length;
    // Same rule as the single-thread reader: a line over the limit is skipped, not parsed.
    if (nl - start > data.maxLineLength) skipped.oversized = (skipped.oversized ?? 0) + 1;
    else writer.write(b, start, nl, line);
    line++;
    start = nl + 1;
  }
  // Fragments of a joined line were counted as skipped before the line that completed them.
  const j = parser.joined;
  for (const [reason, n] of Object.entries(j.absorbed) as [SkipReason, number][]) {
    const delta = n - (joinedBefore.absorbed[reason] ?? 0);
    if (delta > 0) skipped[reason] = (skipped[reason] ?? 0) - delta;
  }
  const joined = { entries: j.entries - joinedBefore.entries, lines: j.lines - joinedBefore.lines };
  joinedBefore = { entries: j.entries, lines: j.lines, absorbed: { ...j.absorbed } };
  const out = writer.take();
  // The input piece goes back too, for the main thread to fill again.
  const piece = message.buf.buffer as ArrayBuffer;
  const result: PieceResult = { seq: message.seq, out, piece, entries, skipped, joined };
  parentPort?.postMessage(result, [...out.map((o) => o.buffer as ArrayBuffer), piece]);
});
