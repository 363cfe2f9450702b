/**
 * `podpath predict` over 11 Istio minors with every version's dump already generated (served
 * through the generation seam from the dump cache on disk: read and parse, no istiod) vs 11
 * `podpath explain` calls on the same dump files. Both run in-process through the CLI layer
 * (argument parsing, file reading, rendering), so start-up cost is not what is compared.
 * The 11 dumps are the committed goldens of the seed state (4 minors), reused in turn for the
 * minors without one: the same bytes explain reads. Target: predict <= 2x the 11 explain calls.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { printRatio } from './lib.ts';
import { runCommand } from '../harness/cli/main.ts';
import { makePredictCommand } from '../harness/cli/commands/predict.ts';
import { explainCommand } from '../harness/cli/commands/explain.ts';
import { captureIo } from '../harness/testing/capture-io.ts';
import type { DumpGenerator } from '../harness/oracle/types.ts';
import { goldenMinors, readGolden } from '../oracle/goldens.ts';
import { meshConfigYaml } from '../oracle/inputs.ts';
import { ORACLE_VERSIONS } from '../oracle/versions.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? '15');
const STATE = 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false';
const DST = '10.244.0.12:5701';
const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const dir = join(here, '.data', `predict-${process.pid}`);
mkdirSync(dir, { recursive: true });

try {
  const minors = ORACLE_VERSIONS.map((v) => v.minor);
  const goldens = goldenMinors().map((m) => readGolden(m, STATE, 'manager')!);
  const files = new Map<string, string>();
  minors.forEach((minor, i) => {
    const file = join(dir, `${minor}.json`);
    writeFileSync(file, JSON.stringify({ configs: goldens[i % goldens.length].configs }));
    files.set(minor, file);
  });
  const mesh = join(dir, 'mesh.yaml');
  writeFileSync(mesh, meshConfigYaml());
  const bytes = [...files.values()].reduce((n, f) => n + readFileSync(f).length, 0);

  // The seam, answering every minor from the dump cache: what predict costs once versions are built.
  const cached: DumpGenerator = {
    availability: async () => ({ state: 'ready' }),
    generate: async (request) => {
      const { configs } = JSON.parse(await readFile(files.get(request.minor)!, 'utf8')) as { configs: unknown[] };
      const p = request.input.proxies[0];
      return { record: { istioModule: 'bench', istioCommit: 'bench', goVersion: 'bench', inputsHash: request.input.inputsHash }, dumps: { [`${p.pod}.${p.namespace}`]: { configs } } };
    },
  };
  const predict = makePredictCommand({ generator: () => cached });
  const predictArgs = ['-f', join(root, 'manifests/base'), '-f', join(root, 'manifests/extras/app-ext-externalname.yaml'), '--istio', `${minors[0]}..${minors.at(-1)}`,
    '--from', 'manager/manager', '--dst', DST, '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--mesh-config', mesh];

  async function runPredict(extra: string[] = []): Promise<number> {
    const io = captureIo();
    const start = performance.now();
    const code = await runCommand(predict, [...predictArgs, ...extra], io.io);
    const ms = performance.now() - start;
    if (code !== 0 && !(extra.includes('--changes') && code === 1)) throw new Error(`predict exited ${code}: ${io.stderr}`);
    if (!io.stdout.includes('1.30')) throw new Error('predict printed no 1.30 row');
    return ms;
  }
  async function runExplains(): Promise<number> {
    const start = performance.now();
    for (const file of files.values()) {
      const io = captureIo();
      const code = await runCommand(explainCommand, ['--config-dump', file, '--dst', DST], io.io);
      if (code !== 0) throw new Error(`explain exited ${code}: ${io.stderr}`);
    }
    return performance.now() - start;
  }

  // Warm up both (module graphs, JIT), then take turns within each round and compare medians.
  for (let i = 0; i < 3; i++) {
    await runPredict();
    await runExplains();
  }
  const p: number[] = [];
  const c: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    e.push(await runExplains());
    p.push(await runPredict());
    c.push(await runPredict(['--changes']));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [pm, cm, em] = [median(p), median(c), median(e)];
  const reference = `11 x podpath explain on the same dumps (${(bytes / 1e6).toFixed(1)} MB in all): median ${em.toFixed(1)} ms over ${RUNS} rounds`;
  printRatio({ name: 'predict over 11 versions (dumps cached) vs 11 explain calls', measured: `median ${pm.toFixed(1)} ms`, reference, ratio: pm / em, target: { max: 2 } });
  printRatio({ name: 'predict --changes over 11 versions (dumps cached) vs 11 explain calls', measured: `median ${cm.toFixed(1)} ms`, reference, ratio: cm / em, target: { max: 2 } });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
