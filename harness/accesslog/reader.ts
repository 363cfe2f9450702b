/**
 * Streaming line reader: large chunks, UTF-8 decoded once per chunk (invalid bytes become U+FFFD),
 * split on \n by indexOf, a line split across chunks joined once, and a line longer than
 * maxLineLength dropped (counted) without ever being assembled, so a 5 MB line costs O(size).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UsageError } from '../errors/index.ts';

export const DEFAULT_MAX_LINE = 1 << 20;
export const CHUNK_SIZE = 1 << 20;

export interface ReadStats { lines: number; oversized: number }

export async function readLines(
  input: AsyncIterable<Uint8Array | string>,
  onLine: (line: string, lineNumber: number) => void,
  options: { maxLineLength?: number; afterChunk?: () => Promise<void> | void; onOversized?: (lineNumber: number) => void } = {},
): Promise<ReadStats> {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE;
  const decoder = new TextDecoder('utf-8');
  const pending: string[] = [];
  let pendingLength = 0;
  let dropping = false;
  let lineNumber = 0;
  let oversized = 0;

  const emit = (line: string): void => {
    lineNumber++;
    if (line.length > max) {
      oversized++;
      options.onOversized?.(lineNumber);
      return;
    }
    onLine(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line, lineNumber);
  };
  const consume = (text: string): void => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (dropping) {
        lineNumber++;
        oversized++;
        options.onOversized?.(lineNumber);
        dropping = false;
      } else if (pending.length > 0) {
        pending.push(text.slice(start, nl));
        const line = pending.join('');
        pending.length = 0;
        pendingLength = 0;
        emit(line);
      } else {
        emit(text.slice(start, nl));
      }
      start = nl + 1;
    }
    if (start < text.length && !dropping) {
      const rest = start === 0 ? text : text.slice(start);
      pendingLength += rest.length;
      if (pendingLength > max) {
        dropping = true;
        pending.length = 0;
        pendingLength = 0;
      } else pending.push(rest);
    }
  };

  for await (const chunk of input) {
    consume(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (options.afterChunk) await options.afterChunk();
  }
  consume(decoder.decode());
  if (dropping) {
    lineNumber++;
    oversized++;
    options.onOversized?.(lineNumber);
  } else if (pending.length > 0) {
    const line = pending.join('');
    pending.length = 0;
    emit(line);
  }
  return { lines: lineNumber, oversized };
}

/**
 * A plain file in 1 MiB chunks read into two reused buffers: every consumer here is done with a
 * chunk (decoded, copied or written) before asking for the next, and no garbage piles up. The
 * next read is already under way while the consumer works on a chunk, so it does not sit idle
 * waiting for the thread pool after each one (on a busy machine that wait is a scheduling delay).
 */
export async function* fileChunks(path: string, size = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  let turn = 0;
  const read = (): Promise<{ bytesRead: number }> => {
    const pending = handle.read(buffers[turn], 0, size, null);
    // Handled here so a failure while the consumer works is not an unhandled rejection; awaiting it still throws.
    pending.catch(() => {});
    return pending;
  };
  let next = read();
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const current = buffers[turn];
      turn ^= 1;
      next = read();
      yield current.subarray(0, bytesRead);
    }
  } finally {
    // A consumer that stops early leaves one read in flight: let it end before closing the file.
    await next.catch(() => {});
    await handle.close();
  }
}

export interface OpenedInput { source: string; stream: AsyncIterable<Uint8Array | string>; gzip: boolean; warning: string | null }

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

/** Checks a path before any output is written, so usage errors exit 2 cleanly. */
export async function checkReadable(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UsageError(`logs: ${path}: ${describe(error)}`, { hint: 'Give access log files (or - for stdin), e.g. kubectl logs POD -c istio-proxy > proxy.log', cause: error });
  }
  if (info.isDirectory()) throw new UsageError(`logs: ${path}: is a directory`, { hint: 'Give the log files inside it, e.g. podpath logs DIR/*.log' });
  try {
    const handle = await open(path, 'r');
    await handle.close();
  } catch (error) {
    throw new UsageError(`logs: ${path}: ${describe(error)}`, { cause: error });
  }
}

/** Opens a file (gunzipping by magic bytes) or stdin for `-`. */
export async function openInput(path: string, stdin: NodeJS.ReadableStream): Promise<OpenedInput> {
  if (path === '-') return { source: '-', stream: stdin as AsyncIterable<Uint8Array | string>, gzip: false, warning: null };
  const handle = await open(path, 'r');
  const magic = Buffer.alloc(2);
  const { bytesRead } = await handle.read(magic, 0, 2, 0);
  await handle.close();
  const isGzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  if (isGzip) {
    const file = createReadStream(path, { highWaterMark: CHUNK_SIZE });
    const gunzip = createGunzip({ chunkSize: CHUNK_SIZE });
    file.on('error', (error) => gunzip.destroy(error));
    file.pipe(gunzip);
    return { source: path, stream: gunzip, gzip: true, warning: null };
  }
  const warning = path.endsWith('.gz') ? `${path}: not gzip data (no gzip header); reading it as plain text` : null;
  return { source: path, stream: fileChunks(path), gzip: false, warning };
}

/**
 * Copies stdin to a private temp file so it can be read twice, like a file: following a
 * connection then keeps two entries in memory instead of every entry that streamed by.
 * `remove` deletes it; call it in a finally.
 */
export async function spoolStdin(stdin: NodeJS.ReadableStream): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-stdin-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'stdin');
  try {
    await pipeline(stdin, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, remove };
}

export function ioErrorMessage(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || (error instanceof Error && /unexpected end of file/i.test(error.message))) {
    return `${path}: gzip data is corrupt or truncated (${error instanceof Error ? error.message : String(error)}); lines before the damage were read`;
  }
  return `${path}: ${describe(error)}`;
}

/**
 * The byte twin of readLines for the --json fast path: lines are handed out as byte ranges of
 * the chunk; only a line split across chunks is copied (once) into a carry buffer.
 */
export async function readByteLines(
  input: AsyncIterable<Uint8Array | string>,
  onLine: (bytes: Buffer, start: number, end: number, lineNumber: number) => void,
  options: { maxLineLength?: number; afterChunk?: () => Promise<void> | void; onOversized?: (lineNumber: number) => void } = {},
): Promise<ReadStats> {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE;
  let carry = Buffer.alloc(0);
  let carryLength = 0;
  let dropping = false;
  let lineNumber = 0;
  let oversized = 0;
  const drop = (): void => {
    lineNumber++;
    oversized++;
    options.onOversized?.(lineNumber);
  };
  const append = (chunk: Buffer, from: number, to: number): void => {
    const need = carryLength + (to - from);
    if (need > max) {
      dropping = true;
      carryLength = 0;
      return;
    }
    if (need > carry.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, carry.length * 2, 4096));
      carry.copy(bigger, 0, 0, carryLength);
      carry = bigger;
    }
    chunk.copy(carry, carryLength, from, to);
    carryLength = need;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (dropping) {
        dropping = false;
        drop();
      } else if (carryLength > 0) {
        append(chunk, start, nl);
        if (dropping) {
          dropping = false;
          drop();
        } else {
          lineNumber++;
          onLine(carry, 0, carryLength, lineNumber);
        }
        carryLength = 0;
      } else if (nl - start > max) {
        drop();
      } else {
        lineNumber++;
        onLine(chunk, start, nl, lineNumber);
      }
      start = nl + 1;
    }
    if (start < chunk.length && !dropping) append(chunk, start, chunk.length);
    if (options.afterChunk) await options.afterChunk();
  }
  if (dropping) drop();
  else if (carryLength > 0) {
    lineNumber++;
    onLine(carry, 0, carryLength, lineNumber);
  }
  return { lines: lineNumber, oversized };
}
