/** The loopback-alias gate: run where the addresses exist, skip with the reason where they do not. */
import test, { type TestFn } from 'ava';
import { loopbackUnavailable, skippedBecause } from './loopback.ts';

test('127.0.0.1 is always there; an address of no local interface is not, and the reason says how to add it', async (t) => {
  t.is(await loopbackUnavailable(['127.0.0.1']), null);
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never configured here, and binding it sends nothing.
  const missing = await loopbackUnavailable(['127.0.0.1', '192.0.2.1']);
  t.is(missing?.address, '192.0.2.1');
  t.regex(missing?.reason ?? '', /^192\.0\.2\.1 is not a local address here \(EADDRNOTAVAIL\).*ifconfig lo0 alias 192\.0\.2\.1 up/);
});

/** A recorder shaped like ava's test function: what was registered, as what. */
function recorder(): { fn: TestFn<unknown>; calls: string[] } {
  const calls: string[] = [];
  const register = (kind: string) => (title: unknown) => { calls.push(`${kind}: ${String(title)}`); };
  const fn = Object.assign(register('run'), {
    skip: register('skip'),
    serial: Object.assign(register('serial'), { skip: register('serial.skip') }),
    before: register('before'),
    after: Object.assign(register('after'), { always: register('after.always') }),
  });
  return { fn: fn as unknown as TestFn<unknown>, calls };
}

test('with the addresses there, the test function is ava\'s own', (t) => {
  const { fn } = recorder();
  t.is(skippedBecause(fn, null), fn);
});

test('without them, every test (serial too) is registered as skipped with the reason, and hooks never run', (t) => {
  const { fn, calls } = recorder();
  const gated = skippedBecause(fn, 'no 127.0.21.1');
  gated('probes a pod', () => {});
  gated.serial('probes serially', () => {});
  gated.before(() => { calls.push('hook ran'); });
  gated.after.always(() => { calls.push('hook ran'); });
  t.deepEqual(calls, ['skip: probes a pod [skipped: no 127.0.21.1]', 'skip: probes serially [skipped: no 127.0.21.1]']);
});
