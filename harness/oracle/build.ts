/**
 * Building the oracle for one Istio minor: `go build -mod=readonly` of oracle/versions/<minor> (the
 * committed go.mod/go.sum decide what is built) into the podpath cache, one build at a time per
 * minor across processes (a file lock), written under a temporary name and renamed into place so
 * no reader ever runs half a binary. A stamp beside the binary records the hash of the Go source
 * it was built from: a podpath whose oracle source changed rebuilds instead of trusting old output.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../cluster/assets.ts';
import { withFileLock, type FileLockOptions } from '../cluster/file-lock.ts';
import { isPodpathError } from '../errors/index.ts';
import type { OracleVersion } from '../../oracle/versions.ts';
import { runChild, tailLines } from './child.ts';
import { OracleError } from './errors.ts';
import { formatElapsed, realClock, type ProgressClock } from './progress.ts';

/** oracle/versions/: one Go module per buildable minor. */
export const ORACLE_SOURCE_ROOT = fileURLToPath(new URL('../../oracle/versions/', import.meta.url));

/** Binaries and dump caches: $XDG_CACHE_HOME/podpath/oracle (or ~/.cache/podpath/oracle). */
export function oracleCacheDir(env: NodeJS.ProcessEnv): string {
  return join(cacheRoot(env), 'oracle');
}

/** A version the oracle can build: it names an istio.io/istio module version. */
export type BuildableVersion = OracleVersion & { module: string };

export function isBuildable(v: OracleVersion): v is BuildableVersion {
  return typeof v.module === 'string' && v.module.length > 0;
}

export interface OracleLayout {
  /** <cache>/oracle/<minor>/<module version> */
  dir: string;
  binary: string;
  /** JSON: the source hash and module the binary was built from; written after the binary. */
  stamp: string;
  lock: string;
  dumps: string;
}

export function oracleLayout(cacheDir: string, v: BuildableVersion): OracleLayout {
  const dir = join(cacheDir, v.minor, v.module);
  return { dir, binary: join(dir, 'oracle'), stamp: join(dir, 'oracle.stamp.json'), lock: join(dir, 'build.lock'), dumps: join(dir, 'dumps') };
}

interface Stamp {
  sourceHash: string;
  istioModule: string;
  builtAt: string;
  bytes: number;
}

/** The executable `name` on env.PATH, or null. An absolute or relative path is checked as given. */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const candidates = name.includes('/') ? [name] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * sha256 over the Go module a minor builds from: every .go file (symlinks followed: main.go is
 * shared), go.mod and go.sum, by name. Anything that changes the program changes the hash.
 */
export async function oracleSourceHash(sourceRoot: string, minor: string): Promise<string> {
  const dir = join(sourceRoot, minor);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.go') || n === 'go.mod' || n === 'go.sum').sort();
  const hash = createHash('sha256');
  for (const name of names) {
    const content = await readFile(join(dir, name));
    hash.update(`${name}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/** The `go` line of the minor's go.mod ('1.24.0'), to say which Go is needed. */
export async function goRequirement(sourceRoot: string, minor: string): Promise<string | null> {
  try {
    return /^go\s+(\S+)\s*$/m.exec(await readFile(join(sourceRoot, minor, 'go.mod'), 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

async function readStamp(file: string): Promise<Stamp | null> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as Partial<Stamp>;
    return typeof s.sourceHash === 'string' && typeof s.istioModule === 'string' ? { sourceHash: s.sourceHash, istioModule: s.istioModule, builtAt: String(s.builtAt ?? ''), bytes: Number(s.bytes ?? 0) } : null;
  } catch {
    return null;
  }
}

export type BuiltState = 'built' | 'missing' | 'stale';

/** built: the binary is there and was built from this source; stale: from other source; missing: neither. */
export async function builtState(layout: OracleLayout, sourceHash: string): Promise<BuiltState> {
  const [stamp, binary] = await Promise.all([readStamp(layout.stamp), access(layout.binary, constants.X_OK).then(() => true, () => false)]);
  if (!binary) return 'missing';
  return stamp?.sourceHash === sourceHash ? 'built' : 'stale';
}

export interface BuildOptions {
  /** Default: oracleCacheDir(env). */
  cacheDir: string;
  /** Default: ORACLE_SOURCE_ROOT. */
  sourceRoot?: string;
  /** The go executable (absolute). */
  go: string;
  /** `nice`, when on PATH: a build takes every core for minutes, and other work shares the machine. */
  nice?: string | null;
  /** The environment `go build` runs in (GOPATH, GOCACHE, GOPROXY, HOME come from here). */
  env: NodeJS.ProcessEnv;
  /** Build even when a binary from the same source is cached (npm run oracle re-verifies the build). */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  clock?: ProgressClock;
  /** How often a running build says it is still running (default 30 s). */
  progressEveryMs?: number;
  lock?: FileLockOptions;
}

export interface BuiltOracle {
  minor: string;
  binary: string;
  sourceHash: string;
  /** False when the cached binary was used as is. */
  built: boolean;
  seconds: number;
  bytes: number;
}

/** Builds (or finds built) the oracle for `v`. Throws OracleError (build) or InterruptedError. */
export async function buildOracle(v: BuildableVersion, options: BuildOptions): Promise<BuiltOracle> {
  const sourceRoot = options.sourceRoot ?? ORACLE_SOURCE_ROOT;
  const clock = options.clock ?? realClock;
  const say = (line: string): void => options.onProgress?.(`Istio ${v.minor}: ${line}`);
  const layout = oracleLayout(options.cacheDir, v);
  const sourceHash = await oracleSourceHash(sourceRoot, v.minor);
  const started = clock.now();
  const lockOptions: FileLockOptions = {
    // A cold build on a loaded machine took 37 minutes: wait for another builder longer than that.
    waitMs: 2 * 3600_000,
    staleMs: 3 * 3600_000,
    onWait: (holder) => say(`another podpath is building this oracle (${holder}); waiting for it`),
    ...options.lock,
  };
  return await withFileLock(layout.lock, `building the Istio ${v.minor} oracle`, options.signal, () => buildLocked(v, options, layout, sourceHash, started).catch((error: unknown) => {
    if (isPodpathError(error)) throw error;
    throw new OracleError(v.minor, 'build', `cannot write the Istio ${v.minor} oracle into the podpath cache (${layout.dir})`, {
      hint: 'Check free disk space (a binary is 120–190 MB) and that the cache is writable; set XDG_CACHE_HOME to move it.',
      cause: error,
    });
  }), lockOptions);
}

async function buildLocked(v: BuildableVersion, options: BuildOptions, layout: OracleLayout, sourceHash: string, started: number): Promise<BuiltOracle> {
  const sourceRoot = options.sourceRoot ?? ORACLE_SOURCE_ROOT;
  const clock = options.clock ?? realClock;
  const say = (line: string): void => options.onProgress?.(`Istio ${v.minor}: ${line}`);
  if (!options.force && (await builtState(layout, sourceHash)) === 'built') {
    return { minor: v.minor, binary: layout.binary, sourceHash, built: false, seconds: (clock.now() - started) / 1000, bytes: (await stat(layout.binary)).size };
  }
  await mkdir(layout.dir, { recursive: true });
  // Holding the lock, any temporary binary here is debris of a build that was killed.
  for (const name of await readdir(layout.dir)) if (name.startsWith('oracle.tmp-')) await rm(join(layout.dir, name), { force: true });
  const temp = `${layout.binary}.tmp-${randomBytes(6).toString('hex')}`;
  // go build skips linking when the -o file already carries the build ID it would produce (cmd/go/internal/work/buildid.go,
  // useCache): starting from a copy of the current binary keeps a rebuild of unchanged code at seconds, not a minute of linking.
  await copyFile(layout.binary, temp).catch(() => undefined);
  const goArgs = ['build', '-mod=readonly', '-o', temp, '.'];
  say(`building istiod's config generator (istio.io/istio ${v.release}, go build in oracle/versions/${v.minor}); the first build compiles Istio and takes several minutes, later ones seconds`);
  const buildStarted = clock.now();
  const stopTicks = clock.every(options.progressEveryMs ?? 30_000, () => say(`still building, ${formatElapsed(clock.now() - buildStarted)} elapsed`));
  try {
    let r;
    try {
      r = await runChild(options.nice ? options.nice : options.go, options.nice ? [options.go, ...goArgs] : goArgs, {
        cwd: join(sourceRoot, v.minor),
        // GOFLAGS from the user's shell (e.g. -mod=mod) must not change what is built.
        env: { ...options.env, GOFLAGS: '' },
        group: true,
        ...(options.signal ? { signal: options.signal } : {}),
        what: `building the Istio ${v.minor} oracle`,
      });
    } catch (error) {
      if (isPodpathError(error)) throw error;
      throw new OracleError(v.minor, 'build', `cannot start go build for the Istio ${v.minor} oracle (${options.go})`, { hint: 'Check that `go version` works in this shell.', cause: error });
    }
    if (r.code !== 0) {
      const tail = tailLines(r.stderr, 12);
      throw new OracleError(v.minor, 'build', `go build of the Istio ${v.minor} oracle failed (${r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`})`, {
        hint: [
          ...tail.map((l) => `  ${l}`),
          /403|not available|dial tcp|no such host|proxy|verifying|missing go\.sum/i.test(r.stderr)
            ? 'The first build downloads istio.io/istio and its dependencies: the Go module proxy (GOPROXY) must be reachable and serve them.'
            : `Run \`go build -mod=readonly ./\` in oracle/versions/${v.minor} to see the whole output.`,
        ].join('\n'),
        cause: new Error(r.stderr),
      });
    }
    const bytes = (await stat(temp)).size;
    // The stamp goes first so that no moment has a new binary beside an old stamp that vouches for it.
    await rm(layout.stamp, { force: true });
    await rename(temp, layout.binary);
    const stamp: Stamp = { sourceHash, istioModule: v.module, builtAt: new Date().toISOString(), bytes };
    const stampTemp = `${layout.stamp}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(stampTemp, `${JSON.stringify(stamp)}\n`);
    await rename(stampTemp, layout.stamp);
    const seconds = (clock.now() - buildStarted) / 1000;
    say(`built in ${formatElapsed(seconds * 1000)} (${Math.round(bytes / 1e6)} MB, ${layout.binary})`);
    return { minor: v.minor, binary: layout.binary, sourceHash, built: true, seconds, bytes };
  } finally {
    stopTicks();
    await rm(temp, { force: true });
  }
}
