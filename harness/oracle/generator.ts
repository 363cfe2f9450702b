/**
 * The DumpGenerator backed by the real Go program (oracle/common/main.go, built per minor from
 * oracle/versions/<minor>): says per minor whether it can answer now, after a build, or not here;
 * builds on first use; answers repeated questions from the dump cache.
 */
import type { FileLockOptions } from '../cluster/file-lock.ts';
import { isPodpathError } from '../errors/index.ts';
import { oracleVersion, ORACLE_VERSIONS, type OracleVersion } from '../../oracle/versions.ts';
import { buildOracle, builtState, findExecutable, goRequirement, isBuildable, oracleCacheDir, oracleLayout, oracleSourceHash, ORACLE_SOURCE_ROOT, type BuildableVersion, type BuiltOracle } from './build.ts';
import { runChild, tailLines } from './child.ts';
import { dumpCacheKey, isOracleOutput, readCachedDump, writeCachedDump } from './dump-cache.ts';
import { OracleError } from './errors.ts';
import { realClock, type ProgressClock } from './progress.ts';
import type { DumpGenerator, GenerateRequest, OracleAvailability, OracleOutput } from './types.ts';

export interface OracleGeneratorOptions {
  /** PATH (to find `go`), XDG_CACHE_HOME/HOME (the cache) and the environment `go build` runs in. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where binaries and dumps go. Default: $XDG_CACHE_HOME/podpath/oracle. */
  cacheDir?: string;
  /** Only minors already built are ready; the others are unavailable, and nothing is built. */
  offlineOnly?: boolean;
  /** Keep and reuse generated dumps (default true). */
  dumpCache?: boolean;
  /** The `go` executable; default: `go` on env.PATH. */
  go?: string;
  /** Default: oracle/versions.ts. */
  versions?: readonly OracleVersion[];
  /** Default: oracle/versions/. */
  sourceRoot?: string;
  clock?: ProgressClock;
  progressEveryMs?: number;
  lock?: FileLockOptions;
}

/** How to get Go, for messages: the minor's go.mod says which version at least. */
function getGo(required: string | null): string {
  return `Install Go${required ? ` ${required} or newer` : ''} (https://go.dev/doc/install) and put \`go\` on PATH; the first use of each Istio minor builds istiod's code once (several minutes, about 2 GB of Go caches and a 120–190 MB binary), later uses start in a second.`;
}

export interface OracleGenerator extends DumpGenerator {
  /** Builds the minor now if it is not built (what `generate` does on first use). */
  build(minor: string, options?: { signal?: AbortSignal; onProgress?: (line: string) => void; force?: boolean }): Promise<BuiltOracle>;
}

export function createOracleGenerator(options: OracleGeneratorOptions = {}): OracleGenerator {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? oracleCacheDir(env);
  const sourceRoot = options.sourceRoot ?? ORACLE_SOURCE_ROOT;
  const versions = options.versions ?? ORACLE_VERSIONS;
  const clock = options.clock ?? realClock;
  const useDumpCache = options.dumpCache !== false;
  const hashes = new Map<string, Promise<string>>();
  // One build at a time from this process: each one takes every core for minutes.
  let buildQueue: Promise<unknown> = Promise.resolve();

  const sourceHash = (minor: string): Promise<string> => {
    let h = hashes.get(minor);
    if (!h) {
      h = oracleSourceHash(sourceRoot, minor);
      hashes.set(minor, h);
    }
    return h;
  };
  const findGo = (): Promise<string | null> => findExecutable(options.go ?? 'go', env);

  function versionOf(minor: string): OracleVersion | undefined {
    return options.versions ? versions.find((v) => v.minor === minor) : oracleVersion(minor);
  }

  function unavailableError(minor: string, availability: OracleAvailability & { state: 'unavailable' }, failure: OracleError['failure'], hint: string): OracleError {
    return new OracleError(minor, failure, `no istiod oracle for Istio ${minor}: ${availability.reason}`, { hint });
  }

  interface Judged {
    availability: OracleAvailability;
    version?: BuildableVersion;
    failure?: OracleError['failure'];
    hint?: string;
  }

  async function judge(minor: string): Promise<Judged> {
    const v = versionOf(minor);
    const known = versions.map((x) => x.minor).join(', ');
    if (!v) return { availability: { state: 'unavailable', reason: `unknown Istio minor '${minor}' (the oracle knows ${known})` }, failure: 'unavailable', hint: `Use one of: ${known}.` };
    if (!isBuildable(v)) {
      const buildable = versions.filter(isBuildable).map((x) => x.minor).join(', ');
      return { availability: { state: 'unavailable', reason: v.unavailable ?? 'no Istio code is pinned for it' }, failure: 'unavailable', hint: `The oracle can build: ${buildable}. A cluster run (podpath run --istio ${minor}) still answers for ${minor}.` };
    }
    const state = await builtState(oracleLayout(cacheDir, v), await sourceHash(minor));
    if (state === 'built') return { availability: { state: 'ready' }, version: v };
    const what = state === 'stale' ? 'built from older oracle source, so it must be rebuilt' : 'not built yet';
    if (options.offlineOnly) {
      return {
        availability: { state: 'unavailable', reason: `its oracle is ${what} and --offline-only builds nothing` },
        version: v,
        failure: 'not-built',
        hint: `Run without --offline-only to build it (needs Go; several minutes the first time, seconds once Go's caches are warm), or leave ${minor} out of --istio.`,
      };
    }
    const go = await findGo();
    if (!go) {
      const required = await goRequirement(sourceRoot, minor);
      return { availability: { state: 'unavailable', reason: `its oracle is ${what} and \`go\` is not on PATH` }, version: v, failure: 'no-go', hint: getGo(required) };
    }
    return { availability: { state: 'buildable', reason: `its oracle is ${what}: a one-time go build of istio.io/istio ${v.release} (several minutes cold, seconds with warm Go caches)` }, version: v };
  }

  async function build(v: BuildableVersion, request: { signal?: AbortSignal; onProgress?: (line: string) => void; force?: boolean }): Promise<BuiltOracle> {
    const go = await findGo();
    if (!go) throw new OracleError(v.minor, 'no-go', `cannot build the istiod oracle for Istio ${v.minor}: \`go\` is not on PATH`, { hint: getGo(await goRequirement(sourceRoot, v.minor)) });
    const nice = await findExecutable('nice', env);
    const run = buildQueue.then(() =>
      buildOracle(v, {
        cacheDir,
        sourceRoot,
        go,
        nice,
        env,
        ...(request.force ? { force: true } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
        clock,
        ...(options.progressEveryMs !== undefined ? { progressEveryMs: options.progressEveryMs } : {}),
        ...(options.lock ? { lock: options.lock } : {}),
      }),
    );
    buildQueue = run.catch(() => undefined);
    return await run;
  }

  return {
    async availability(minor) {
      const judged = await judge(minor);
      return judged.availability.state === 'unavailable' && judged.hint ? { ...judged.availability, hint: judged.hint } : judged.availability;
    },

    async build(minor, request = {}) {
      const judged = await judge(minor);
      if (!judged.version || (judged.availability.state === 'unavailable' && judged.failure !== 'no-go')) {
        const a = judged.availability as OracleAvailability & { state: 'unavailable' };
        throw unavailableError(minor, a, judged.failure ?? 'unavailable', judged.hint ?? '');
      }
      return await build(judged.version, request);
    },

    async generate(request: GenerateRequest): Promise<OracleOutput> {
      const v = versionOf(request.minor);
      const inputJson = JSON.stringify(request.input);
      let key: string | null = null;
      let dumps: string | null = null;
      if (v && isBuildable(v) && useDumpCache) {
        key = dumpCacheKey({ minor: v.minor, istioModule: v.module, sourceHash: await sourceHash(v.minor), input: request.input, pilotEnv: request.pilotEnv });
        dumps = oracleLayout(cacheDir, v).dumps;
        const hit = await readCachedDump(dumps, key);
        if (hit) return hit;
      }
      const judged = await judge(request.minor);
      if (judged.availability.state === 'unavailable' || !judged.version) {
        const a = judged.availability as OracleAvailability & { state: 'unavailable' };
        throw unavailableError(request.minor, a, judged.failure ?? 'unavailable', judged.hint ?? '');
      }
      const version = judged.version;
      const binary = judged.availability.state === 'ready' ? oracleLayout(cacheDir, version).binary : (await build(version, request)).binary;
      request.onProgress?.(`Istio ${version.minor}: generating sidecar config with istiod ${version.release}`);
      const output = await runOracle(binary, version.minor, inputJson, request.pilotEnv, env, request.signal);
      // The cache only saves time: an answer that cannot be kept (read-only or full disk) is still the answer.
      if (key && dumps) await writeCachedDump(dumps, key, output).catch(() => undefined);
      return output;
    },
  };
}

/**
 * Runs a built oracle: the input JSON on stdin, istiod's env (and only what a process needs to
 * start: PATH, HOME, TMPDIR) in its environment, so the user's shell cannot change what istiod
 * builds behind the dump cache's back.
 */
export async function runOracle(binary: string, minor: string, inputJson: string, pilotEnv: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<OracleOutput> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR'] as const) if (env[k] !== undefined) childEnv[k] = env[k];
  Object.assign(childEnv, pilotEnv);
  let r;
  try {
    r = await runChild(binary, [], { env: childEnv, stdin: inputJson, ...(signal ? { signal } : {}), what: `generating Istio ${minor} sidecar config` });
  } catch (error) {
    if (isPodpathError(error)) throw error;
    throw new OracleError(minor, 'run', `cannot start the Istio ${minor} oracle (${binary})`, { hint: 'Delete that file to have it rebuilt on next use.', cause: error });
  }
  if (r.code !== 0) {
    // istiod logs to stderr as well: the oracle's own lines, panics and fatal errors say what failed.
    const said = tailLines(r.stderr, 400).filter((l) => /oracle:|panic|fatal/i.test(l)).slice(-5);
    const lines = said.length ? said : tailLines(r.stderr, 5);
    throw new OracleError(minor, 'run', `the Istio ${minor} oracle failed (${r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`})${lines.length ? `: ${lines[0]}` : ''}`, {
      hint: [...lines.slice(1).map((l) => `  ${l}`), 'istiod rejected the input or crashed: check the manifests it was given (kubectl apply --dry-run=server on a cluster says more).'].join('\n'),
      cause: new Error(r.stderr),
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(r.stdout.toString('utf8'));
  } catch (error) {
    throw new OracleError(minor, 'output', `the Istio ${minor} oracle printed something that is not JSON`, { hint: 'Delete the oracle binary from the podpath cache to have it rebuilt.', cause: error });
  }
  if (!isOracleOutput(value)) throw new OracleError(minor, 'output', `the Istio ${minor} oracle printed JSON without a record and dumps`, { hint: 'Delete the oracle binary from the podpath cache to have it rebuilt.' });
  return value;
}
