#!/usr/bin/env node
/**
 * Mutation testing of the verdict code: each mutant of scripts/lib/mutation.ts is applied to a
 * temp copy of the tree (never to the working tree), only the tests that judge that file run, and
 * a mutant they do not catch is a gap in the tests. StrykerJS has no ava runner, and its command
 * runner would run the whole suite per mutant; a fixed list keeps each run to a few minutes.
 *
 *   npm run mutation [-- --file diff] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMutant, formatScore, MUTANTS, MUTATION_USAGE, parseMutationArgs, scores, TESTS_FOR, type Mutant, type MutantStatus } from './lib/mutation.ts';
import { scriptArgs } from './lib/args.ts';
import { isPodpathError } from '../harness/errors/index.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
/** A mutant whose tests run this long (a loop the break made endless) counts as caught. */
const HANG_MS = 180_000;

let options;
try {
  options = parseMutationArgs(scriptArgs(import.meta.url));
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`mutation: ${error.message}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(MUTATION_USAGE);
  process.exit(0);
}
const only = options.file;
const mutants = MUTANTS.filter((m) => only === null || m.file.includes(only));
if (mutants.length === 0) {
  process.stderr.write(`mutation: no mutant in a file matching "${only}"; files: ${Object.keys(TESTS_FOR).join(', ')}\n`);
  process.exit(2);
}

const copy = await mkdtemp(path.join(tmpdir(), 'podpath-mutation-'));
let current: ChildProcess | null = null;
let interrupted = false;
const removeCopy = (): Promise<void> => rm(copy, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    current?.kill('SIGKILL');
  });
}
const log = (line: string): void => void (options.json ? process.stderr : process.stdout).write(`${line}\n`);

function runTests(files: readonly string[], ava: string): Promise<{ code: number; timedOut: boolean; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, [ava, '--fail-fast', '--timeout=120s', ...files], { cwd: copy, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      current = null;
      resolve({ code: code ?? 1, timedOut, output });
    });
  });
}

let exitCode = 0;
try {
  // The tree without node_modules, .git and results; node_modules is the same one, linked.
  await cp(repoRoot, copy, { recursive: true, filter: (src) => !/\/(node_modules|\.git|results)$/.test(src) });
  await symlink(await realpath(path.join(repoRoot, 'node_modules')), path.join(copy, 'node_modules'));
  const ava = await realpath(path.join(repoRoot, 'node_modules', '.bin', 'ava'));

  const files = [...new Set(mutants.map((m) => m.file))];
  log(`mutation: ${mutants.length} mutants in ${files.length} files, in a copy of the tree at ${copy}`);
  for (const file of files) {
    const baseline = await runTests(TESTS_FOR[file], ava);
    if (interrupted) break;
    if (baseline.code !== 0) {
      process.stderr.write(`mutation: the tests for ${file} fail without any mutant; fix them first:\n${baseline.output}\n`);
      exitCode = 2;
      break;
    }
  }

  const results: Array<{ mutant: Mutant; status: MutantStatus }> = [];
  for (const mutant of exitCode === 0 ? mutants : []) {
    if (interrupted) break;
    const target = path.join(copy, mutant.file);
    const original = await readFile(target, 'utf8');
    const applied = applyMutant(original, mutant);
    if (!applied.ok) {
      results.push({ mutant, status: 'stale' });
      log(`  stale     ${mutant.file}: ${mutant.what} (${applied.reason})`);
      continue;
    }
    await writeFile(target, applied.text);
    try {
      const run = await runTests(TESTS_FOR[mutant.file], ava);
      if (interrupted) break;
      const status: MutantStatus = run.timedOut ? 'timeout' : run.code !== 0 ? 'killed' : 'survived';
      results.push({ mutant, status });
      log(`  ${status.padEnd(9)} ${mutant.file}: ${mutant.what}`);
    } finally {
      await writeFile(target, original);
    }
  }

  if (interrupted) {
    exitCode = 130;
  } else if (exitCode === 0) {
    const perFile = scores(results);
    if (options.json) process.stdout.write(`${JSON.stringify({ files: perFile, mutants: results.map((r) => ({ file: r.mutant.file, what: r.mutant.what, status: r.status })) }, null, 2)}\n`);
    else for (const s of perFile) log(formatScore(s));
    exitCode = perFile.some((s) => s.survivors.length > 0 || s.stale.length > 0) ? 1 : 0;
  }
} finally {
  await removeCopy();
}
process.exit(exitCode);
