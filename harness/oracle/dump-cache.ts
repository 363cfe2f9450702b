/**
 * Generated dumps, kept by what determines them: the minor, the istio.io/istio module, the hash of
 * the oracle's Go source, the input JSON and istiod's env. A hit answers without starting the Go
 * program (which spends about a second setting up istiod per run). Entries are gzipped JSON,
 * written under a temporary name and renamed, so a reader never sees half an entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { OracleInput, OracleOutput } from './types.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface DumpKeyParts {
  minor: string;
  istioModule: string;
  sourceHash: string;
  input: OracleInput;
  pilotEnv: Readonly<Record<string, string>>;
}

/** sha256 (hex) of the parts; env keys are sorted so the order they were given in does not matter. */
export function dumpCacheKey(parts: DumpKeyParts): string {
  const env = Object.fromEntries(Object.entries(parts.pilotEnv).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256')
    .update(JSON.stringify({ minor: parts.minor, istioModule: parts.istioModule, sourceHash: parts.sourceHash, pilotEnv: env }))
    .update('\0')
    .update(JSON.stringify(parts.input))
    .digest('hex');
}

function entryPath(dir: string, key: string): string {
  return join(dir, `${key}.json.gz`);
}

export function isOracleOutput(value: unknown): value is OracleOutput {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { record?: unknown; dumps?: unknown };
  if (typeof v.record !== 'object' || v.record === null || typeof v.dumps !== 'object' || v.dumps === null) return false;
  const r = v.record as Record<string, unknown>;
  if (!['istioModule', 'istioCommit', 'goVersion', 'inputsHash'].every((k) => typeof r[k] === 'string')) return false;
  return Object.values(v.dumps as Record<string, unknown>).every((d) => typeof d === 'object' && d !== null && Array.isArray((d as { configs?: unknown }).configs));
}

/** The cached output, or null (absent, or unreadable: then it is removed and regenerated). */
export async function readCachedDump(dir: string, key: string): Promise<OracleOutput | null> {
  const file = entryPath(dir, key);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  try {
    const value: unknown = JSON.parse((await gunzipAsync(bytes)).toString('utf8'));
    if (isOracleOutput(value)) return value;
  } catch {
    // corrupt: fall through
  }
  await rm(file, { force: true });
  return null;
}

/** Entries kept per minor before the oldest are removed (about 12 KB each per proxy). */
export const DUMP_CACHE_LIMIT = 2000;

export async function writeCachedDump(dir: string, key: string, output: OracleOutput, limit = DUMP_CACHE_LIMIT): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = entryPath(dir, key);
  const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, await gzipAsync(Buffer.from(JSON.stringify(output))));
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
  await prune(dir, limit);
}

/** Removes the least recently written entries beyond `limit` (and temporaries left by a killed writer). */
async function prune(dir: string, limit: number): Promise<void> {
  const names = await readdir(dir);
  if (names.length <= limit) return;
  const entries = await Promise.all(
    names.map(async (name) => {
      try {
        return { name, mtimeMs: (await stat(join(dir, name))).mtimeMs };
      } catch {
        return null;
      }
    }),
  );
  const live = entries.filter((e): e is { name: string; mtimeMs: number } => e !== null).sort((a, b) => b.mtimeMs - a.mtimeMs);
  await Promise.all(live.slice(limit).map((e) => rm(join(dir, e.name), { force: true })));
}
