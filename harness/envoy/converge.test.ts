import test from 'ava';
import { convergedOn } from './index.ts';
import { FQDN, healthySidecar, seedBrokenSidecar } from './testing/istio.ts';

const EXT = `outbound|5701||${FQDN.appExt}`;

test('convergedOn: waits until the catch-all listener and its cluster appear', (t) => {
  const predicate = convergedOn({ listeners: ['0.0.0.0_5701'], clusters: [EXT] });
  const before = predicate(healthySidecar().build());
  t.false(before.ok);
  t.is(before.state, `waiting: listener 0.0.0.0_5701 absent; cluster ${EXT} absent`);
  const after = predicate(seedBrokenSidecar().build());
  t.true(after.ok);
  t.is(after.state, `listener 0.0.0.0_5701 present; cluster ${EXT} present`);
});

test('convergedOn: waits until a fix removes the listener', (t) => {
  const predicate = convergedOn({ absentListeners: ['0.0.0.0_5701'] });
  t.false(predicate(seedBrokenSidecar().build()).ok);
  t.true(predicate(healthySidecar().build()).ok);
});

test('convergedOn: something that is not a dump is "not yet", with the reason', (t) => {
  const r = convergedOn({ listeners: ['x'] })({ error: 'upstream connect error' });
  t.false(r.ok);
  t.regex(r.state, /not an Envoy config dump/);
});
