/**
 * The generator with a fake `go` and a fake oracle (testing/fake-go.ts): what is available when,
 * what a build leaves behind, what the caches skip, and how failures and aborts read.
 */
import test from 'ava';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError } from '../errors/index.ts';
import { tempDir } from '../testing/temp-dir.ts';
import { oracleLayout, type BuildableVersion } from './build.ts';
import { OracleError } from './errors.ts';
import { createOracleGenerator, type OracleGeneratorOptions } from './generator.ts';
import type { ProgressClock } from './progress.ts';
import { fakeInput, fakeToolchain, type FakeToolchain } from './testing/fake-go.ts';

async function setup(prefix: string): Promise<FakeToolchain> {
  return await fakeToolchain(await tempDir(`podpath-oracle-${prefix}-`));
}

function options(fake: FakeToolchain, extra: Partial<OracleGeneratorOptions> & { buildEnv?: Record<string, string> } = {}): OracleGeneratorOptions {
  const { buildEnv, ...rest } = extra;
  return {
    env: { PATH: fake.bin, HOME: fake.dir, FAKE_DIR: fake.dir, ...buildEnv },
    cacheDir: fake.cacheDir,
    sourceRoot: fake.sourceRoot,
    versions: fake.versions,
    lock: { schedule: { initialMs: 5, factor: 2, maxMs: 20 } },
    ...rest,
  };
}

const V91 = (fake: FakeToolchain) => fake.versions[0] as BuildableVersion;

async function exists(path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false);
}

/** Waits (bounded) for a file a fake program writes when it has started. */
async function waitForFile(path: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.trim()) return text.trim();
    if (Date.now() > deadline) throw new Error(`${path} never appeared`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** A clock the test moves: `every` keeps the tick for the test to call. */
function manualClock(): ProgressClock & { advance(ms: number): void; tick(): void; running(): number } {
  let now = 0;
  const ticks = new Set<() => void>();
  return {
    now: () => now,
    every(_ms, tick) {
      ticks.add(tick);
      return () => ticks.delete(tick);
    },
    advance(ms) {
      now += ms;
    },
    tick() {
      for (const t of ticks) t();
    },
    running: () => ticks.size,
  };
}

test('a minor that cannot be built here is unavailable with its reason; generate is an exit-2 OracleError', async (t) => {
  const fake = await setup('unavailable');
  const gen = createOracleGenerator(options(fake));
  t.deepEqual(await gen.availability('9.2'), { state: 'unavailable', reason: 'the Go module proxy answers 403 for istio.io/istio at 9.2.0', hint: 'The oracle can build: 9.1. A cluster run (podpath run --istio 9.2) still answers for 9.2.' });
  const error = await t.throwsAsync(gen.generate({ minor: '9.2', input: fakeInput(), pilotEnv: {} }), { instanceOf: OracleError });
  t.is(error.failure, 'unavailable');
  t.is(error.exitCode, 2);
  t.regex(error.shortMessage, /no istiod oracle for Istio 9\.2: the Go module proxy answers 403/);
  t.regex(error.hint ?? '', /can build: 9\.1/);
  const unknown = await gen.availability('7.0');
  t.is(unknown.state, 'unavailable');
  t.regex(unknown.state === 'unavailable' ? unknown.reason : '', /unknown Istio minor '7\.0' \(the oracle knows 9\.1, 9\.2\)/);
  t.deepEqual(await fake.builds(), [], 'nothing was built');
});

test('without go on PATH an unbuilt minor is unavailable, and generate says how to get Go (exit 2)', async (t) => {
  const fake = await setup('nogo');
  const gen = createOracleGenerator({ ...options(fake), env: { PATH: join(fake.dir, 'empty'), HOME: fake.dir } });
  const a = await gen.availability('9.1');
  t.is(a.state, 'unavailable');
  t.regex(a.state === 'unavailable' ? a.reason : '', /not built yet and `go` is not on PATH/);
  t.regex(a.state === 'unavailable' ? a.hint ?? '' : '', /^Install Go 1\.24\.0 or newer/, 'the availability says how to get Go too');
  const error = await t.throwsAsync(gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} }), { instanceOf: OracleError });
  t.is(error.failure, 'no-go');
  t.is(error.exitCode, 2);
  t.regex(error.hint ?? '', /Install Go 1\.24\.0 or newer \(https:\/\/go\.dev\/doc\/install\)/, 'the version comes from the minor\'s go.mod');
});

test('a built minor is ready without go; a stale build (the oracle source changed) is not', async (t) => {
  const fake = await setup('built-nogo');
  await createOracleGenerator(options(fake)).build('9.1');
  const noGo = createOracleGenerator({ ...options(fake), env: { PATH: join(fake.dir, 'empty'), HOME: fake.dir } });
  t.deepEqual(await noGo.availability('9.1'), { state: 'ready' });
  const out = await noGo.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} });
  t.deepEqual(Object.keys(out.dumps), ['manager-0.manager']);
  await writeFile(join(fake.sourceRoot, '9.1', 'main.go'), 'package main\n\nfunc main() { println() }\n');
  const later = createOracleGenerator({ ...options(fake), env: { PATH: join(fake.dir, 'empty'), HOME: fake.dir } });
  const a = await later.availability('9.1');
  t.is(a.state, 'unavailable');
  t.regex(a.state === 'unavailable' ? a.reason : '', /built from older oracle source, so it must be rebuilt/);
});

test('a failed go build is an exit-2 OracleError quoting go and pointing at the module proxy; nothing is left behind', async (t) => {
  const fake = await setup('buildfail');
  const gen = createOracleGenerator(options(fake, { buildEnv: { FAKE_GO_MODE: 'fail' } }));
  t.is((await gen.availability('9.1')).state, 'buildable');
  const error = await t.throwsAsync(gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} }), { instanceOf: OracleError });
  t.is(error.failure, 'build');
  t.is(error.exitCode, 2);
  t.is(error.shortMessage, 'go build of the Istio 9.1 oracle failed (exit 1)');
  t.regex(error.hint ?? '', /403 Forbidden/);
  t.regex(error.hint ?? '', /Go module proxy \(GOPROXY\) must be reachable/);
  t.truthy(error.cause, 'the whole stderr travels as the cause');
  const layout = oracleLayout(fake.cacheDir, V91(fake));
  t.deepEqual((await readdir(layout.dir)).sort(), [], 'no binary, no temporary, no stamp, no lock');
});

test('go build runs once in the minor\'s source dir with -mod=readonly and no GOFLAGS; a second generator finds it built', async (t) => {
  const fake = await setup('buildonce');
  const first = createOracleGenerator(options(fake, { buildEnv: { GOFLAGS: '-mod=mod' } }));
  t.is((await first.availability('9.1')).state, 'buildable');
  await first.generate({ minor: '9.1', input: fakeInput('a'), pilotEnv: {} });
  await first.generate({ minor: '9.1', input: fakeInput('b'), pilotEnv: {} });
  const second = createOracleGenerator(options(fake));
  t.deepEqual(await second.availability('9.1'), { state: 'ready' });
  await second.generate({ minor: '9.1', input: fakeInput('c'), pilotEnv: {} });
  const builds = await fake.builds();
  t.is(builds.length, 1, 'built once for three generations in two generators');
  const layout = oracleLayout(fake.cacheDir, V91(fake));
  t.regex(builds[0], new RegExp(`^${join(fake.sourceRoot, '9.1')} GOFLAGS=\\[\\] prior=none build -mod=readonly -o ${layout.binary}\\.tmp-[0-9a-f]+ \\.$`));
  t.deepEqual(await fake.runs(), ['a', 'b', 'c']);
  t.true(layout.binary.startsWith(join(fake.cacheDir, '9.1', 'v0.0.0-fake')));
});

test('two generators building at once build once: the second waits on the lock and then finds it built', async (t) => {
  const fake = await setup('lock');
  const gate = join(fake.dir, 'gate');
  const said: string[] = [];
  const a = createOracleGenerator(options(fake, { buildEnv: { FAKE_GO_MODE: 'gate', FAKE_GO_GATE: gate } }));
  const b = createOracleGenerator(options(fake, { buildEnv: { FAKE_GO_MODE: 'gate', FAKE_GO_GATE: gate } }));
  const first = a.build('9.1');
  await waitForFile(join(fake.dir, 'go.started'));
  let waiting!: () => void;
  const told = new Promise<void>((resolve) => (waiting = resolve));
  const second = b.build('9.1', {
    onProgress: (l) => {
      said.push(l);
      if (/another podpath is building/.test(l)) waiting();
    },
  });
  // The first build finishes only once the second is seen waiting for it.
  await told;
  await writeFile(gate, '');
  const [ra, rb] = await Promise.all([first, second]);
  t.true(ra.built);
  t.false(rb.built, 'the second found the first one\'s binary');
  t.is(rb.binary, ra.binary);
  t.is((await fake.builds()).length, 1);
  t.true(said.some((l) => /^Istio 9\.1: another podpath is building this oracle \(process \d+ on /.test(l)), said.join('\n'));
});

test('an aborted build kills go and what it started, and leaves no half binary; debris of a killed podpath is removed', async (t) => {
  const fake = await setup('atomic');
  const layout = oracleLayout(fake.cacheDir, V91(fake));
  const gen = createOracleGenerator(options(fake, { buildEnv: { FAKE_GO_MODE: 'hang' } }));
  const controller = new AbortController();
  const building = gen.build('9.1', { signal: controller.signal });
  const grandchild = Number(await waitForFile(join(fake.dir, 'go.started')));
  const temps = (await readdir(layout.dir)).filter((n) => n.startsWith('oracle.tmp-'));
  t.is(temps.length, 1, 'go writes a temporary name, not the binary');
  t.is(await readFile(join(layout.dir, temps[0]), 'utf8'), 'half a binary');
  controller.abort();
  await t.throwsAsync(building, { instanceOf: InterruptedError, message: /interrupted while building the Istio 9\.1 oracle/ });
  t.true(await waitGone(grandchild), 'the process go started is gone too');
  t.deepEqual(await readdir(layout.dir), [], 'no binary, no temporary, no stamp, no lock');
  t.is((await gen.availability('9.1')).state, 'buildable');

  // A podpath killed with SIGKILL mid-build leaves its temporary; the next build (holding the lock) removes it.
  await writeFile(join(layout.dir, 'oracle.tmp-0123456789ab'), 'half');
  const ok = createOracleGenerator(options(fake));
  await ok.build('9.1');
  t.deepEqual((await readdir(layout.dir)).sort(), ['oracle', 'oracle.stamp.json']);
});

test('progress: the build says it takes minutes, how long it has run on each tick, and when it is done', async (t) => {
  const fake = await setup('progress');
  const gate = join(fake.dir, 'gate');
  const clock = manualClock();
  const said: string[] = [];
  const gen = createOracleGenerator(options(fake, { buildEnv: { FAKE_GO_MODE: 'gate', FAKE_GO_GATE: gate }, clock, progressEveryMs: 30_000 }));
  const generating = gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {}, onProgress: (l) => said.push(l) });
  await waitForFile(join(fake.dir, 'go.started'));
  t.is(clock.running(), 1, 'one ticker while go build runs');
  clock.advance(30_000);
  clock.tick();
  clock.advance(65_000);
  clock.tick();
  await writeFile(gate, '');
  await generating;
  t.is(clock.running(), 0, 'the ticker stops with the build');
  t.regex(said[0], /^Istio 9\.1: building istiod's config generator \(istio\.io\/istio 9\.1\.0, go build in oracle\/versions\/9\.1\); the first build compiles Istio and takes several minutes/);
  t.is(said[1], 'Istio 9.1: still building, 30s elapsed');
  t.is(said[2], 'Istio 9.1: still building, 1m35s elapsed');
  t.regex(said[3], /^Istio 9\.1: built in 1m35s \(0 MB, \S+\/9\.1\/v0\.0\.0-fake\/oracle\)$/);
  t.is(said[4], 'Istio 9.1: generating sidecar config with istiod 9.1.0');
  t.is(said.length, 5);
});

test('the dump cache answers a repeated question without running the oracle; another env or input runs it', async (t) => {
  const fake = await setup('dumpcache');
  const gen = createOracleGenerator(options(fake));
  const first = await gen.generate({ minor: '9.1', input: fakeInput('h1'), pilotEnv: { ENABLE_X: 'false' } });
  const again = await createOracleGenerator(options(fake)).generate({ minor: '9.1', input: fakeInput('h1'), pilotEnv: { ENABLE_X: 'false' } });
  t.deepEqual(again, first);
  t.deepEqual(await fake.runs(), ['h1'], 'the second answer came from the cache');
  const otherEnv = await gen.generate({ minor: '9.1', input: fakeInput('h1'), pilotEnv: { ENABLE_X: 'true' } });
  t.deepEqual(otherEnv.dumps['manager-0.manager'].configs, [{ enableX: 'true', leak: null }]);
  await gen.generate({ minor: '9.1', input: fakeInput('h2'), pilotEnv: { ENABLE_X: 'false' } });
  t.deepEqual(await fake.runs(), ['h1', 'h1', 'h2']);

  // A corrupt entry is a miss, replaced by a fresh answer.
  const dumps = oracleLayout(fake.cacheDir, V91(fake)).dumps;
  for (const name of await readdir(dumps)) await writeFile(join(dumps, name), 'not gzip');
  t.deepEqual(await gen.generate({ minor: '9.1', input: fakeInput('h1'), pilotEnv: { ENABLE_X: 'false' } }), first);
  t.is((await fake.runs()).length, 4);

  const uncached = createOracleGenerator(options(fake, { dumpCache: false }));
  await uncached.generate({ minor: '9.1', input: fakeInput('h1'), pilotEnv: { ENABLE_X: 'false' } });
  t.is((await fake.runs()).length, 5, 'dumpCache: false always runs istiod');
});

test('the oracle gets istiod\'s env and not the user\'s shell', async (t) => {
  const fake = await setup('env');
  const gen = createOracleGenerator(options(fake, { buildEnv: { LEAK: 'from-the-shell', ENABLE_X: 'shell' } }));
  const out = await gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: { ENABLE_X: 'false' } });
  t.deepEqual(out.dumps['manager-0.manager'].configs, [{ enableX: 'false', leak: null }]);
  t.is(out.record.inputsHash, 'hash-1');
});

test('offline-only: an unbuilt minor is unavailable and nothing is built; a built one is ready', async (t) => {
  const fake = await setup('offline');
  const offline = createOracleGenerator(options(fake, { offlineOnly: true }));
  const a = await offline.availability('9.1');
  t.is(a.state, 'unavailable');
  t.regex(a.state === 'unavailable' ? a.reason : '', /not built yet and --offline-only builds nothing/);
  const error = await t.throwsAsync(offline.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} }), { instanceOf: OracleError });
  t.is(error.failure, 'not-built');
  t.regex(error.hint ?? '', /Run without --offline-only to build it/);
  t.deepEqual(await fake.builds(), []);
  await createOracleGenerator(options(fake)).build('9.1');
  t.deepEqual(await offline.availability('9.1'), { state: 'ready' });
  await offline.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} });
  t.is((await fake.builds()).length, 1);
});

test('aborting a generation kills the oracle process: InterruptedError (exit 130), nothing cached', async (t) => {
  const fake = await setup('abort');
  const gen = createOracleGenerator(options(fake));
  await gen.build('9.1');
  const controller = new AbortController();
  const running = gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: { FAKE_ORACLE: 'hang' }, signal: controller.signal });
  const pid = Number(await waitForFile(join(fake.dir, 'oracle.pid')));
  t.true(alive(pid));
  controller.abort();
  const error = await t.throwsAsync(running, { instanceOf: InterruptedError });
  t.is(error.exitCode, 130);
  t.true(await waitGone(pid), 'the oracle process is gone');
  t.false(await exists(oracleLayout(fake.cacheDir, V91(fake)).dumps), 'no dump was cached');
});

test('an oracle that fails is an exit-2 OracleError quoting its own line, not istiod\'s log', async (t) => {
  const fake = await setup('runfail');
  const gen = createOracleGenerator(options(fake));
  const error = await t.throwsAsync(gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: { FAKE_ORACLE: 'fail' } }), { instanceOf: OracleError });
  t.is(error.failure, 'run');
  t.is(error.exitCode, 2);
  t.is(error.shortMessage, 'the Istio 9.1 oracle failed (exit 1): oracle: proxy app-0.app: no such pod');
  t.notRegex(error.hint ?? '', /info ads/);
});

test('a dump cache that cannot be written costs the cache, not the answer', async (t) => {
  const fake = await setup('cachefail');
  const gen = createOracleGenerator(options(fake));
  await gen.build('9.1');
  // A file where the dumps directory should be: every write fails.
  await writeFile(oracleLayout(fake.cacheDir, V91(fake)).dumps, 'in the way');
  const out = await gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} });
  t.deepEqual(Object.keys(out.dumps), ['manager-0.manager']);
  await gen.generate({ minor: '9.1', input: fakeInput(), pilotEnv: {} });
  t.is((await fake.runs()).length, 2, 'nothing was cached, so istiod ran twice');
});

test('a forced rebuild starts go from a copy of the current binary, so go can find it up to date and skip linking', async (t) => {
  const fake = await setup('relink');
  const gen = createOracleGenerator(options(fake));
  await gen.build('9.1');
  const again = await gen.build('9.1', { force: true });
  t.true(again.built);
  const builds = await fake.builds();
  t.is(builds.length, 2);
  t.regex(builds[0], / prior=none /);
  t.regex(builds[1], / prior=current /, 'the temporary -o file held the current binary when go started');
});
