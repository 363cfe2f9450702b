import test from 'ava';
import { newRunId, isRunId } from './run-id.ts';

test('run ids are UTC, filesystem-safe and carry the millisecond', (t) => {
  const id = newRunId(new Date('2026-11-23T10:15:00.123Z'), () => Buffer.from([0x3f, 0x9a]));
  t.is(id, '20261123T101500.123Z-3f9a');
  t.true(isRunId(id));
  t.regex(id, /^[A-Za-z0-9.-]+$/);
});

test('two runs in the same millisecond still get different ids', (t) => {
  const now = new Date('2026-11-23T10:15:00.000Z');
  const ids = new Set(Array.from({ length: 50 }, () => newRunId(now)));
  // 16 random bits: 50 draws collide with probability ~2%; allow one collision, never a constant.
  t.true(ids.size >= 49);
});

test('ids sort in time order as plain strings', (t) => {
  const times = ['2026-11-23T10:15:00.999Z', '2026-11-23T10:15:01.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'];
  const ids = times.map((iso) => newRunId(new Date(iso), () => Buffer.from([0xff, 0xff])));
  const shuffled = [ids[2], ids[0], ids[3], ids[1]];
  t.deepEqual(shuffled.sort(), ids);
});

test('an invalid date is refused', (t) => {
  t.throws(() => newRunId(new Date('nope')), { instanceOf: RangeError });
});
