import avaTest from 'ava';
import { onLoopbackAliases } from '../../testing/loopback.ts';
import { PassThrough } from 'node:stream';
import { InterruptedError } from '../../errors/index.ts';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { captureIo } from '../../testing/capture-io.ts';
import { main } from '../main.ts';
import { scenario, type BedSpec, type Scenario } from '../../runner/index.ts';
import { LoopbackMesh, type Interference } from '../../runner/testing/loopback-mesh.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import { makeRunCommand } from './run.ts';
import { EnvironmentError } from '../../errors/index.ts';
import { KubeError } from '../../kube/index.ts';
import { openLiveBed } from '../../runner/suite.ts';
import { ScriptedExec } from '../../cluster/testing/doubles.ts';
import type { Values } from '../command.ts';
import { LOOPBACK_BUDGETS } from '../../runner/testing/budgets.ts';

// Block 127.0.22.0/24 belongs to this file.
const BLOCK = 22;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);

function setup(t: { teardown(fn: () => void): void }, scenarios: readonly Scenario[], interfere?: Interference, tty = false) {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const beds: LoopbackMesh[] = [];
  const command = makeRunCommand({
    scenarios,
    openBed: async (spec: BedSpec) => {
      const bed = await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, logDelayMs: 20, propagationMs: 30, interfere });
      beds.push(bed);
      return bed;
    },
    pipeline: LOOPBACK_BUDGETS,
    stdinIsTTY: tty,
    stderrIsTTY: false,
  });
  return { dir, beds, run: (values: Values, signal = new AbortController().signal) => {
    const io = captureIo({ cwd: dir, stdin: '\n' });
    return command.run({ values: { results: dir, istio: '1.20', ...values }, positionals: [], io: io.io, signal }).then((code) => ({ code, out: io.stdout, err: io.stderr }));
  } };
}

const broken = scenario('expects-baseline-under-app-ext', 'wrong on purpose')
  .apply('app-ext-externalname')
  .probe({ name: 'manager → app pod IP:5701', from: 'manager', to: { pod: 'app' }, port: 5701, protocol: 'tcp' })
  .expect('*', { outcome: 'echoed', client: { cluster: 'passthrough', flags: [] } })
  .build();

test('a passing run exits 0 with a line per scenario, the table, the totals and the results dir', async (t) => {
  const h = setup(t, SCENARIOS);
  const r = await h.run({ scenario: ['^tcp-pod-ip-baseline$', 'alias-off'], istio: '1.30' });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /✔ passed\s+tcp-pod-ip-baseline \[1\.30\.\d+\]/);
  t.regex(r.out, /- skipped\s+externalname-5701-collision-alias-off .*: applies only to Istio <1\.24/);
  t.regex(r.out, /1 passed, 0 failed, 1 skipped, 0 flaky/);
  const runDir = /results: (.*)/.exec(r.out)?.[1] ?? '';
  t.true(readdirSync(runDir).includes('report.json'));
});

test('a failing scenario makes the run exit 1 and names the mismatch', async (t) => {
  const h = setup(t, [broken]);
  const r = await h.run({});
  t.is(r.code, 1);
  t.regex(r.out, /✘ failed\s+expects-baseline-under-app-ext/);
  t.regex(r.out, /client sidecar: expected a passthrough cluster, saw outbound/);
  t.regex(r.out, /0 passed, 1 failed, 0 skipped, 0 flaky/);
});

test('--json prints the report on stdout and the human lines on stderr', async (t) => {
  const h = setup(t, SCENARIOS);
  const r = await h.run({ scenario: ['^tcp-pod-ip-baseline$'], json: true });
  t.is(r.code, 0, r.err);
  const report = JSON.parse(r.out) as { totals: { passed: number }; run: { argv: string[] } };
  t.is(report.totals.passed, 1);
  t.true(report.run.argv.includes('--json'));
  t.regex(r.err, /✔ passed\s+tcp-pod-ip-baseline/);
});

test('Ctrl-C mid-run exits 130, removes the extras and leaves a report marked interrupted', async (t) => {
  const controller = new AbortController();
  const h = setup(t, [broken, ...SCENARIOS.filter((s) => s.id === 'tcp-pod-ip-baseline')], () => {
    setTimeout(() => controller.abort(), 30);
    return 'hang';
  });
  const r = await h.run({}, controller.signal);
  t.is(r.code, 130);
  t.deepEqual(h.beds[0].applied, []);
  t.regex(r.err, /interrupted; the extras applied were removed/);
  const runDir = /results: (.*)/.exec(r.out)?.[1] ?? '';
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as { run: { interrupted: boolean } };
  t.true(report.run.interrupted);
});

test('bad flags are usage errors (exit 2) without a stack trace', async (t) => {
  for (const [argv, message] of [
    [['run', '--repeat', '0'], /--repeat must be a whole number >= 1/],
    [['run', '--scenario', '(', '--dry-run'], /not a valid regular expression/],
    [['run', '--istio', '0.1', '--dry-run'], /not an Istio version|does not know Istio/],
    [['run', '--log-encoding', 'xml'], /--log-encoding must be text or json/],
  ] as const) {
    const io = captureIo();
    t.is(await main([...argv], io.io, undefined, { scenarios: SCENARIOS }), 2, argv.join(' '));
    t.regex(io.stderr, message);
    t.notRegex(io.stderr, /at .*\.ts:\d+/);
  }
});

test('podpath run --dry-run (a real child process) prints the whole plan and touches nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-dry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await execa('npx', ['node', 'bin/podpath.ts', 'run', '--dry-run', '--istio', '1.20', '--scenario', '^externalname-5701-collision$', '--results', dir], {
    cwd: new URL('../../../', import.meta.url).pathname, reject: false, env: { NO_COLOR: '1', XDG_CACHE_HOME: join(dir, 'cache') },
  });
  t.is(r.exitCode, 0, r.stderr);
  const out = r.stdout;
  const order = [
    /\[exec\] .*kind create cluster --name podpath /,
    /\[exec\] .*istioctl install -y -f /,
    /\[note\] phase baseline: \d+ documents \(namespaces, agent shipping agent\.ts, contract\.ts, deployments, services\)/,
    /\[api\] server-side apply .*ConfigMap\/manager\/podpath-agent.*Deployment\/manager\/manager/,
    /\[wait\] rollout of deployment manager\/manager/,
    /\[api\] server-side apply .*Service\/app\/app-ext/,
    /\[wait\] wait up to 10s for a config push to reach manager\//,
    /\[wait\] wait until manager\/<manager-pod-1>'s config dump shows explain <manager-pod-2 IP>:5701 → captured \(3 consecutive matches\)/,
    /\[api\] POST manager\/<manager-pod-1>:15999\/probe .*"target":"<manager-pod-2 IP>:5701","protocol":"tcp","timeoutMs":6000/,
    /\[api\] GET logs of manager\/<manager-pod-1> container istio-proxy/,
    /\[api\] GET logs of manager\/<manager-pod-2> container istio-proxy/,
    /\[note\] compare .* client outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local flags UF,URX; no server entry; explain captured/,
    /\[api\] delete and wait until gone: Service\/app\/app-ext/,
    /\[exec\] .*kind delete cluster --name podpath/,
    /\[file\] write .*\(report\.json, junit\.xml, summary\.md, report\.html, evidence\/, bundle\.tar\.gz\)/,
  ];
  let at = 0;
  for (const re of order) {
    const m = re.exec(out.slice(at));
    t.truthy(m, `missing or out of order: ${re}`);
    if (m) at += m.index + m[0].length;
  }
  t.regex(out, /Dry run: nothing was created\./);
  t.regex(out, /\[exec\] \S+\/kind load image-archive \S+\/docker\.io_istio_proxyv2_1\.20\.\d+\.tar --name podpath/, 'images are preloaded by default');
  t.deepEqual(readdirSync(dir).filter((f) => f !== 'cache'), [], 'no results written');
});

test('podpath run --skip-preload (a real child process, dry run): the bed brings up without pulling or loading images', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-dry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await execa('npx', ['node', 'bin/podpath.ts', 'run', '--dry-run', '--skip-preload', '--istio', '1.20', '--scenario', '^tcp-pod-ip-baseline$', '--results', dir], {
    cwd: new URL('../../../', import.meta.url).pathname, reject: false, env: { NO_COLOR: '1', XDG_CACHE_HOME: join(dir, 'cache') },
  });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /\[exec\] .*istioctl install -y -f /);
  t.notRegex(r.stdout, /docker (pull|image)|kind load|preload/);
});

test('--skip-preload reaches the bed spec (default: preload), and bed warnings are printed as they happen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const specs: BedSpec[] = [];
  const command = makeRunCommand({
    scenarios: SCENARIOS,
    openBed: async (spec: BedSpec) => {
      specs.push(spec);
      spec.onWarning?.('could not preload docker.io/istio/pilot:1.20.8 (ctr: content digest sha256:ab: not found)');
      return await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, logDelayMs: 20, propagationMs: 30 });
    },
    pipeline: LOOPBACK_BUDGETS,
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const runOnce = async (values: Values) => {
    const io = captureIo({ cwd: dir });
    const code = await command.run({ values: { results: dir, istio: '1.20', scenario: ['^tcp-pod-ip-baseline$'], ...values }, positionals: [], io: io.io, signal: new AbortController().signal });
    return { code, err: `${io.stderr}${io.stdout}` };
  };
  const plain = await runOnce({});
  t.is(plain.code, 0, plain.err);
  t.regex(plain.err, /^podpath: warning: bed podpath: could not preload docker\.io\/istio\/pilot:1\.20\.8 \(ctr: content digest sha256:ab: not found\)$/m);
  // The warning also stays with the results, where a nightly run's reader looks.
  const [runDir] = readdirSync(dir).filter((name) => !name.startsWith('.'));
  const report = JSON.parse(readFileSync(join(dir, runDir, 'report.json'), 'utf8')) as { targets: Array<{ warnings?: string[] }> };
  t.deepEqual(report.targets[0].warnings, ['could not preload docker.io/istio/pilot:1.20.8 (ctr: content digest sha256:ab: not found)']);
  t.regex(readFileSync(join(dir, runDir, 'summary.md'), 'utf8'), /^> warning: could not preload docker\.io\/istio\/pilot:1\.20\.8/m);
  const skipped = await runOnce({ 'skip-preload': true });
  t.is(skipped.code, 0, skipped.err);
  t.deepEqual(specs.map((s) => s.preload), [true, false]);
});

test('run --help documents the flags and exit codes', async (t) => {
  const io = captureIo();
  t.is(await main(['run', '--help'], io.io), 0);
  for (const flag of ['--scenario REGEX', '--istio V[,V...]', '--reuse', '--keep', '--pause-on-failure', '--repeat N', '--concurrency N', '--results DIR', '--dry-run', '--log-encoding', '--skip-preload']) t.true(io.stdout.includes(flag), flag);
  t.regex(io.stdout, /130 interrupted/);
});

test('--pause-on-failure says it cannot pause without a TTY, and waits for Enter with one', async (t) => {
  const noTty = await setup(t, [broken]).run({ 'pause-on-failure': true });
  t.is(noTty.code, 1);
  t.regex(noTty.err, /cannot pause without a TTY \(stdin is not a terminal\), continuing/);
  const h = setup(t, [broken], undefined, true);
  const tty = await h.run({ 'pause-on-failure': true });
  t.is(tty.code, 1);
  t.regex(tty.err, /its extras are still applied\. Inspect the bed, then press Enter/);
  t.deepEqual(h.beds[0].applied, [], 'cleaned up after Enter');
});

test('no bed at all (e.g. no Docker) is an environment error: exit 2, the reason on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const command = makeRunCommand({
    scenarios: SCENARIOS,
    openBed: async () => {
      throw new EnvironmentError('the Docker daemon is not running or not reachable (docker info failed)', { hint: 'Start Docker.' });
    },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const io = captureIo({ cwd: dir });
  const code = await command.run({ values: { results: dir, scenario: ['^tcp-pod-ip-baseline$'] }, positionals: [], io: io.io, signal: new AbortController().signal });
  t.is(code, 2);
  t.regex(io.stderr, /no scenario could run, no results written: bed podpath: the Docker daemon is not running/);
  t.regex(io.stderr, /Start Docker\./);
  t.deepEqual(readdirSync(dir), [], 'no results folder of harness errors that diff could call "unchanged"');
});

test('run through the real bring-up without Docker: exit 2 naming Docker, nothing written, nothing in the cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, 'cache');
  const exec = new ScriptedExec().on('docker info', 'missing');
  const command = makeRunCommand({
    scenarios: SCENARIOS,
    openBed: (spec) => openLiveBed(spec, { exec, env: { XDG_CACHE_HOME: cache }, workDir: (name) => join(cache, 'podpath', 'clusters', name) }),
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const io = captureIo({ cwd: dir });
  const code = await command.run({ values: { results: join(dir, 'results'), scenario: ['^tcp-pod-ip-baseline$'] }, positionals: [], io: io.io, signal: new AbortController().signal });
  t.is(code, 2);
  t.regex(io.stderr, /bed podpath: Docker is not installed/);
  t.notRegex(io.stderr, /network|download/i);
  t.deepEqual(exec.lines(), [`docker info --format '{{.ServerVersion}}|{{.DockerRootDir}}|{{.OSType}}|{{.Architecture}}'`]);
  t.deepEqual(readdirSync(dir), [], 'no results directory, no cache');
});

test.serial('one bed unavailable beside one that ran: report.json marks it "bed: unavailable", report and diff say so, diff exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const command = makeRunCommand({
    scenarios: SCENARIOS,
    openBed: async (spec: BedSpec) => {
      if (spec.istio.startsWith('1.22')) throw new EnvironmentError('kind create cluster failed: no space left on device');
      return await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, logDelayMs: 20, propagationMs: 30 });
    },
    pipeline: { logDeadlineMs: 2000, probeMarginMs: 1000, logBackoffMs: 20, pushWindowMs: 500, convergeTimeoutMs: 1000 },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const io = captureIo({ cwd: dir });
  const code = await command.run({ values: { results: dir, istio: '1.20,1.22', scenario: ['^tcp-pod-ip-baseline$'] }, positionals: [], io: io.io, signal: new AbortController().signal });
  t.is(code, 2, io.stderr); // every failure is the missing bed: an environment problem, not a failed check
  const [runDir] = readdirSync(dir);
  const report = JSON.parse(readFileSync(join(dir, runDir, 'report.json'), 'utf8')) as { targets: Array<{ istio: { version: string }; bed?: string; bedError?: string }> };
  t.is(report.targets[0].bed, undefined);
  t.is(report.targets[1].bed, 'unavailable');
  t.regex(report.targets[1].bedError ?? '', /no space left on device/);
  const shown = captureIo({ cwd: dir });
  t.is(await main(['report', runDir], shown.io), 2);
  t.regex(shown.stderr, /bed podpath-1-22 \(Istio 1\.22\.\d+\) was unavailable: kind create cluster failed: no space left on device/);
  const diffed = captureIo({ cwd: dir });
  t.is(await main(['diff', runDir, runDir], diffed.io), 2);
  t.regex(diffed.stderr, /cannot compare: run A's bed podpath-1-22 \(Istio 1\.22\.\d+\) was unavailable/);
});

test.serial('a bed\'s lease lost mid-run (another run took it): the run stops, extras are removed, exit 2 says so, report marked aborted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const beds: LoopbackMesh[] = [];
  const command = makeRunCommand({
    scenarios: [broken, ...SCENARIOS.filter((s) => s.id === 'tcp-pod-ip-baseline')],
    openBed: async (spec: BedSpec) => {
      const bed = await LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, logDelayMs: 20, propagationMs: 30 });
      beds.push(bed);
      const lost = new AbortController();
      const apply = bed.apply.bind(bed);
      // The lease is taken over right after the first extra is applied.
      bed.apply = async (extra: string) => {
        await apply(extra);
        lost.abort(new KubeError('lost the lease kube-system/podpath-bed: taken over by run-B (409 Conflict on renewal)', { reason: 'LeaseLost' }));
      };
      return Object.assign(bed, { leaseLost: lost.signal });
    },
    pipeline: { logDeadlineMs: 2000, probeMarginMs: 1000, logBackoffMs: 20, pushWindowMs: 500, convergeTimeoutMs: 1000 },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const io = captureIo({ cwd: dir });
  const code = await command.run({ values: { results: dir, istio: '1.20' }, positionals: [], io: io.io, signal: new AbortController().signal });
  t.is(code, 2, io.stderr);
  t.regex(io.stderr, /bed podpath: lost the lease kube-system\/podpath-bed: taken over by run-B .*; stopping the run/);
  t.regex(io.stderr, /run aborted/);
  t.deepEqual(beds[0].applied, [], 'the extras this run applied were removed');
  const [runDir] = readdirSync(dir);
  const report = JSON.parse(readFileSync(join(dir, runDir, 'report.json'), 'utf8')) as { run: { aborted?: string; interrupted: boolean }; targets: Array<{ scenarios: Array<{ id: string; status: string; skipReason: string | null }> }> };
  t.regex(report.run.aborted ?? '', /^bed podpath: lost the lease/);
  t.true(report.run.interrupted);
  const baseline = report.targets[0].scenarios.find((s) => s.id === 'tcp-pod-ip-baseline');
  t.is(baseline?.status, 'skipped', 'nothing ran after the lease was lost');
});

test('an interrupt while --pause-on-failure waits for Enter ends the run (130), even though it ends stdin with an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const command = makeRunCommand({
    scenarios: [broken],
    openBed: async (spec: BedSpec) => LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: spec.pilotEnv, logDelayMs: 20, propagationMs: 30 }),
    pipeline: { logDeadlineMs: 2000, probeMarginMs: 1000, logBackoffMs: 20, pushWindowMs: 500, convergeTimeoutMs: 1000 },
    stdinIsTTY: true,
    stderrIsTTY: false,
  });
  const cap = captureIo({ cwd: dir });
  const stdin = new PassThrough();
  const controller = new AbortController();
  const running = command.run({ values: { results: dir, istio: '1.20', 'pause-on-failure': true }, positionals: [], io: { ...cap.io, stdin }, signal: controller.signal });
  // Wait until it is paused and reading stdin (readline is listening).
  while (!cap.stderr.includes('press Enter') || stdin.listenerCount('data') + stdin.listenerCount('readable') === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  // What cli/main.ts does on SIGINT: end stdin with an error, then abort.
  stdin.on('error', () => {});
  stdin.destroy(new InterruptedError('run: interrupted while reading stdin'));
  controller.abort(new Error('SIGINT'));
  t.is(await running, 130);
});
