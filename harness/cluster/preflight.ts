/**
 * Before anything is downloaded or created: the right OS/arch, a Docker daemon that answers,
 * and enough disk. Each failure is an EnvironmentError naming what to install or free.
 */
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError, InterruptedError, PodpathError } from '../errors/index.ts';
import type { Exec, Plan } from '../exec/index.ts';
import { platformTarget, type Target } from './assets.ts';

const GiB = 1024 ** 3;

export interface PreflightOptions {
  exec: Exec;
  platform?: string;
  arch?: string;
  /** Cache directory (tools are written there). */
  cacheDir: string;
  signal?: AbortSignal;
  plan?: Plan | null;
  /** Free bytes at a path, or null when it cannot be read (e.g. Docker Desktop's VM). */
  freeBytes?: (path: string) => Promise<number | null>;
  /** Whether a path exists on this host (Docker Desktop's root dir lives in its VM, not here). */
  exists?: (path: string) => Promise<boolean>;
  minCacheBytes?: number;
  minDockerBytes?: number;
}

export interface PreflightResult {
  target: Target;
  dockerVersion: string;
  /** The daemon's platform as `docker pull --platform` spells it (linux/arm64), or null if docker info did not say. */
  dockerPlatform: string | null;
  notes: string[];
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    // Only "no such file" means absent; EACCES on /var/lib/docker still means it is on this host.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}

const ARCH_NAMES: Readonly<Record<string, string>> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' };

/** docker info's OSType/Architecture (uname spelling, e.g. linux/x86_64) → OCI platform (linux/amd64). */
export function dockerPlatformOf(osType: string, architecture: string): string | null {
  const arch = ARCH_NAMES[architecture.trim()];
  const os = osType.trim();
  return arch && os ? `${os}/${arch}` : null;
}

export async function freeBytesAt(path: string): Promise<number | null> {
  // The cache may not exist yet: measure the nearest existing ancestor.
  let current = path;
  for (;;) {
    try {
      const info = await statfs(current);
      return Number(info.bavail) * Number(info.bsize);
    } catch {
      const parent = dirname(current);
      if (parent === current) return null;
      current = parent;
    }
  }
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/**
 * `docker info` answers, or an EnvironmentError that says Docker is missing or its daemon is not
 * running. Returns docker info's one line (see the --format below).
 */
export async function checkDocker(options: { exec: Exec; signal?: AbortSignal; command?: string }): Promise<string> {
  const command = options.command ?? 'podpath';
  try {
    const { stdout } = await options.exec.run('docker', ['info', '--format', '{{.ServerVersion}}|{{.DockerRootDir}}|{{.OSType}}|{{.Architecture}}'], { signal: options.signal, timeoutMs: 20_000 });
    return stdout;
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    if (error instanceof EnvironmentError && /command not found/.test(error.shortMessage)) {
      throw new EnvironmentError(`Docker is not installed (${command} works on kind clusters, which run in Docker)`, {
        hint: `Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, then run ${command} again.`,
        cause: error,
      });
    }
    const detail = error instanceof PodpathError ? error.shortMessage.split('\n').slice(-1)[0] : String(error);
    throw new EnvironmentError('the Docker daemon is not running or not reachable (docker info failed)', {
      hint: `Start Docker (e.g. 'sudo systemctl start docker' or open Docker Desktop) and check 'docker info' works for this user. docker said: ${detail}`,
      cause: error,
    });
  }
}

export async function preflight(options: PreflightOptions): Promise<PreflightResult> {
  const target = platformTarget(options.platform ?? process.platform, options.arch ?? process.arch);
  const notes: string[] = [];
  const stdout = await checkDocker({ exec: options.exec, signal: options.signal, command: 'podpath up' });
  const [dockerVersion = '', dockerRoot = '', osType = '', architecture = ''] = stdout.trim().split('|');
  const dockerPlatform = dockerPlatformOf(osType, architecture);
  if (options.plan) {
    options.plan.add('note', `check free disk: ${gib(options.minCacheBytes ?? GiB)} at ${options.cacheDir}, ${gib(options.minDockerBytes ?? 6 * GiB)} for Docker`);
    return { target, dockerVersion, dockerPlatform, notes };
  }
  const free = options.freeBytes ?? freeBytesAt;
  const minCache = options.minCacheBytes ?? GiB;
  const cacheFree = await free(options.cacheDir);
  if (cacheFree !== null && cacheFree < minCache) {
    throw new EnvironmentError(`not enough disk for the tool cache: ${gib(cacheFree)} free at ${options.cacheDir}, podpath needs ${gib(minCache)}`, {
      hint: 'Free some space, or set XDG_CACHE_HOME to a disk with room.',
    });
  }
  const minDocker = options.minDockerBytes ?? 6 * GiB;
  // Docker Desktop's root lives inside its VM: measuring the nearest host ancestor would measure the wrong disk.
  const rootOnHost = dockerRoot !== '' && (await (options.exists ?? pathExists)(dockerRoot));
  const dockerFree = rootOnHost ? await free(dockerRoot) : null;
  if (dockerRoot && !rootOnHost) {
    notes.push(`did not check free disk for Docker: its root ${dockerRoot} is not on this host (Docker Desktop or a remote daemon keeps it in its VM); kind node and Istio images need about ${gib(minDocker)} there`);
  } else if (dockerFree === null) {
    notes.push(`could not measure free disk for Docker${dockerRoot ? ` at ${dockerRoot}` : ''}; kind node and Istio images need about ${gib(minDocker)}`);
  } else if (dockerFree < minDocker) {
    throw new EnvironmentError(`not enough disk for Docker: ${gib(dockerFree)} free at ${dockerRoot}, a kind cluster with Istio needs about ${gib(minDocker)}`, {
      hint: "Free space (e.g. 'docker system prune') and run podpath up again.",
    });
  }
  return { target, dockerVersion, dockerPlatform, notes };
}
