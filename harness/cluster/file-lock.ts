/**
 * A lock file beside what it guards, for work that two podpath processes on one machine (or one
 * shared cache) must not do at once, such as downloading the same tool. Taken with O_CREAT|O_EXCL
 * (the way client-go and kind lock a kubeconfig: kubernetes-sigs/kind
 * pkg/cluster/internal/kubeconfig/internal/kubeconfig/lock.go), waited for with the shared
 * backoff, and taken over only when its holder is provably gone.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { EnvironmentError, InterruptedError } from '../errors/index.ts';
import { poll, PollTimeout, type BackoffSchedule } from '../kube/backoff.ts';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  token: string;
}

export interface FileLockOptions {
  /** How long to wait for another holder (default 15 minutes: a slow download). */
  waitMs?: number;
  /** A lock older than this is taken over even if its holder cannot be checked (default 30 minutes). */
  staleMs?: number;
  schedule?: BackoffSchedule;
  /** Is this process alive? (default: signal 0, where EPERM still means alive). */
  alive?: (pid: number) => boolean;
  /** Told once, when the lock is found held by a live holder and the wait begins. */
  onWait?: (holder: string) => void;
}

const WAIT_SCHEDULE: BackoffSchedule = { initialMs: 100, factor: 2, maxMs: 2000 };
/** A lock file with no owner yet is being written; only an old one is debris of a crash. */
const UNWRITTEN_GRACE_MS = 10_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') return { pid: value.pid, host: value.host, since: String(value.since ?? ''), token: value.token };
  } catch {
    // half-written or foreign: judged by age below
  }
  return null;
}

async function readOwner(path: string): Promise<{ owner: LockOwner | null; ageMs: number } | null> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { owner: parseOwner(text), ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function describeOwner(owner: LockOwner | null): string {
  return owner ? `process ${owner.pid} on ${owner.host} (since ${owner.since})` : 'a process that has not written its name yet';
}

/**
 * Runs `work` holding the lock file `path`. Waits while another live process holds it; a lock
 * whose holder died (same host, no such pid) or that is older than `staleMs` is moved aside.
 */
export async function withFileLock<T>(path: string, what: string, signal: AbortSignal | undefined, work: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const alive = options.alive ?? processAlive;
  const staleMs = options.staleMs ?? 30 * 60_000;
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  await mkdir(dirname(path), { recursive: true });
  let seen: LockOwner | null = null;
  let waiting = false;
  try {
    await poll<void>(async () => {
      try {
        const handle = await open(path, 'wx', 0o644);
        try {
          await handle.writeFile(JSON.stringify(me));
        } finally {
          await handle.close();
        }
        return { done: true, value: undefined };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readOwner(path);
      if (current === null) return { done: false, state: 'released just now' };
      seen = current.owner;
      const dead = current.owner ? current.owner.host === me.host && !alive(current.owner.pid) : current.ageMs > UNWRITTEN_GRACE_MS;
      if (dead || current.ageMs > staleMs) {
        await moveAside(path, current.owner);
        return { done: false, state: `took over a stale lock of ${describeOwner(current.owner)}` };
      }
      if (!waiting) options.onWait?.(describeOwner(current.owner));
      waiting = true;
      return { done: false, state: `held by ${describeOwner(current.owner)}` };
    }, { timeoutMs: options.waitMs ?? 15 * 60_000, schedule: options.schedule ?? WAIT_SCHEDULE, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof PollTimeout) {
      throw new EnvironmentError(`another podpath is still busy with ${what}: ${path} is held by ${describeOwner(seen)}`, {
        hint: `Wait for it to finish. If no podpath is running, delete ${path} and retry.`,
        cause: error,
      });
    }
    if (error instanceof InterruptedError || error instanceof EnvironmentError) throw error;
    throw new EnvironmentError(`cannot take the lock ${path} for ${what}`, { hint: 'Check that the podpath cache is writable (set XDG_CACHE_HOME to move it).', cause: error });
  }
  try {
    return await work();
  } finally {
    // Remove it only while it is still ours: a holder judged stale may have been replaced.
    const current = await readOwner(path).catch(() => null);
    if (current?.owner?.token === me.token) await rm(path, { force: true });
  }
}

/** Moves a stale lock out of the way; if what moved was not the stale one (someone just took it), it goes back. */
async function moveAside(path: string, stale: LockOwner | null): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const moved = parseOwner(await readFile(aside, 'utf8'));
    if (moved && stale && moved.token !== stale.token) await link(aside, path).catch(() => {});
  } finally {
    await rm(aside, { force: true });
  }
}
