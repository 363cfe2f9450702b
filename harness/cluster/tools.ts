/**
 * kind and istioctl for an exact version: the binary on PATH if it reports that version, else a
 * cached download that still matches its recorded checksum, else a fresh verified download.
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { EnvironmentError, PodpathError } from '../errors/index.ts';
import type { Exec, Plan } from '../exec/index.ts';
import {
  cacheRoot,
  GITHUB_SOURCES,
  istioctlAsset,
  kindAsset,
  parseChecksumFile,
  parseToolVersion,
  platformTarget,
  sameVersion,
  toolDir,
  type Asset,
  type ReleaseSources,
  type Target,
} from './assets.ts';
import { downloadVerified, extractSafely, fetchText, progressReporter, sha256File, writeFileAtomic, type FetchLike } from './download.ts';
import { istioctlPlatform, withPinnedChecksum } from './pinned.ts';
import { pinnedIstioctl } from './versions.ts';
import { withFileLock } from './file-lock.ts';

export interface ToolOptions {
  exec: Exec;
  fetch?: FetchLike;
  env: NodeJS.ProcessEnv;
  platform?: string;
  arch?: string;
  sources?: ReleaseSources;
  signal?: AbortSignal;
  /** Dry run: record what would be downloaded and written, touch nothing. */
  plan?: Plan | null;
  /** Where progress goes (stderr). */
  progress?: Writable;
  isTTY?: boolean;
  /** Skip the PATH check (tests, or when the PATH binary must not be used). */
  ignorePath?: boolean;
  /** The istioctl sha256 podpath recorded for a version and platform (default: versions.json). */
  pinnedIstioctl?: typeof pinnedIstioctl;
}

export interface ResolvedTool {
  tool: 'kind' | 'istioctl';
  version: string;
  /** What to run: a bare name when PATH has the right version, else an absolute path in the cache. */
  path: string;
  origin: 'path' | 'cache' | 'download' | 'planned';
}

interface Record {
  tool: string;
  version: string;
  url: string;
  sha256: string;
  publishedSha256: string;
  verifiedAt: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function onPath(options: ToolOptions, tool: string, args: string[], version: string): Promise<boolean> {
  if (options.ignorePath || options.plan) return false;
  try {
    const result = await options.exec.run(tool, args, { signal: options.signal, timeoutMs: 15_000 });
    const found = parseToolVersion(`${result.stdout}\n${result.stderr}`);
    return found !== null && sameVersion(found, version);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // Not installed or not runnable: fall through to the cache.
    return false;
  }
}

/** A cached binary counts only if its bytes still hash to what was recorded when it was verified. */
async function cached(binary: string, recordPath: string): Promise<boolean> {
  if (!(await exists(binary)) || !(await exists(recordPath))) return false;
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as Partial<Record>;
    return typeof record.sha256 === 'string' && record.sha256 === (await sha256File(binary));
  } catch {
    return false;
  }
}

function targetOf(options: ToolOptions): Target {
  return platformTarget(options.platform ?? process.platform, options.arch ?? process.arch);
}

async function ensure(asset: Asset, binaryName: string, options: ToolOptions, target: Target): Promise<ResolvedTool> {
  const dir = toolDir(cacheRoot(options.env), asset, target);
  const binary = join(dir, binaryName);
  const recordPath = join(dir, `${binaryName}.json`);
  if (options.plan) {
    options.plan.add('note', `use ${asset.tool} ${asset.version} from PATH or ${binary}; else download ${asset.url} and check it against ${asset.checksumUrl}`);
    options.plan.add('file', `write ${binary} (only if missing or its checksum no longer matches)`);
    return { tool: asset.tool, version: asset.version, path: binary, origin: 'planned' };
  }
  if (await cached(binary, recordPath)) return { tool: asset.tool, version: asset.version, path: binary, origin: 'cache' };
  // One download per tool version at a time: a second podpath (another `up`, another run) waits, then finds it cached.
  const onWait = (holder: string) => options.progress?.write(`waiting for another podpath to finish downloading ${asset.tool} ${asset.version} (${holder})\n`);
  return await withFileLock(`${dir}.lock`, `downloading ${asset.tool} ${asset.version}`, options.signal, async () => {
    if (await cached(binary, recordPath)) return { tool: asset.tool, version: asset.version, path: binary, origin: 'cache' };
    const parent = dirname(dir);
    await mkdir(parent, { recursive: true });
    // Everything is built in a directory of this process's own, then renamed into place whole.
    const work = await mkdtemp(join(parent, `.${basename(dir)}.partial-`));
    try {
      const fetchFn = options.fetch ?? fetch;
      const published = parseChecksumFile(await fetchText(fetchFn, asset.checksumUrl, options.signal), asset.fileName);
      const progress = options.progress ? progressReporter(options.progress, `downloading ${asset.fileName}`, options.isTTY ?? false) : undefined;
      const download = join(work, `.${asset.fileName}`);
      try {
        await downloadVerified(fetchFn, asset.url, download, published, { signal: options.signal, onProgress: progress });
      } finally {
        progress?.done();
      }
      const built = join(work, binaryName);
      if (asset.archive) {
        const extracted = await extractSafely(download, work);
        try {
          const inside = join(extracted, binaryName);
          if (!(await exists(inside))) throw new EnvironmentError(`${asset.fileName} does not contain ${binaryName}`, { hint: 'The release archive has an unexpected layout.' });
          await rename(inside, built);
        } finally {
          await rm(extracted, { recursive: true, force: true });
        }
        await rm(download, { force: true });
      } else {
        await rename(download, built);
      }
      await chmod(built, 0o755);
      const record: Record = { tool: asset.tool, version: asset.version, url: asset.url, sha256: await sha256File(built), publishedSha256: published, verifiedAt: new Date().toISOString() };
      await writeFileAtomic(join(work, `${binaryName}.json`), `${JSON.stringify(record, null, 2)}\n`);
      // Under the lock only a copy that failed its check can be here: it goes, the verified one takes its place.
      await rm(dir, { recursive: true, force: true });
      await rename(work, dir);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { tool: asset.tool, version: asset.version, path: binary, origin: 'download' };
  }, { onWait });
}

export async function ensureKind(version: string, options: ToolOptions): Promise<ResolvedTool> {
  const target = targetOf(options);
  const asset = kindAsset(version, target, options.sources ?? GITHUB_SOURCES);
  if (await onPath(options, 'kind', ['version'], asset.version)) return { tool: 'kind', version: asset.version, path: 'kind', origin: 'path' };
  return wrap(ensure(asset, 'kind', options, target), asset);
}

export async function ensureIstioctl(version: string, options: ToolOptions): Promise<ResolvedTool> {
  const target = targetOf(options);
  const asset = istioctlAsset(version, target, options.sources ?? GITHUB_SOURCES);
  if (await onPath(options, 'istioctl', ['version', '--remote=false'], version)) return { tool: 'istioctl', version, path: 'istioctl', origin: 'path' };
  const pinned = (options.pinnedIstioctl ?? pinnedIstioctl)(version, istioctlPlatform(target));
  return wrap(ensure(asset, 'istioctl', { ...options, fetch: withPinnedChecksum(options.fetch ?? fetch, asset, pinned) }, target), asset);
}

async function wrap(work: Promise<ResolvedTool>, asset: Asset): Promise<ResolvedTool> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PodpathError) throw error;
    throw new EnvironmentError(`cannot install ${asset.tool} ${asset.version} into the podpath cache`, {
      hint: `Check that the cache directory is writable (set XDG_CACHE_HOME to move it).`,
      cause: error,
    });
  }
}
