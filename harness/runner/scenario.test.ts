import test from 'ava';
import { chooseRow, expectationFor, hiddenRows, rowChoiceNote, scenario, validateScenario, type ExpectationRule, type PathExpectation } from './scenario.ts';
import { defaultFeatures } from './bed-features.ts';

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

const feat = (when: ExpectationRule['when'], versions = '*'): ExpectationRule => ({ versions, ...captured, when });

test('feature rows: hidden by an earlier row whose features they imply (a version row names none); version rows only by version rows', (t) => {
  t.is(hiddenRows([feat({ externalNameAlias: false }), feat({ externalNameAlias: false, dnsCapture: false })]).length, 1, 'more features, same value: hidden');
  t.is(hiddenRows([row('*'), feat({ externalNameAlias: false })]).length, 1, 'a version row matches every bed: the feature row after it is dead');
  t.regex(hiddenRows([row('>=1.8'), feat({ externalNameAlias: true }, '>=1.20')])[0] ?? '', /row 2 \(externalNameAlias=true on >=1\.20\) is never used: row 1/);
  t.deepEqual(hiddenRows([feat({ externalNameAlias: false, dnsCapture: false }), feat({ externalNameAlias: false })]), [], 'fewer features: reached where dnsCapture is on');
  t.deepEqual(hiddenRows([feat({ externalNameAlias: false }), feat({ externalNameAlias: true })]), [], 'other value');
  t.deepEqual(hiddenRows([feat({ externalNameAlias: false }), feat({ externalNameAlias: true }), row('*')]), [], 'the version row is the fallback for beds whose features were not read');
  t.deepEqual(hiddenRows([feat({ externalNameAlias: false }, '<1.24'), feat({ externalNameAlias: false }, '>=1.24')]), [], 'other versions');
});

test('validateScenario checks feature rows: known names, values they take, no pilotEnv beside them, and hidden ones', (t) => {
  const s = scenario('feature-rows', 'feature rows').probe(probe)
    .when({ externalNameAlias: false }, captured)
    .when({ externalNameAlias: false, dnsCapture: true }, passthrough)
    .expect('*', passthrough)
    .build();
  t.deepEqual(validateScenario(s), ['expect: row 2 (externalNameAlias=false, dnsCapture=true) is never used: row 1 before it already matches every target it matches (first match wins: put the more specific row first)']);
  const bad = scenario('bad-feature-rows', 'bad').probe(probe).expect('*', passthrough).build();
  bad.expect.unshift(
    { versions: '*', ...captured, when: { outboundTrafficPolicy: 'DENY' as never } },
    { versions: '*', ...captured, when: { aliasFlag: true } as never },
    { versions: '*', ...captured, when: { externalNameAlias: false }, pilotEnv: ALIAS_OFF },
    { versions: '*', ...captured, when: {} },
  );
  const problems = validateScenario(bad);
  t.true(problems.some((p) => /feature outboundTrafficPolicy: "DENY" is not a value it takes/.test(p)), problems.join('\n'));
  t.true(problems.some((p) => /feature 'aliasFlag' is not one of externalNameAlias/.test(p)));
  t.true(problems.some((p) => /also sets pilotEnv: key it on the feature alone/.test(p)));
  t.true(problems.some((p) => /names no feature: use a version row/.test(p)));
});

test('chooseRow: feature rows first where the features were read, skipped where not; the note says which chose', (t) => {
  const rows = [feat({ externalNameAlias: false }), { ...feat({ externalNameAlias: true }), ...passthrough }, row('<=1.20'), { ...row('>=1.21'), ...passthrough }];
  const read = defaultFeatures('1.20.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' });
  const withFeatures = { istio: '1.20.8', pilotEnv: {}, features: read };
  t.like(chooseRow(rows, withFeatures), { row: 2, by: 'features' });
  t.regex(rowChoiceNote(rows, chooseRow(rows, withFeatures), withFeatures) ?? '', /^row 2 \(externalNameAlias=true\) chosen by the bed's features: externalNameAlias=true \(istiod\)/);
  const unread = { istio: '1.20.8', pilotEnv: {}, features: null };
  t.like(chooseRow(rows, unread), { row: 3, by: 'versions' });
  t.regex(rowChoiceNote(rows, chooseRow(rows, unread), unread) ?? '', /features were not read: row 3 \(<=1\.20\) chosen by Istio version 1\.20\.8 as a fallback/);
  t.like(chooseRow(rows, { istio: '1.20.8', pilotEnv: {} }), { row: 3 }, 'features absent (an older caller) is the same as not read');
  const versionOnly = [row('*')];
  t.is(rowChoiceNote(versionOnly, chooseRow(versionOnly, withFeatures), withFeatures), null, 'nothing to explain without feature rows');
  const featureMiss = [feat({ dnsCapture: true }), row('*')];
  t.regex(rowChoiceNote(featureMiss, chooseRow(featureMiss, withFeatures), withFeatures) ?? '', /^no feature row matches the bed .*: row 2 \(\*\) chosen by Istio version 1\.20\.8/);
  t.is(chooseRow([feat({ externalNameAlias: true }, '>=1.21')], withFeatures), null, 'a feature row\'s version range must hold too');
});

test('the row note names only the features the table keys on', (t) => {
  const rows = [feat({ externalNameAlias: true }), row('*')];
  const target = { istio: '1.22.8', pilotEnv: {}, features: defaultFeatures('1.22.8') };
  t.is(rowChoiceNote(rows, chooseRow(rows, target), target), "row 1 (externalNameAlias=true) chosen by the bed's features: externalNameAlias=true (default for Istio 1.22)");
});
