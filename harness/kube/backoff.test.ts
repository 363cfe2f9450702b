import test from 'ava';
import { DEFAULT_BACKOFF, PollTimeout, delayFor, poll } from './backoff.ts';
import { InterruptedError } from '../errors/index.ts';

test('delayFor: doubles from the initial delay and stops at the cap', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => delayFor(DEFAULT_BACKOFF, n)), [100, 200, 400, 800, 1600, 2000, 2000]);
});

test('poll: returns the value of the first successful attempt', async (t) => {
  let n = 0;
  const value = await poll(async () => (++n === 3 ? { done: true, value: 'ready' } : { done: false, state: `attempt ${n}` }), { timeoutMs: 5000, schedule: { initialMs: 1, factor: 2, maxMs: 4 } });
  t.is(value, 'ready');
  t.is(n, 3);
});

test('poll: the timeout carries the last state and the attempt count, and never waits past the deadline', async (t) => {
  // A virtual clock: real timers may fire a millisecond early on a loaded machine and add an attempt.
  let clock = 0;
  const waits: number[] = [];
  let n = 0;
  const error = await t.throwsAsync(
    () =>
      poll(async () => ({ done: false, state: `still waiting (${++n})` }), {
        timeoutMs: 120,
        schedule: { initialMs: 50, factor: 10, maxMs: 10_000 },
        now: () => clock,
        pause: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      }),
    { instanceOf: PollTimeout },
  );
  // Attempts at 0 and 50 ms; the next delay (500 ms) is cut to the 70 ms left; one last attempt at the deadline.
  t.deepEqual(waits, [50, 70]);
  t.is(n, 3);
  t.is(error?.attempts, 3);
  t.is(error?.lastState, 'still waiting (3)');
});

test('poll: with real timers the deadline still bounds the wait', async (t) => {
  const started = Date.now();
  // The second step would be 50 s: a busy machine can slow the 120 ms by seconds, never by that much.
  await t.throwsAsync(() => poll(async () => ({ done: false, state: 'no' }), { timeoutMs: 120, schedule: { initialMs: 50, factor: 1000, maxMs: 100_000 } }), { instanceOf: PollTimeout });
  t.true(Date.now() - started < 25_000, 'did not sleep the 50 s step');
});

test('poll: an abort ends the wait at once as InterruptedError; an attempt that throws ends it too', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const started = Date.now();
  await t.throwsAsync(() => poll(async () => ({ done: false, state: 'x' }), { timeoutMs: 120_000, schedule: { initialMs: 60_000, factor: 1, maxMs: 60_000 }, signal: controller.signal }), { instanceOf: InterruptedError });
  t.true(Date.now() - started < 30_000, 'did not sleep the 60 s step');
  await t.throwsAsync(() => poll(async () => { throw new Error('boom'); }, { timeoutMs: 1000 }), { message: 'boom' });
});
