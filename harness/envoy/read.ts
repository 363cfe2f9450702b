/** I/O side of explain: read a dump from a file, `-` (stdin) or a .gz, then index it. */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { isPodpathError, UsageError } from '../errors/index.ts';
import { loadConfigDump, type ConfigDump } from './load.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Parses dump bytes (gzip detected by its magic number, not only the name) into a ConfigDump. */
export function parseConfigDump(bytes: Buffer, label: string): ConfigDump {
  let data = bytes;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = gunzipSync(data);
    } catch (error) {
      throw new UsageError(`${label} looks gzip-compressed but does not decompress: ${(error as Error).message}`, { cause: error });
    }
  } else if (label.endsWith('.gz')) {
    throw new UsageError(`${label} is named .gz but is not gzip data`, { hint: 'Rename it or compress it with gzip.' });
  }
  if (data.length === 0) throw new UsageError(`${label} is empty`, { hint: 'Capture the dump again; see podpath explain --help.' });
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new UsageError(`${label} is not JSON (${(error as Error).message})`, {
      hint: 'Capture it with `istioctl proxy-config all POD.NS -o json` (not the default table output).',
      cause: error,
    });
  }
  try {
    return loadConfigDump(json);
  } catch (error) {
    if (isPodpathError(error)) throw new UsageError(`${label}: ${error.shortMessage}`, { hint: error.hint, cause: error });
    throw error;
  }
}

export async function readConfigDump(path: string, stdin: NodeJS.ReadableStream): Promise<ConfigDump> {
  const label = path === '-' ? 'stdin' : path;
  let bytes: Buffer;
  try {
    bytes = path === '-' ? await readAll(stdin) : await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`cannot read config dump ${label}: ${why}`, { hint: 'Pass the file written by `istioctl proxy-config all POD.NS -o json > dump.json`, or - for stdin.', cause: error });
  }
  return parseConfigDump(bytes, label);
}
