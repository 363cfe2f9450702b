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

const WORKER_URL = new URL('./fast-json-worker.ts', import.meta.url).href;
// A plain-JS bootstrap turns on Node's compile cache before the worker's .ts modules load, so a worker
// does not strip their types again (nodejs/node doc/api/module.md, enableCompileCache): that start-up
// cost a second of CPU per worker on a busy machine.
const BOOTSTRAP = `require('node:module').enableCompileCache(); import(${JSON.stringify(WORKER_URL)});`;

export interface ParallelOptions {
  source: string;
  defaultPod: string | null;
  mode: FormatMode;
  workers: number;
  /** Resolves once the buffers are written (flushed), so they can be reused. */
  write: (buffers: Uint8Array[]) => Promise<void>;
  onEntries: (count: number) => void;
  onSkip: (reason: SkipReason, count: number) => void;
  /** Entries rebuilt from wrapped lines, and how many lines they took. */
  onJoined?: (entries: number, lines: number) => void;
  checkAbort?: () => void;
  maxLineLength?: number;
}

export async function parallelFastJson(input: AsyncIterable<Uint8Array | string>, options: ParallelOptions): Promise<ReadStats> {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE;
  const workers = Array.from({ length: options.workers }, () =>
    new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { source: options.source, defaultPod: options.defaultPod, mode: options.mode, maxLineLength: max },
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
      for (const [reason, count] of Object.entries(result.skipped)) if (count) options.onSkip(reason as SkipReason, count);
      if (result.joined.entries > 0) options.onJoined?.(result.joined.entries, result.joined.lines);
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

  // Input chunks (64 KiB from a pipe, 1 MiB from a file) are gathered into ~1 MiB pieces that end on a newline.
  const CAPACITY = PIECE + (PIECE >> 2);
  const newAcc = (): Buffer => {
    const free = freePieces.pop();
    return free !== undefined && free.byteLength >= CAPACITY ? Buffer.from(free, 0, CAPACITY) : Buffer.allocUnsafeSlow(CAPACITY);
  };
  let acc = newAcc();
  let accLength = 0;
  let dropping = false;
  /** Sends the complete lines of the accumulator; a partial line longer than it can hold is dropped as oversized. */
  const flush = async (final: boolean): Promise<void> => {
    if (accLength === 0) return;
    const last = final ? accLength - 1 : acc.lastIndexOf(10, accLength - 1);
    if (last < 0) {
      // No newline in a full accumulator: one line longer than the limit. Skip to its end.
      accLength = 0;
      dropping = true;
      return;
    }
    const piece = acc.subarray(0, last + 1);
    const lines = countLines(piece, 0, piece.length) + (final && acc[last] !== 10 ? 1 : 0);
    const next = newAcc();
    const tail = accLength - (last + 1);
    if (tail > 0) acc.copy(next, 0, last + 1, accLength);
    acc = next;
    accLength = tail;
    await dispatch(piece, lines);
  };

  try {
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
      let offset = 0;
      while (offset < chunk.length) {
        if (dropping) {
          const nl = chunk.indexOf(10, offset);
          if (nl < 0) break;
          dropping = false;
          lineNumber++;
          oversized++;
          offset = nl + 1;
          continue;
        }
        const n = Math.min(CAPACITY - accLength, chunk.length - offset);
        chunk.copy(acc, accLength, offset, offset + n);
        accLength += n;
        offset += n;
        if (accLength >= PIECE) await flush(false);
      }
      await drainReady();
    }
    if (dropping) {
      lineNumber++;
      oversized++;
    } else await flush(true);
    while (nextToWrite < nextSeq) await waitForOne();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (oversized) options.onSkip('oversized', oversized);
  return { lines: lineNumber, oversized };
}
