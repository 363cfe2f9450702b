/**
 * meshConfig.connectTimeout: `podpath up` and `podpath run` install the same default, and the report
 * records what the bed really runs (a reused bed may have been installed with another value).
 */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bedOptionsFrom } from '../cli/commands/up.ts';
import { istioOperator } from '../cluster/index.ts';
import { captureIo } from '../testing/capture-io.ts';
import { terminalSink } from '../cli/suite-output.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { DEFAULT_CONNECT_TIMEOUT, runSuite, type BedSpec, type RunOptions } from './index.ts';
import { LoopbackMesh } from './testing/loopback-mesh.ts';

// Block 127.0.26.0/24 belongs to this file.
const BLOCK = 26;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);

function options(resultsDir: string, overrides: Partial<RunOptions> = {}): RunOptions {
  return { scenarios: ['^tcp-pod-ip-baseline$'], istio: ['1.22'], reuse: false, keep: false, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir, dryRun: false, logEncoding: 'text', ...overrides };
}

test('podpath up installs the same connectTimeout as podpath run (1s) unless told otherwise', (t) => {
  const signal = new AbortController().signal;
  t.is(DEFAULT_CONNECT_TIMEOUT, '1s');
  const up = bedOptionsFrom({}, signal);
  t.is(up.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
  const meshConfig = (istioOperator({ logEncoding: up.logEncoding, connectTimeout: up.connectTimeout }).spec as { meshConfig: Record<string, unknown> }).meshConfig;
  t.is(meshConfig.connectTimeout, '1s', 'the IstioOperator up writes carries it');
  t.is(bedOptionsFrom({ 'connect-timeout': '3s' }, signal).connectTimeout, '3s');
});

async function run(t: { teardown(fn: () => void): void }, bedTimeout: string | null | undefined, overrides: Partial<RunOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-meshconfig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const io = captureIo();
  const specs: BedSpec[] = [];
  const { report } = await runSuite(options(dir, overrides), terminalSink(io.io), {
    scenarios: SCENARIOS,
    openBed: async (spec) => {
      specs.push(spec);
      return LoopbackMesh.start({ block: BLOCK, istio: '1.22.8', connectTimeout: bedTimeout });
    },
    pipeline: { logDeadlineMs: 2000, probeMarginMs: 1000, pushWindowMs: 500, convergeTimeoutMs: 1000 },
  });
  return { report, specs, stderr: io.stderr };
}

test('run asks for 1s and the report records the bed\'s value with no warning when they agree', async (t) => {
  const { report, specs, stderr } = await run(t, '1s');
  t.is(specs[0].connectTimeout, '1s');
  t.is(report.targets[0].istio.meshConfig.connectTimeout, '1s');
  t.is(report.targets[0].warnings, undefined);
  t.notRegex(stderr, /connectTimeout/);
});

test('a reused bed installed without connectTimeout: the report says Istio\'s 10s and warns', async (t) => {
  const { report, stderr } = await run(t, null, { reuse: true });
  t.is(report.targets[0].istio.meshConfig.connectTimeout, '10s', 'the effective value, not null');
  t.regex(report.targets[0].warnings?.join('\n') ?? '', /runs meshConfig\.connectTimeout 10s \(Istio's default: none set\), not the 1s this run asked for/);
  t.regex(stderr, /warning: .*connectTimeout 10s/);
});

test('a reused bed installed with another connectTimeout: the report records the bed\'s', async (t) => {
  const { report } = await run(t, '2s', { reuse: true });
  t.is(report.targets[0].istio.meshConfig.connectTimeout, '2s');
  t.regex(report.targets[0].warnings?.join('\n') ?? '', /runs meshConfig\.connectTimeout 2s, not the 1s/);
});
