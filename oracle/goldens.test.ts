/**
 * The committed golden dumps (real istiod code, per Istio minor) hold the repository to account:
 * they must be current with the manifests and scenarios, and `explain` on them must give what
 * each scenario row expects. No Go needed: the goldens are read as committed.
 */
import test from 'ava';
import { explain, loadConfigDump, type Explanation } from '../harness/envoy/index.ts';
import { chooseRow, extrasFor, rowsFor, skipReason, type ExpectationRule, type ProbeSpec, type Scenario, type TargetInfo } from '../harness/runner/scenario.ts';
import { defaultFeatures } from '../harness/runner/bed-features.ts';
import { externalNameCreatesListener } from '../harness/lint/index.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { APP_EXT, TCP_PORT } from '../manifests/topology.ts';
import { bedModel, bedStates, clientWorkloads, oracleInput, probeDestination, rowEnv, stateId } from './inputs.ts';
import { goldenMinors, listGoldens, readGolden, type GoldenDump } from './goldens.ts';
import { ORACLE_VERSIONS, oracleIstioVersion, oracleVersion } from './versions.ts';

const minors = goldenMinors();

test('every supported minor has goldens or says why it cannot be built', (t) => {
  for (const v of ORACLE_VERSIONS) {
    if (v.module && v.goldensPending === undefined) t.true(minors.includes(v.minor), `${v.minor} is buildable but has no goldens: run npm run oracle -- --istio ${v.minor}`);
    else if (v.module) t.false(minors.includes(v.minor), `${v.minor} has goldens now: drop goldensPending in oracle/versions.ts`);
    else t.truthy(v.unavailable, `${v.minor} has neither goldens nor a reason`);
  }
  for (const m of minors) t.truthy(oracleVersion(m)?.module, `goldens for ${m}, which versions.ts does not build`);
});

test('goldens are current: every bed state has one, and its input hash matches the manifests and scenarios', async (t) => {
  const states = bedStates();
  const clients = clientWorkloads();
  const existing = listGoldens();
  for (const minor of minors) {
    const version = oracleIstioVersion(oracleVersion(minor)!);
    for (const state of states) {
      const { inputsHash } = await oracleInput(state, version, clients);
      for (const client of clients) {
        const g = readGolden(minor, state.id, client);
        if (!g) {
          t.fail(`${minor}/${state.id}/${client}: missing; run npm run oracle -- --istio ${minor}`);
          continue;
        }
        t.is(g.podpath_oracle.inputsHash, inputsHash, `${minor}/${state.id}/${client} is stale (manifests or scenarios changed): run npm run oracle -- --istio ${minor}`);
        t.is(g.podpath_oracle.minor, minor);
      }
    }
    const wanted = new Set(states.map((s) => s.id));
    for (const g of existing.filter((e) => e.minor === minor)) t.true(wanted.has(g.state), `${minor}/${g.state}: no scenario uses this bed state any more`);
  }
});

/** Scenario cluster patterns: `*` matches any run of characters. */
function nameMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

export interface GoldenCheck {
  minor: string;
  scenario: string;
  probe: string;
  state: string;
  /** How the row was chosen: by the features istiod has with this env and Istio's defaults, or by version range (features not read). */
  by: 'features' | 'versions';
  row: ExpectationRule;
  explanation: Explanation;
}

/** Every (scenario, minor, bed env, probe) the goldens can answer, with the row the scenario expects there. */
async function checks(): Promise<GoldenCheck[]> {
  const out: GoldenCheck[] = [];
  for (const minor of minors) {
    const version = oracleIstioVersion(oracleVersion(minor)!);
    for (const s of SCENARIOS) {
      const extras = extrasFor(s);
      const pods = (await bedModel(extras)).pods;
      const envs = new Map<string, Record<string, string>>();
      for (const row of [undefined, ...s.expect, ...s.probes.flatMap((p) => p.expect ?? [])]) {
        const env = rowEnv(s, row?.pilotEnv);
        envs.set(stateId(extras, env), env);
      }
      for (const [state, env] of envs) {
        // The oracle's istiod runs with this env and nothing else set: its features are the version's defaults with that env.
        for (const target of [{ istio: version, pilotEnv: env, features: null }, { istio: version, pilotEnv: env, features: defaultFeatures(version, env) }] satisfies TargetInfo[]) {
          if (skipReason(s, target) !== null) continue;
          const golden = readGolden(minor, state, 'manager');
          for (const probe of s.probes) {
            const choice = chooseRow(rowsFor(s, probe), target);
            if (!choice) continue;
            const g = readGolden(minor, state, probe.from) ?? golden;
            if (!g) continue;
            const dst = probeDestination(pods, probe);
            if (!dst) continue;
            out.push({ minor, scenario: s.id, probe: probe.name, state, by: choice.by, row: choice.rule, explanation: explainProbe(g, probe, dst) });
          }
        }
      }
    }
  }
  return out;
}

function explainProbe(g: GoldenDump, probe: ProbeSpec, dst: string): Explanation {
  return explain(loadConfigDump(g), { dst, protocol: probe.protocol === 'http' ? 'http' : 'tcp', ...(probe.httpHost ? { host: probe.httpHost } : {}) });
}

test('explain on the istiod goldens gives each scenario row its client cluster and verdict', async (t) => {
  const all = minors.length ? await checks() : [];
  t.true(minors.length === 0 || all.length > 0, 'goldens exist but no scenario row was checked against them');
  t.true(minors.length === 0 || all.some((c) => c.by === 'features'), 'no feature row was checked against the goldens');
  // Every disagreement at once: one scenario row is usually wrong on several minors.
  const disagreements: string[] = [];
  for (const c of all) {
    const where = `${c.scenario} on ${c.minor} (${c.state}), ${c.probe}, row chosen by ${c.by}`;
    const got = `${c.explanation.verdict} via ${c.explanation.cluster?.name ?? '-'} (listener ${c.explanation.listener ?? '-'})`;
    if (c.row.client?.name !== undefined && !nameMatches(c.row.client.name, c.explanation.cluster?.name ?? '')) disagreements.push(`${where}: row expects client cluster ${c.row.client.name}; istiod's config gives ${got}`);
    if (c.row.explain !== undefined && c.explanation.verdict !== c.row.explain) disagreements.push(`${where}: row expects explain verdict ${c.row.explain}; istiod's config gives ${got}`);
  }
  t.deepEqual(disagreements, []);
});

test('lint\'s ExternalName table agrees with istiod for every minor it covers', (t) => {
  let checked = 0;
  for (const minor of minors) {
    const version = oracleIstioVersion(oracleVersion(minor)!);
    const envs: Array<Record<string, string>> = [{}, { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }];
    for (const env of envs) {
      const g = readGolden(minor, stateId(['app-ext-externalname'], env), 'manager');
      if (!g) continue;
      const dump = loadConfigDump(g);
      const listener = dump.listenersAt('0.0.0.0', TCP_PORT).length > 0;
      const lint = externalNameCreatesListener(version, env);
      t.is(lint, listener, `${minor} with ${JSON.stringify(env)}: lint says ${String(lint)}, istiod ${listener ? 'builds' : 'does not build'} 0.0.0.0_${TCP_PORT} for ${APP_EXT.name}`);
      checked++;
    }
  }
  t.true(minors.length === 0 || checked > 0, 'no ExternalName golden was checked');
});

test('the bed-feature defaults agree with istiod: the alias per version and env, and no auto-allocated address without DNS capture', (t) => {
  let checked = 0;
  for (const minor of minors) {
    const version = oracleIstioVersion(oracleVersion(minor)!);
    for (const env of [{}, { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }] as Array<Record<string, string>>) {
      const g = readGolden(minor, stateId(['app-ext-externalname'], env), 'manager');
      if (!g) continue;
      const features = defaultFeatures(version, env)!;
      const listener = loadConfigDump(g).listenersAt('0.0.0.0', TCP_PORT).length > 0;
      t.is(features.externalNameAlias, !listener, `${minor} with ${JSON.stringify(env)}: externalNameAlias=${features.externalNameAlias} (${features.source.externalNameAlias}), istiod ${listener ? 'builds' : 'does not build'} 0.0.0.0_${TCP_PORT}`);
      checked++;
    }
    // The serviceentry-dns-5701 rows key on DNS capture: by default sidecars do not capture DNS, so even where addresses are auto-allocated (1.25+) the wildcard listener stays.
    const se = readGolden(minor, stateId(['serviceentry-dns-5701'], {}), 'manager');
    if (se) {
      const features = defaultFeatures(version)!;
      t.false(features.dnsCapture && features.dnsAutoAllocate, `${minor}: defaults would use an auto-allocated address`);
      t.true(loadConfigDump(se).listenersAt('0.0.0.0', TCP_PORT).length > 0, `${minor}: istiod builds 0.0.0.0_${TCP_PORT} for the ServiceEntry with Istio's defaults`);
      checked++;
    }
  }
  t.true(minors.length === 0 || checked > 0, 'no golden was checked');
});

test('npm run oracle refuses a named minor it cannot build (exit 2, the reason), instead of passing having checked nothing', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const unavailable = ORACLE_VERSIONS.find((v) => !v.module);
  if (!unavailable) return t.pass('every minor is buildable');
  const run = spawnSync(process.execPath, [new URL('./run.ts', import.meta.url).pathname, '--istio', unavailable.minor, '--check'], { encoding: 'utf8' });
  t.is(run.status, 2, run.stdout + run.stderr);
  t.regex(run.stderr, new RegExp(`cannot build Istio ${unavailable.minor.replace('.', '\\.')} here`));
  t.regex(run.stderr, /buildable: 1\.20/);
});
