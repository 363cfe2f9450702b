/**
 * The runner's own overhead per scenario against the loopback test double (target: <= 50 ms
 * beyond the probes' own time). Each run is a real runAttempt: apply extras, wait for the push
 * and the expected prediction (config dump + explain, 3 consecutive matches), probe through the
 * real agents, read and correlate both sidecars' logs, evaluate, clean up and converge back.
 * overhead = timings.total - timings.probe (the probe phase is the agents' own connections);
 * ratio = mean overhead / 50 ms, target <= 1. The double answers config dumps instantly and polls
 * every 5 ms, so its waits count against podpath here: the measure errs on the pessimistic side.
 * Runs = 30 x BENCH_SCALE per scenario (default 1), over three seed scenarios (with and without extras).
 */
import { printRatio } from './lib.ts';
import { DEFAULT_PIPELINE, runAttempt, type PipelineOptions } from '../harness/runner/index.ts';
import { LoopbackMesh } from '../harness/runner/testing/loopback-mesh.ts';
import { SCENARIOS } from '../scenarios/index.ts';

const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const RUNS = Math.max(3, Math.round(30 * scale));
const BUDGET_MS = 50;

const ids = ['tcp-pod-ip-baseline', 'externalname-5701-collision-alias-off', 'fix-sidecar-egress'];
const mesh = await LoopbackMesh.start({ block: 28, istio: '1.22.8', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } });
const options: PipelineOptions = { ...DEFAULT_PIPELINE, probeMarginMs: 1000, keepOnFailure: false };
let total = 0;
let probes = 0;
let runs = 0;
const perScenario: string[] = [];
try {
  for (const id of ids) {
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    // Single-connection probes: the point is the runner around them, not the agents.
    const one = { ...scenario, probes: scenario.probes.slice(0, 1).map((p) => ({ ...p, count: 1 })) };
    await runAttempt(mesh, one, 0, options); // warm-up (JIT, first sockets)
    let t = 0;
    let p = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await runAttempt(mesh, one, i + 1, options);
      if (r.status !== 'passed') throw new Error(`${id} did not pass on the double: ${r.error ?? JSON.stringify(r.probes.map((x) => x.mismatches))}`);
      t += r.timings.total;
      p += r.timings.probe ?? 0;
    }
    total += t;
    probes += p;
    runs += RUNS;
    perScenario.push(`${id} ${((t - p) / RUNS).toFixed(1)} ms`);
  }
} finally {
  await mesh.close();
}
const overhead = (total - probes) / runs;
printRatio({
  name: 'runner overhead per scenario beyond the probes (loopback double)',
  measured: `${runs} scenario runs: mean ${(total / runs).toFixed(1)} ms total, ${(probes / runs).toFixed(1)} ms probing, ${overhead.toFixed(1)} ms runner (${perScenario.join('; ')})`,
  reference: `${BUDGET_MS} ms budget per scenario beyond probe time; ratio = mean (total - probe) / ${BUDGET_MS} ms`,
  ratio: overhead / BUDGET_MS,
  target: { max: 1 },
});
