import test from 'ava';
import { expectationFor, hiddenRows, scenario, validateScenario, type ExpectationRule, type PathExpectation } from './scenario.ts';

const probe = { name: 'manager → other manager pod IP:5701', from: 'manager', to: { pod: 'other-manager' }, port: 5701, protocol: 'tcp' } as const;
const passthrough: PathExpectation = { outcome: 'echoed', responder: 'target', client: { cluster: 'passthrough', name: 'PassthroughCluster', flags: [] } };
const captured: PathExpectation = { outcome: 'closed-after-connect', responder: 'nobody', client: { cluster: 'outbound', name: 'outbound|5701||app-ext.app.svc.cluster.local', flags: ['UF', 'URX'] } };
const ALIAS_OFF = { ENABLE_EXTERNAL_NAME_ALIAS: 'false' };

// The ExternalName collision, written with the general row first: on 1.21–1.23 the alias-off row
// is the one that should apply, but the general '>=1.21' row above it matches those beds first.
const misordered = scenario('externalname-collision-misordered', 'rows in the wrong order')
  .probe(probe)
  .expect('<=1.20', captured)
  .expect('>=1.21', passthrough)
  .expect('>=1.21 <1.24', { ...captured, pilotEnv: ALIAS_OFF })
  .build();

test('validateScenario reports a row that an earlier row hides, naming both', (t) => {
  t.deepEqual(validateScenario(misordered), [
    "expect: row 3 (>=1.21 <1.24 with ENABLE_EXTERNAL_NAME_ALIAS=false) is never used: row 2 before it already matches every target it matches (first match wins: put the more specific row first)",
  ]);
  // What the report means: on an alias-off 1.22 bed the runner really picks the general row.
  t.is(expectationFor(misordered, probe, { istio: '1.22.8', pilotEnv: ALIAS_OFF })?.outcome, 'echoed');
});

test('the same rows, specific first, are all reachable', (t) => {
  const ordered = scenario('externalname-collision', 'specific first')
    .probe(probe)
    .expect('>=1.21 <1.24', { ...captured, pilotEnv: ALIAS_OFF })
    .expect('<=1.20', captured)
    .expect('>=1.21', passthrough)
    .build();
  t.deepEqual(validateScenario(ordered), []);
  t.is(expectationFor(ordered, probe, { istio: '1.22.8', pilotEnv: ALIAS_OFF })?.outcome, 'closed-after-connect');
});

test('a probe\u2019s own rows are checked too', (t) => {
  const s = scenario('probe-rows', 'probe rows').probe({ ...probe, expect: [{ versions: '*', ...passthrough }, { versions: '1.30', ...captured }] }).expect('*', passthrough).build();
  t.deepEqual(validateScenario(s), [`probe ${probe.name}: expect: row 2 (1.30) is never used: row 1 before it already matches every target it matches (first match wins: put the more specific row first)`]);
});

const row = (versions: string, pilotEnv?: Record<string, string>): ExpectationRule => ({ versions, ...passthrough, ...(pilotEnv ? { pilotEnv } : {}) });

test('hidden: covered by the union of earlier ranges, across minor boundaries', (t) => {
  t.is(hiddenRows([row('<=1.20'), row('>=1.21 <1.24'), row('>=1.20.3 <1.22')]).length, 1);
  t.is(hiddenRows([row('<1.22'), row('>=1.22'), row('*')]).length, 1);
  t.is(hiddenRows([row('*'), row('<1.24')]).length, 1);
});

test('not hidden: a version the earlier rows leave out, or an earlier row needing env the later one does not', (t) => {
  t.deepEqual(hiddenRows([row('<1.22'), row('>=1.23'), row('*')]), [], '1.22.x reaches the last row');
  t.deepEqual(hiddenRows([row('<1.24'), row('*')]), []);
  t.deepEqual(hiddenRows([row('>=1.30'), row('>=1.24')]), []);
  t.deepEqual(hiddenRows([row('*', ALIAS_OFF), row('*')]), [], 'a bed without the env reaches row 2');
  t.deepEqual(hiddenRows([row('*', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }), row('*', ALIAS_OFF)]), [], 'other value');
  t.deepEqual(hiddenRows([row('1.22.3'), row('1.22.4')]), [], 'adjacent patches');
  t.deepEqual(hiddenRows([row('1.22.3'), row('1.22.6'), row('>=1.22.3 <=1.22.6')]), [], 'both ends are covered, 1.22.4 is not');
});
