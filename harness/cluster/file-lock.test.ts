import test from 'ava';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from './file-lock.ts';
import { EnvironmentError } from '../errors/index.ts';

const FAST = { initialMs: 5, factor: 2, maxMs: 20 };

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the lock file exists while the work runs and is gone after, also when the work throws', async (t) => {
  const dir = await scratch(t);
  const lock = join(dir, 'tool.lock');
  const inside = await withFileLock(lock, 'test', undefined, async () => readdir(dir));
  t.deepEqual(inside, ['tool.lock']);
  await t.throwsAsync(withFileLock(lock, 'test', undefined, async () => {
    throw new Error('boom');
  }), { message: 'boom' });
  t.deepEqual(await readdir(dir), []);
});

test('a lock whose holder died on this host is taken over', async (t) => {
  const dir = await scratch(t);
  const lock = join(dir, 'tool.lock');
  await writeFile(lock, JSON.stringify({ pid: 4242, host: hostname(), since: '2026-12-01T00:00:00Z', token: 'dead' }));
  const ran = await withFileLock(lock, 'test', undefined, async () => 'ran', { alive: (pid) => pid !== 4242, schedule: FAST });
  t.is(ran, 'ran');
  t.deepEqual(await readdir(dir), [], 'no stale copy is left beside it');
});

test('a live holder is waited for, and after waitMs the error names it and how to clear it', async (t) => {
  const dir = await scratch(t);
  const lock = join(dir, 'tool.lock');
  await writeFile(lock, JSON.stringify({ pid: 777, host: hostname(), since: '2026-12-01T00:00:00Z', token: 'live' }));
  const told: string[] = [];
  const error = await t.throwsAsync(withFileLock(lock, 'downloading kind v0.32.0', undefined, async () => t.fail('must not run'), {
    alive: () => true, waitMs: 100, schedule: FAST, onWait: (holder) => told.push(holder),
  }), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /still busy with downloading kind v0\.32\.0: \S+tool\.lock is held by process 777 on /);
  t.regex(error.hint ?? '', /If no podpath is running, delete \S+tool\.lock/);
  t.is(told.length, 1, 'told once that it waits');
  t.deepEqual(await readdir(dir), ['tool.lock'], 'another holder\'s lock is never removed');
});

test('a lock from another host is taken over only once it is older than staleMs', async (t) => {
  const dir = await scratch(t);
  const lock = join(dir, 'tool.lock');
  await writeFile(lock, JSON.stringify({ pid: 1, host: 'elsewhere', since: '2026-12-01T00:00:00Z', token: 'far' }));
  await t.throwsAsync(withFileLock(lock, 'test', undefined, async () => 'ran', { waitMs: 50, schedule: FAST, staleMs: 60 * 60_000 }), { instanceOf: EnvironmentError });
  const old = new Date(Date.now() - 2 * 60 * 60_000);
  await utimes(lock, old, old);
  t.is(await withFileLock(lock, 'test', undefined, async () => 'ran', { waitMs: 50, schedule: FAST, staleMs: 60 * 60_000 }), 'ran');
});

test('Ctrl-C while waiting stops the wait', async (t) => {
  const dir = await scratch(t);
  const lock = join(dir, 'tool.lock');
  await writeFile(lock, JSON.stringify({ pid: 777, host: hostname(), since: '', token: 'live' }));
  const controller = new AbortController();
  const waiting = withFileLock(lock, 'test', controller.signal, async () => 'ran', { alive: () => true, schedule: FAST, onWait: () => controller.abort() });
  await t.throwsAsync(waiting, { message: /interrupted/ });
});
