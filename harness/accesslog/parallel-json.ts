/**
 * The --json fast path on several cores: the main thread cuts the input into ~1 MiB pieces of
 * whole lines (numbering them), workers turn pieces into NDJSON bytes, and results are written
 * in input order. In flight: at most two pieces per worker, so memory stays flat.
 */
import { Worker } from 'node:worker_threads';
import type { FormatMode } from './parse.ts';
import { DEFAULT_MAX_LINE, type ReadStats } from './reader.ts';
import type { PieceMessage, PieceResult } from './fast-json-worker.ts';
import type { SkipReason } from './types.ts';

const PIECE = 1 << 20;

export interface ParallelOptions {
  source: string;
  defaultPod: string | null;
  mode: FormatMode;
  workers: number;
  /** Resolves once the buffers are written (flushed), so they can be reused. */
  write: (buffers: Uint8Array[]) => Promise<void>;
  onEntries: (count: number) => void;
  onSkip: (reason: SkipReason, count: number) => void;
  checkAbort?: () => void;
  maxLineLength?: number;
}

export async function parallelFastJson(input: AsyncIterable<Uint8Array | string>, options: ParallelOptions): Promise<ReadStats> {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE;
  const workers = Array.from({ length: options.workers }, () =>
    new Worker(new URL('./fast-json-worker.ts', import.meta.url), {
      workerData: { source: options.source, defaultPod: options.defaultPod, mode: options.mode },
      // A small young generation keeps each worker's footprint flat however long the input is.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    }));
  const results = new Map<number, PieceResult>();
  // Input pieces and output buffers circulate instead of being garbage: memory stays flat.
  const freePieces: ArrayBuffer[] = [];
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const worker of workers) {
    worker.on('message', (result: PieceResult) => {
      results.set(result.seq, result);
      notify();
    });
    worker.on('error', (error) => {
      failure = error;
      notify();
    });
  }
  let nextSeq = 0;
  let nextToWrite = 0;
  let lineNumber = 0;
  let oversized = 0;

  const drainReady = async (): Promise<void> => {
    for (;;) {
      const result = results.get(nextToWrite);
      if (result === undefined) return;
      results.delete(nextToWrite);
      nextToWrite++;
      options.onEntries(result.entries);
      for (const [reason, count] of Object.entries(result.skipped)) options.onSkip(reason as SkipReason, count ?? 0);
      await options.write(result.out);
      if (freePieces.length < workers.length * 3) freePieces.push(result.piece);
      const recycle = { recycle: result.out.map((o) => o.buffer as ArrayBuffer) };
      workers[result.seq % workers.length].postMessage(recycle, recycle.recycle);
    }
  };
  const waitForOne = async (): Promise<void> => {
    if (failure) throw failure;
    if (!results.has(nextToWrite)) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    await drainReady();
  };
  const dispatch = async (piece: Buffer, lines: number): Promise<void> => {
    while (nextSeq - nextToWrite >= workers.length * 2) await waitForOne();
    const message: PieceMessage = { seq: nextSeq, buf: new Uint8Array(piece.buffer, piece.byteOffset, piece.length), firstLine: lineNumber + 1 };
    workers[nextSeq % workers.length].postMessage(message, [piece.buffer as ArrayBuffer]);
    nextSeq++;
    lineNumber += lines;
  };
  const countLines = (b: Buffer, from: number, to: number): number => {
    let n = 0;
    let i = from;
    while ((i = b.indexOf(10, i)) >= 0 && i < to) {
      n++;
      i++;
    }
    return n;
  };

  try {
    let carry: Buffer | null = null;
    let dropping = false;
    for await (const raw of input) {
      options.checkAbort?.();
      let chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      if (dropping) {
        const nl = chunk.indexOf(10);
        if (nl < 0) continue;
        dropping = false;
        lineNumber++;
        oversized++;
        chunk = chunk.subarray(nl + 1);
      }
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        const joined: Buffer = carry === null ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
        if (joined.length > max) {
          carry = null;
          dropping = true;
        } else carry = joined;
        continue;
      }
      const head = carry?.length ?? 0;
      const need = head + last + 1;
      const free = freePieces.pop();
      const piece = free !== undefined && free.byteLength >= need ? Buffer.from(free, 0, need) : Buffer.allocUnsafeSlow(Math.max(need, PIECE + (PIECE >> 2))).subarray(0, need);
      if (carry !== null) carry.copy(piece, 0);
      chunk.copy(piece, head, 0, last + 1);
      carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : null;
      if (carry !== null && carry.length > max) {
        carry = null;
        dropping = true;
      }
      await dispatch(piece, countLines(piece, 0, piece.length));
      if (piece.length < PIECE) await drainReady();
    }
    if (dropping) {
      lineNumber++;
      oversized++;
    } else if (carry !== null && carry.length > 0) {
      const piece = Buffer.allocUnsafeSlow(carry.length);
      carry.copy(piece);
      await dispatch(piece, 1);
    }
    while (nextToWrite < nextSeq) await waitForOne();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (oversized) options.onSkip('oversized', oversized);
  return { lines: lineNumber, oversized };
}
