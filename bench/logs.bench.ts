/**
 * podpath logs throughput and memory, all measured in this run:
 *  - `podpath logs --json` over N mixed TEXT lines (all eras, all prefix styles)
 *  - `jq -c .` over the same N entries as Istio JSON lines     (target: podpath >= 5x jq)
 *  - a bare Node loop that only JSON.parse's each JSON line    (target: podpath >= 1.0x)
 *  - `wc -l` over the TEXT file, the floor                     (printed, no target)
 *  - peak RSS of podpath for 2,000,000 lines vs 100,000 lines  (target: <= 1.2x)
 * N = 1,000,000 x BENCH_SCALE (default 1). Inputs are generated once into bench/.data/.
 * Timed runs are the best of BENCH_REPEAT (default 3) for podpath, the bare loop and wc; jq runs once.
 * podpath uses up to two worker threads for inputs over 8 MiB; PODPATH_LOGS_WORKERS=0 measures one thread.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { podpathEntry, printRatio } from './lib.ts';
import { BARE_JSON_LOOP, ERAS, generateLogs } from './access-log-data.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'bench', '.data');
const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const N = Math.max(1000, Math.round(1_000_000 * scale));
const SMALL = Math.max(100, Math.round(N / 10));

function prefix(i: number, line: string): string {
  switch (i % 4) {
    case 0: return line;
    case 1: return `2026-11-23T10:00:00.123456789Z ${line}`;
    case 2: return `[pod/manager-7948dffbdd-p44xx/istio-proxy] ${line}`;
    default: return `manager-7948dffbdd-p44xx istio-proxy ${line}`;
  }
}

const generate = (count: number) => generateLogs({
  dataDir, name: 'logs', count, seed: 0x9e3779b9,
  era: (i) => ERAS[i % 4],
  prefix: (i, line) => prefix(i, line),
});

const hasTime = existsSync('/usr/bin/time');

/** Runs a command with stdout to /dev/null; wall ms and (via /usr/bin/time -f %M) max RSS in KiB. */
async function run(argv: string[]): Promise<{ ms: number; rssKb: number | null; code: number | null; stderr: string }> {
  const full = hasTime ? ['/usr/bin/time', '-f', 'MAXRSS %M', ...argv] : argv;
  const start = performance.now();
  const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: root });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - start;
  const m = /MAXRSS (\d+)/.exec(stderr) ?? /maxRSS=(\d+)/.exec(stderr);
  return { ms, rssKb: m ? Number(m[1]) : null, code, stderr };
}

const node = process.execPath;
const podpath = podpathEntry(root);
// Without /usr/bin/time the child reports its own peak RSS (KiB) on exit.
const rssHook = hasTime ? [] : ['--import', `data:text/javascript,process.on('exit',()=>process.stderr.write('maxRSS='+process.resourceUsage().maxRSS+'\\n'))`];

const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? '3'));
/** Best of REPEAT runs: the machine is shared, and noise only ever makes a run slower. */
async function best(argv: string[]): Promise<Awaited<ReturnType<typeof run>>> {
  let fastest: Awaited<ReturnType<typeof run>> | null = null;
  for (let i = 0; i < REPEAT; i++) {
    const r = await run(argv);
    if (r.code !== 0) return r;
    if (fastest === null || r.ms < fastest.ms) fastest = r;
  }
  return fastest as Awaited<ReturnType<typeof run>>;
}

const perSecond = (lines: number, ms: number): string => `${Math.round(lines / (ms / 1000)).toLocaleString('en-US')} lines/s`;

const { text, json } = await generate(N);
const small = await generate(SMALL);
console.log(`inputs: ${N.toLocaleString('en-US')} lines (${(statSync(text).size / 1e6).toFixed(0)} MB text, ${(statSync(json).size / 1e6).toFixed(0)} MB JSON)`);

const wc = await best(['wc', '-l', text]);
console.log(`wc -l (floor): ${perSecond(N, wc.ms)}`);

const ours = await best([node, ...rssHook, podpath, 'logs', '--json', text]);
if (ours.code !== 0) throw new Error(`podpath logs exited ${ours.code}: ${ours.stderr}`);
const ourRate = `${N} TEXT lines in ${(ours.ms / 1000).toFixed(2)} s (${perSecond(N, ours.ms)})`;

const bare = await best([node, '-e', BARE_JSON_LOOP, json]);
if (bare.code !== 0) throw new Error(`bare JSON.parse loop exited ${bare.code}: ${bare.stderr}`);
printRatio({
  name: 'podpath logs --json (TEXT) vs a bare Node JSON.parse loop over the same entries as JSON',
  measured: ourRate,
  reference: `${N} JSON lines in ${(bare.ms / 1000).toFixed(2)} s (${perSecond(N, bare.ms)})`,
  ratio: bare.ms / ours.ms,
  target: { min: 1.0 },
});

const jq = spawnSync('jq', ['--version'], { encoding: 'utf8' });
if (jq.error || jq.status !== 0) {
  console.log('jq: NOT INSTALLED, so the podpath-vs-jq ratio was not measured (install it: apt-get install -y jq)');
} else {
  const j = await run(['jq', '-c', '.', json]);
  if (j.code !== 0) throw new Error(`jq exited ${j.code}: ${j.stderr}`);
  printRatio({
    name: `podpath logs --json (TEXT) vs ${jq.stdout.trim()} -c . over the same entries as JSON`,
    measured: ourRate,
    reference: `${N} JSON lines in ${(j.ms / 1000).toFixed(2)} s (${perSecond(N, j.ms)})`,
    ratio: j.ms / ours.ms,
    target: { min: 5 },
  });
}

// Memory: the big input is the N-line file given twice (2N lines), against N/10 lines.
const big = await run([node, ...rssHook, podpath, 'logs', '--json', text, text]);
const little = await run([node, ...rssHook, podpath, 'logs', '--json', small.text]);
if (big.rssKb === null || little.rssKb === null) {
  console.log('peak RSS: could not be measured (no /usr/bin/time and no maxRSS report)');
} else {
  printRatio({
    name: `podpath logs --json peak RSS, ${(2 * N).toLocaleString('en-US')} lines vs ${SMALL.toLocaleString('en-US')} lines`,
    measured: `${(big.rssKb / 1024).toFixed(1)} MiB for ${(2 * N).toLocaleString('en-US')} lines`,
    reference: `${(little.rssKb / 1024).toFixed(1)} MiB for ${SMALL.toLocaleString('en-US')} lines`,
    ratio: big.rssKb / little.rssKb,
    target: { max: 1.2 },
  });
}
