/**
 * The generator with the real Go program: the newest buildable minor, run on two bed states that
 * differ only in istiod's env, must reproduce the committed goldens. Runs when `go` is on PATH and
 * the build is affordable: already in the podpath cache, or Go's build cache holds every Istio
 * package so only the oracle's main package compiles (seconds to a couple of minutes). Otherwise
 * the test is skipped and the reason printed: a cold build takes 10–40 minutes on 2 cores, which
 * .ci/run budgets for `npm run oracle -- --istio NEWEST --check`, not for npm test.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createOracleGenerator, ORACLE_SOURCE_ROOT, type OracleOutput } from '../harness/oracle/index.ts';
import { bedStates, clientPod, bedModel, clientWorkloads, oracleInput, type BedState } from './inputs.ts';
import { goldenMinors, readGolden } from './goldens.ts';
import { buildableMinors, oracleVersion } from './versions.ts';

const minor = buildableMinors().at(-1)!;
const version = oracleVersion(minor)!;
// The version the proxies announce: a minor pinned to a commit after a tag names that tag in `version`, beside a descriptive `release`.
const announced = (version as { version?: string }).version ?? version.release;
// dumpCache off: the point is to run istiod, not to read an earlier answer.
const generator = createOracleGenerator({ dumpCache: false });

/** Packages `go build` would compile, other than the oracle's own main package (go list's Stale). */
function coldPackages(): { cold: number; total: number } | { error: string } {
  const dir = path.join(ORACLE_SOURCE_ROOT, minor);
  const mainModule = /^module\s+(\S+)/m.exec(readFileSync(path.join(dir, 'go.mod'), 'utf8'))?.[1] ?? '';
  const r = spawnSync('go', ['list', '-mod=readonly', '-deps', '-f', '{{.Stale}} {{.ImportPath}}', '.'], { cwd: dir, env: { ...process.env, GOFLAGS: '' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return { error: `go list failed: ${(r.stderr || '').trim().split('\n').slice(-2).join(' ')}` };
  const rows = r.stdout.trim().split('\n').map((l) => l.split(' '));
  return { cold: rows.filter(([stale, pkg]) => stale === 'true' && pkg !== mainModule).length, total: rows.length };
}

async function skipReason(): Promise<string | null> {
  const a = await generator.availability(minor);
  if (a.state === 'ready') return null;
  if (a.state === 'unavailable') return a.reason;
  const cold = coldPackages();
  if ('error' in cold) return `cannot tell whether a build is affordable: ${cold.error}`;
  if (cold.cold > 0) return `Go's build cache lacks ${cold.cold} of ${cold.total} packages of Istio ${minor}: a cold build takes 10–40 minutes; run \`npm run oracle -- --istio ${minor} --check\` once (it fills the podpath cache)`;
  return null;
}

const reason = await skipReason();
if (reason) console.log(`real-oracle.test.ts: skipping the real istiod oracle test for Istio ${minor}: ${reason}`);

(reason ? test.skip : test)(`the real oracle for Istio ${minor} reproduces the goldens, and istiod's env reaches istiod`, async (t) => {
  t.timeout(30 * 60_000, 'a build with warm Go caches on a loaded 2-core machine');
  const progress: string[] = [];
  const clients = clientWorkloads();
  const generate = async (state: BedState, pilotEnv: Readonly<Record<string, string>>): Promise<Array<{ client: string; configs: unknown[] }>> => {
    const input = await oracleInput(state, announced, clients);
    const started = performance.now();
    const output = await generator.generate({ minor, input, pilotEnv, onProgress: (l) => progress.push(l) });
    t.log(`${state.id} ${JSON.stringify(pilotEnv)}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    t.is(output.record.istioModule, version.module!);
    t.is(output.record.inputsHash, input.inputsHash);
    const pods = (await bedModel(state.extras)).pods;
    return clients.map((w) => {
      const pod = clientPod(pods, w);
      const dump = output.dumps[`${pod.name}.${pod.namespace}`];
      if (!dump) throw new Error(`no dump for ${pod.name}.${pod.namespace}`);
      return { client: w, configs: dump.configs };
    });
  };

  // Two bed states, one of them made with istiod env: each must equal its committed golden.
  const states = bedStates().filter((s) => s.id === 'baseline' || s.id === 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false');
  t.is(states.length, 2);
  let baseline: Array<{ client: string; configs: unknown[] }> = [];
  for (const state of states) {
    const dumps = await generate(state, state.pilotEnv);
    if (state.id === 'baseline') baseline = dumps;
    for (const d of dumps) {
      const golden = goldenMinors().includes(minor) ? readGolden(minor, state.id, d.client) : null;
      if (golden) t.deepEqual(d.configs, golden.configs, `${minor}/${state.id}/${d.client} matches its golden`);
      else t.log(`no golden for ${minor}/${state.id}/${d.client}: generated, not compared`);
    }
  }

  // An env flag istiod reads at init (istio/istio pilot/pkg/features/xds.go, PILOT_SIDECAR_USE_REMOTE_ADDRESS) changes what it builds.
  const useRemote = /"use_remote_address":true/;
  t.notRegex(JSON.stringify(baseline.map((d) => d.configs)), useRemote);
  const flipped = await generate(states.find((s) => s.id === 'baseline')!, { PILOT_SIDECAR_USE_REMOTE_ADDRESS: 'true' });
  t.regex(JSON.stringify(flipped.map((d) => d.configs)), useRemote, 'the env reached istiod');
  for (const l of progress) t.log(l);
});
