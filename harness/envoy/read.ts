/** I/O side of explain: read a dump from a file, `-` (stdin) or a .gz, then index it. */
import { constants as bufferConstants } from 'node:buffer';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { isPodpathError, UsageError } from '../errors/index.ts';
import { loadConfigDump, type ConfigDump } from './load.ts';

/** Big meshes give dumps of tens of MiB; 256 MiB leaves room and keeps a gzip bomb from eating the machine. */
export const DEFAULT_MAX_DUMP_BYTES = 256 << 20;

export interface DumpLimits {
  /** Cap on the bytes read from a file or stdin, and on the bytes a .gz decompresses to. */
  maxBytes: number;
  /** Longest string the engine can hold (V8's limit; tests lower it). */
  maxStringLength: number;
}

export const DEFAULT_DUMP_LIMITS: DumpLimits = { maxBytes: DEFAULT_MAX_DUMP_BYTES, maxStringLength: bufferConstants.MAX_STRING_LENGTH };

function mib(bytes: number): string {
  if (bytes >= 1 << 20) return `${Math.round(bytes / (1 << 20))} MiB`;
  return bytes >= 1 << 10 && bytes % (1 << 10) === 0 ? `${bytes >> 10} KiB` : `${bytes} bytes`;
}

export class DumpTooLargeError extends UsageError {}

function tooLarge(label: string, what: string, limits: DumpLimits): DumpTooLargeError {
  return new DumpTooLargeError(`${label} is too large: ${what} more than the ${mib(limits.maxBytes)} cap (--max-dump-size)`, {
    hint: `A sidecar's config dump is rarely above a few tens of MiB; if this one really is bigger, raise the cap, e.g. --max-dump-size ${Math.ceil((limits.maxBytes * 4) / (1 << 20))}M.`,
  });
}

/** Reads at most maxBytes; one byte more is an error, so memory never exceeds the cap. */
async function readCapped(stream: AsyncIterable<Uint8Array | string>, label: string, limits: DumpLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += bytes.length;
    if (size > limits.maxBytes) throw tooLarge(label, 'it holds', limits);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}

async function readFileCapped(path: string, label: string, limits: DumpLimits): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.isFile() && info.size > limits.maxBytes) throw tooLarge(label, `it is ${mib(info.size)},`, limits);
    return await readCapped(handle.createReadStream(), label, limits);
  } finally {
    await handle.close();
  }
}

/** Reads a dump file's bytes, refusing one larger than the cap before reading it. */
export async function readDumpFile(path: string, label: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): Promise<Buffer> {
  return readFileCapped(path, label, limits);
}

/** Parses dump bytes (gzip detected by its magic number, not only the name) into a ConfigDump. */
export function parseConfigDump(bytes: Buffer, label: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): ConfigDump {
  const json = parseDumpJson(bytes, label, limits);
  try {
    return loadConfigDump(json);
  } catch (error) {
    if (isPodpathError(error)) throw new UsageError(`${label}: ${error.shortMessage}`, { hint: error.hint, cause: error });
    throw error;
  }
}

/** Dump bytes to JSON under the same caps: gunzip bounded by maxBytes, no string past V8's limit. */
export function parseDumpJson(bytes: Buffer, label: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): unknown {
  let data = bytes;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      // maxOutputLength stops inflating at the cap instead of after the whole bomb is in memory.
      data = gunzipSync(data, { maxOutputLength: Math.min(limits.maxBytes, bufferConstants.MAX_LENGTH) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(label, 'it decompresses to', limits);
      throw new UsageError(`${label} looks gzip-compressed but does not decompress: ${(error as Error).message}`, { cause: error });
    }
  } else if (label.endsWith('.gz')) {
    throw new UsageError(`${label} is named .gz but is not gzip data`, { hint: 'Rename it or compress it with gzip.' });
  }
  if (data.length === 0) throw new UsageError(`${label} is empty`, { hint: 'Capture the dump again; see podpath explain --help.' });
  if (data.length > limits.maxStringLength) {
    throw new DumpTooLargeError(`${label} is too large to parse: ${mib(data.length)} is more than the longest string JavaScript can hold (${mib(limits.maxStringLength)})`, {
      hint: 'Dump only what explain needs: istioctl proxy-config listeners/clusters/routes/endpoints POD.NS -o json, one file each.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') {
      throw new DumpTooLargeError(`${label} is too large to parse (${(error as Error).message})`, { hint: 'Dump listeners, clusters, routes and endpoints separately.', cause: error });
    }
    throw new UsageError(`${label} is not JSON (${(error as Error).message})`, {
      hint: 'Capture it with `istioctl proxy-config all POD.NS -o json` (not the default table output).',
      cause: error,
    });
  }
  return json;
}

export async function readConfigDump(path: string, stdin: NodeJS.ReadableStream, limits: DumpLimits = DEFAULT_DUMP_LIMITS): Promise<ConfigDump> {
  const label = path === '-' ? 'stdin' : path;
  let bytes: Buffer;
  try {
    bytes = path === '-' ? await readCapped(stdin as AsyncIterable<Uint8Array | string>, label, limits) : await readFileCapped(path, label, limits);
  } catch (error) {
    if (isPodpathError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`cannot read config dump ${label}: ${why}`, { hint: 'Pass the file written by `istioctl proxy-config all POD.NS -o json > dump.json`, or - for stdin.', cause: error });
  }
  return parseConfigDump(bytes, label, limits);
}
