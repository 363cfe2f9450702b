#!/usr/bin/env node
/**
 * The suite must stay green on a busy machine: run `npm test` several times in a row while busy-loop
 * processes keep every core occupied, each run with its own temp dir, and fail when a run fails or
 * leaves a `podpath-*` entry behind in that temp dir.
 *
 *   npm run test:stress [-- --runs 3] [--hogs N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStressArgs, leftovers, summarizeLeftovers, STRESS_USAGE } from './lib/stress.ts';
import { scriptArgs } from './lib/args.ts';
import { isPodpathError } from '../harness/errors/index.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

let options;
try {
  options = parseStressArgs(scriptArgs(import.meta.url), availableParallelism());
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`stress: ${error.message}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(STRESS_USAGE);
  process.exit(0);
}

const hogs: ChildProcess[] = [];
let current: ChildProcess | null = null;
let interrupted = false;
const stopAll = (): void => {
  for (const hog of hogs) hog.kill('SIGKILL');
  current?.kill('SIGTERM');
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    stopAll();
  });
}
process.once('exit', stopAll);

// One busy loop per core: the scheduler, not the tests, decides when each test gets the CPU.
for (let i = 0; i < options.hogs; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
process.stdout.write(`stress: ${options.hogs} busy-loop processes (pids ${hogs.map((h) => h.pid).join(', ')}), ${options.runs} runs of npm test\n`);

const results: string[] = [];
let failed = 0;
for (let run = 1; run <= options.runs && !interrupted; run++) {
  const dir = await mkdtemp(path.join(tmpdir(), 'stress-tmp-'));
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    current = spawn('npm', ['test'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, TMPDIR: dir, TMP: dir, TEMP: dir } });
    current.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  current = null;
  const left = leftovers(await readdir(dir));
  await rm(dir, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  const ok = code === 0 && left.length === 0;
  if (!ok) failed++;
  results.push(`run ${run}: npm test exited ${code} after ${seconds}s${left.length ? `; left in the temp dir: ${summarizeLeftovers(left)}` : '; temp dir clean'}`);
  process.stdout.write(`stress: ${results.at(-1)}\n`);
}
stopAll();
process.stdout.write(`stress: ${interrupted ? 'interrupted' : failed ? `${failed} of ${options.runs} runs failed` : `all ${options.runs} runs passed under load`}\n${results.map((r) => `  ${r}\n`).join('')}`);
process.exit(interrupted ? 130 : failed ? 1 : 0);
