/**
 * podpath logs --json on mixed input, all measured in this run:
 * every Istio TEXT era (1.6, 1.8, 1.9, 1.23) crossed with every prefix style (none, kubectl
 * --timestamps, kubectl --prefix with and without --timestamps, stern with and without namespace,
 * stern with ANSI colours), interleaved in one generated file of N = 400,000 x BENCH_SCALE lines.
 * Rows, each single-threaded (PODPATH_LOGS_WORKERS=0) and with the default workers:
 *  - vs a bare Node loop that only JSON.parse's the same entries as Istio JSON lines (target >= 1.0x)
 *  - vs `jq -c .` over that JSON file (target >= 5x; skipped with a reason when jq is absent)
 * The explain dump case (5,000 listeners x 10 filter chains, 20,000 clusters) is explain.bench.ts.
 * Inputs are generated once into bench/.data/. Each contender's time is its best of BENCH_REPEAT
 * (default 3) rounds, the contenders taking turns within a round.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { podpathEntry, printRatio } from './lib.ts';
import { BARE_JSON_LOOP, ERAS, generateLogs, type Random } from './access-log-data.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'bench', '.data');
const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const N = Math.max(1000, Math.round(400_000 * scale));

const PODS = ['manager-7948dffbdd-p44xx', 'app-5c6d7f8b9-k2v7q', 'sleep-7f9c8d6b5-x2x4q'];
// kubectl logs [--timestamps] [--prefix] and stern's default, namespaced and coloured templates.
function prefix(line: string, { rand, pick }: Random): string {
  const pod = pick(PODS);
  switch (rand(7)) {
    case 0: return line;
    case 1: return `2026-11-23T10:00:00.123456789Z ${line}`;
    case 2: return `[pod/${pod}/istio-proxy] ${line}`;
    case 3: return `[pod/${pod}/istio-proxy] 2026-11-23T10:00:00.123456789Z ${line}`;
    case 4: return `${pod} istio-proxy ${line}`;
    case 5: return `default ${pod} istio-proxy ${line}`;
    default: return `\x1b[32m${pod}\x1b[0m \x1b[34mistio-proxy\x1b[0m ${line}`;
  }
}

const generate = (count: number) => generateLogs({
  dataDir, name: 'logs-mixed', count, seed: 0x2545f491,
  era: (_i, r) => r.pick(ERAS),
  prefix: (_i, line, r) => prefix(line, r),
});

/** Runs a command with stdout to /dev/null and returns its wall time. */
async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; code: number | null; stderr: string }> {
  const start = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { ms: performance.now() - start, code, stderr };
}

const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? '3'));

interface Contender { label: string; argv: string[]; env?: NodeJS.ProcessEnv; ms: number }
/**
 * Best of REPEAT rounds, each round running every contender once in turn: the machine is shared and
 * its load drifts over minutes, so podpath and its references take turns instead of each getting a
 * run of several minutes of its own. Noise only ever makes a run slower.
 */
async function rounds(contenders: Contender[]): Promise<void> {
  for (let i = 0; i < REPEAT; i++) {
    for (const c of contenders) {
      const r = await run(c.argv, c.env);
      if (r.code !== 0) throw new Error(`${c.label} exited ${r.code}: ${r.stderr}`);
      c.ms = Math.min(c.ms, r.ms);
    }
  }
}

const node = process.execPath;
const podpath = podpathEntry(root);
const rate = (ms: number): string => `${Math.round(N / (ms / 1000)).toLocaleString('en-US')} lines/s`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const { text, json } = await generate(N);
console.log(`inputs: ${N.toLocaleString('en-US')} mixed lines (${(statSync(text).size / 1e6).toFixed(0)} MB text, ${(statSync(json).size / 1e6).toFixed(0)} MB JSON)`);

const jq = spawnSync('jq', ['--version'], { encoding: 'utf8' });
const hasJq = !(jq.error || jq.status !== 0);
const ours: Contender[] = [
  { label: 'single-threaded (PODPATH_LOGS_WORKERS=0)', argv: [node, podpath, 'logs', '--json', text], env: { ...process.env, PODPATH_LOGS_WORKERS: '0' }, ms: Infinity },
  { label: 'default workers', argv: [node, podpath, 'logs', '--json', text], env: { ...process.env, PODPATH_LOGS_WORKERS: undefined }, ms: Infinity },
];
const bare: Contender = { label: 'bare JSON.parse loop', argv: [node, '-e', BARE_JSON_LOOP, json], ms: Infinity };
const jqRun: Contender = { label: 'jq -c .', argv: ['jq', '-c', '.', json], ms: Infinity };
await rounds([...ours, bare, ...(hasJq ? [jqRun] : [])]);

for (const o of ours) {
  printRatio({
    name: `podpath logs --json (mixed TEXT, ${o.label}) vs a bare Node JSON.parse loop over the same entries as JSON`,
    measured: `${N} mixed TEXT lines in ${secs(o.ms)} (${rate(o.ms)})`,
    reference: `${N} JSON lines in ${secs(bare.ms)} (${rate(bare.ms)})`,
    ratio: bare.ms / o.ms,
    target: { min: 1.0 },
  });
}

if (!hasJq) {
  console.log('jq rows SKIPPED: jq is not installed (apt-get install -y jq), so the podpath-vs-jq ratio was not measured');
} else {
  for (const o of ours) {
    printRatio({
      name: `podpath logs --json (mixed TEXT, ${o.label}) vs ${jq.stdout.trim()} -c . over the same entries as JSON`,
      measured: `${N} mixed TEXT lines in ${secs(o.ms)} (${rate(o.ms)})`,
      reference: `${N} JSON lines in ${secs(jqRun.ms)} (${rate(jqRun.ms)})`,
      ratio: jqRun.ms / o.ms,
      target: { min: 5 },
    });
  }
}
