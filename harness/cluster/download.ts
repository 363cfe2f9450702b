/**
 * Download with a streamed sha256 check, and tar extraction that refuses anything that could
 * write outside its target. A file whose checksum fails is deleted, never kept "for later".
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Writable } from 'node:stream';
import * as tar from 'tar';
import { EnvironmentError, InterruptedError, isPodpathError } from '../errors/index.ts';

/** The part of fetch podpath uses; tests pass the real fetch pointed at a loopback fixture server. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal; redirect?: 'follow' }) => Promise<Response>;

export type ProgressFn = (received: number, total: number | null) => void;

function interrupted(signal: AbortSignal | undefined, what: string): boolean {
  if (signal?.aborted) throw new InterruptedError(`interrupted while ${what}`);
  return false;
}

async function get(fetchFn: FetchLike, url: string, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFn(url, { signal, redirect: 'follow' });
  } catch (error) {
    interrupted(signal, `downloading ${url}`);
    // A fetch wrapper that already judged the answer (e.g. a pinned checksum) has the better message.
    if (isPodpathError(error)) throw error;
    throw new EnvironmentError(`cannot download ${url}`, { hint: 'Check the network connection (or a proxy) and retry.', cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new EnvironmentError(`download failed: HTTP ${response.status} for ${url}`, {
      hint: response.status === 404 ? 'That release asset does not exist: is the version right?' : 'Retry later; the release host may be unavailable.',
    });
  }
  return response;
}

export async function fetchText(fetchFn: FetchLike, url: string, signal?: AbortSignal): Promise<string> {
  const response = await get(fetchFn, url, signal);
  return await response.text();
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Write a small file atomically (temp file in the same directory, then rename). */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(temp, content, { mode });
  await rename(temp, path);
}

/**
 * Streams `url` into `dest`, hashing as it goes. Only a file whose sha256 equals `expected`
 * is renamed into place; otherwise the partial file is removed and an EnvironmentError names both sums.
 */
export async function downloadVerified(
  fetchFn: FetchLike,
  url: string,
  dest: string,
  expected: string,
  options: { signal?: AbortSignal; onProgress?: ProgressFn; mode?: number } = {},
): Promise<{ sha256: string; bytes: number }> {
  const response = await get(fetchFn, url, options.signal);
  if (!response.body) throw new EnvironmentError(`download failed: empty response for ${url}`);
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  await mkdir(dirname(dest), { recursive: true });
  const temp = `${dest}.download-${randomBytes(6).toString('hex')}`;
  const hash = createHash('sha256');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      options.onProgress?.(received, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), meter, createWriteStream(temp, { mode: options.mode ?? 0o600 }), {
      signal: options.signal,
    });
  } catch (error) {
    await rm(temp, { force: true });
    interrupted(options.signal, `downloading ${url}`);
    throw new EnvironmentError(`download of ${url} broke off after ${received} bytes`, { hint: 'Retry; the connection was interrupted.', cause: error });
  }
  const actual = hash.digest('hex');
  if (total !== null && received !== total) {
    await rm(temp, { force: true });
    throw new EnvironmentError(`download of ${url} is truncated (${received} of ${total} bytes)`, { hint: 'Retry the download.' });
  }
  if (actual !== expected.toLowerCase()) {
    await rm(temp, { force: true });
    throw new EnvironmentError(`checksum mismatch for ${url}`, {
      hint: `Expected sha256 ${expected}, got ${actual}. The file was deleted; podpath never runs an unverified binary. Retry, and report it if it persists.`,
    });
  }
  await rename(temp, dest);
  return { sha256: actual, bytes: received };
}

export type EntryType = string;

/**
 * Why an archive entry may not be extracted, or null if it is harmless. Paths are archive
 * paths (POSIX); links are resolved as the OS would, relative to the entry's own directory.
 */
export function unsafeEntryReason(path: string, type: EntryType, linkpath?: string): string | null {
  const unified = path.replaceAll('\\', '/');
  if (unified.startsWith('/') || isAbsolute(path) || /^[A-Za-z]:/.test(unified)) return `absolute path '${path}'`;
  if (unified.split('/').includes('..')) return `path '${path}' climbs out with '..'`;
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = (linkpath ?? '').replaceAll('\\', '/');
    if (target === '') return `link '${path}' has no target`;
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `link '${path}' points to absolute path '${linkpath}'`;
    // Symlinks resolve from the link's directory; hard links from the archive root.
    const base = type === 'SymbolicLink' ? posix.dirname(unified) : '.';
    const resolved = posix.normalize(posix.join(base, target));
    if (resolved === '..' || resolved.startsWith('../')) return `link '${path}' escapes the target via '${linkpath}'`;
    return null;
  }
  if (['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir'].includes(type)) return null;
  if (['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath', 'OldExtendedHeader'].includes(type)) return null;
  return `entry '${path}' has unsupported type ${type}`;
}

/**
 * Extracts a .tar.gz into a fresh directory under `parent` and returns it. The whole archive is
 * read and checked first; one unsafe entry (or a truncated archive) rejects all of it.
 */
export async function extractSafely(archive: string, parent: string): Promise<string> {
  const problems: string[] = [];
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const reason = unsafeEntryReason(entry.path, entry.type, entry.linkpath);
        if (reason) problems.push(reason);
      },
    });
  } catch (error) {
    throw new EnvironmentError(`cannot read archive ${archive}: it is truncated or corrupt`, { hint: 'Delete it and download again.', cause: error });
  }
  if (problems.length > 0) {
    throw new EnvironmentError(`refusing to extract ${archive}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      hint: 'The archive tries to write outside its directory; it was not extracted. Report it to the publisher.',
    });
  }
  await mkdir(parent, { recursive: true });
  const target = await mkdtemp(join(parent, '.extract-'));
  try {
    await tar.x({ file: archive, cwd: target, strict: true, preservePaths: false, preserveOwner: false });
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw new EnvironmentError(`cannot extract ${archive}`, { hint: 'Delete it and download again.', cause: error });
  }
  return target;
}

const MB = 1024 * 1024;

function formatBytes(n: number): string {
  return n >= MB ? `${(n / MB).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`;
}

/**
 * Progress on stderr: one rewritten line on a terminal, a few plain lines elsewhere (CI logs),
 * never escape sequences when nobody is watching.
 */
export function progressReporter(stream: Writable, label: string, isTTY: boolean): ProgressFn & { done(): void } {
  let lastStep = -1;
  let lastText = '';
  const report = (received: number, total: number | null) => {
    const percent = total ? Math.min(100, Math.floor((received / total) * 100)) : null;
    if (isTTY) {
      const text = `\r${label}: ${percent !== null ? `${String(percent).padStart(3)}% ` : ''}${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''}`;
      if (text !== lastText) stream.write(text);
      lastText = text;
      return;
    }
    // Plain output: one line per quarter (or per 10 MB when the size is unknown).
    const step = percent !== null ? Math.floor(percent / 25) : Math.floor(received / (10 * MB));
    if (step > lastStep) {
      lastStep = step;
      stream.write(`${label}: ${percent !== null ? `${percent}% ` : ''}${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''}\n`);
    }
  };
  return Object.assign(report, {
    done() {
      if (isTTY && lastText) stream.write('\n');
    },
  });
}
