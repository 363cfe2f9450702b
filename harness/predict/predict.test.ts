/**
 * predict end to end on the committed goldens (real istiod output per minor), through a test
 * double of the generation step that answers only the inputs the goldens were generated from.
 * Every expected row is read from the goldens themselves (listeners, clusters, endpoints) and
 * explain, never from a table of podpath's beliefs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureIo } from '../testing/capture-io.ts';
import { runCommand } from '../cli/main.ts';
import { makePredictCommand } from '../cli/commands/predict.ts';
import { explain, loadConfigDump } from '../envoy/index.ts';
import { MANIFESTS_DIR } from '../manifests/index.ts';
import type { DumpGenerator, GenerateRequest, OracleAvailability } from '../oracle/types.ts';
import { goldenGenerator } from '../oracle/testing/golden-generator.ts';
import { goldenMinors, readGolden } from '../../oracle/goldens.ts';
import { ORACLE_VERSIONS, oracleVersion } from '../../oracle/versions.ts';
import { meshConfigYaml } from '../../oracle/inputs.ts';

const STATE = 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false';
const MINORS = goldenMinors();

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'podpath-predict-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The bed's mesh config (what the goldens were generated with) as a user file. */
function bedMesh(dir: string): string {
  const file = path.join(dir, 'mesh.yaml');
  writeFileSync(file, meshConfigYaml());
  return file;
}

const SEED_FILES = ['-f', path.join(MANIFESTS_DIR, 'base'), '-f', path.join(MANIFESTS_DIR, 'extras', 'app-ext-externalname.yaml')];

async function run(args: string[], generator: DumpGenerator = goldenGenerator(), env: NodeJS.ProcessEnv = { NO_COLOR: '1' }) {
  const io = captureIo({ env });
  const code = await runCommand(makePredictCommand({ generator: () => generator }), args, io.io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

interface JsonRow { minor: string; verdict: string; listener: string | null; filterChain: string | null; cluster: string | null; evidence: { flags: string[]; cluster: string | null; text: string }; differsFromFirst: string[] }
interface JsonOut {
  from: { pod: string; ip: string };
  addresses: { pods: Array<{ name: string; ip: string; assigned: boolean }> };
  versions: Array<{ minor: string; status: string; reason?: string }>;
  destinations: Array<{ dst: string; host?: string; rows: JsonRow[] }>;
  changes?: Array<{ minor: string; since: string; kind: string; change: string; subject: string; text: string }>;
  verdictChanged: boolean;
}

test('done-when: the seed incident\'s manifests over 1.20..1.30 give, per version, the row the goldens imply; --changes names where the catch-all goes', async (t) => {
  t.true(MINORS.length >= 2, 'goldens for at least two minors');
  const dir = tmp(t);
  const base = [...SEED_FILES, '--istio', '1.20..1.30', '--from', 'manager/manager', '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--mesh-config', bedMesh(dir)];

  // The other manager pod's IP, as predict assigns and prints it.
  const first = await run([...base, '--dst', '10.244.0.12:5701', '--json']);
  t.is(first.code, 0, first.stderr);
  const out = JSON.parse(first.stdout) as JsonOut;
  const other = out.addresses.pods.find((p) => p.name === 'manager-1')!;
  t.is(other.ip, '10.244.0.12');
  t.true(other.assigned);
  const dst = `${other.ip}:5701`;

  // What each golden holds, read from the dump itself.
  const expected = new Map<string, { catchAll: boolean; verdict: string; listener: string | null; cluster: string | null }>();
  for (const minor of MINORS) {
    const dump = loadConfigDump(readGolden(minor, STATE, 'manager')!);
    const wildcard = dump.listenersAt('0.0.0.0', 5701);
    const appExt = dump.cluster('outbound|5701||app-ext.app.svc.cluster.local');
    if (wildcard.length > 0) {
      // istiod's catch-all for the ExternalName: a STRICT_DNS cluster whose one endpoint is idle on 5701.
      t.is(appExt?.type, 'STRICT_DNS', minor);
      t.deepEqual(appExt?.endpoints?.map((e) => e.text), ['idle.idle.svc.cluster.local:5701'], minor);
    }
    const e = explain(dump, { dst });
    expected.set(minor, { catchAll: wildcard.length > 0, verdict: e.verdict, listener: e.listener, cluster: e.cluster?.name ?? null });
  }
  t.true(expected.get('1.20')?.catchAll, 'the 1.20 golden has the catch-all');
  const gone = MINORS.find((m) => !expected.get(m)!.catchAll);
  t.truthy(gone, 'some golden minor has no catch-all');

  // One row per generated version, as the goldens imply, and a row with its reason for every other minor.
  t.deepEqual(out.versions.map((v) => v.minor), ORACLE_VERSIONS.filter((v) => v.minor >= '1.20' && v.minor <= '1.30').map((v) => v.minor));
  for (const v of out.versions) {
    if (MINORS.includes(v.minor)) t.is(v.status, 'predicted', v.minor);
    else {
      t.is(v.status, 'unavailable', v.minor);
      t.is(v.reason, oracleVersion(v.minor)!.unavailable, v.minor);
    }
  }
  const rows = out.destinations[0].rows;
  t.deepEqual(rows.map((r) => r.minor), MINORS);
  for (const r of rows) {
    const want = expected.get(r.minor)!;
    t.like(r, { verdict: want.verdict, listener: want.listener, cluster: want.cluster }, r.minor);
    if (want.catchAll) {
      t.is(r.verdict, 'captured', r.minor);
      t.deepEqual(r.evidence.flags, ['UF', 'URX'], `${r.minor}: idle's Service has no port 5701, so the sidecar logs UF,URX`);
      t.is(r.evidence.cluster, 'outbound|5701||app-ext.app.svc.cluster.local');
    } else {
      t.is(r.verdict, 'passthrough', r.minor);
      t.is(r.evidence.text, '0 - PassthroughCluster', r.minor);
    }
    t.is(r.differsFromFirst.length > 0, want.catchAll !== expected.get(MINORS[0])!.catchAll, r.minor);
  }

  // The table: rows that differ are marked with a character, not only a colour.
  const human = await run([...base, '--dst', dst]);
  t.is(human.code, 0);
  t.notRegex(human.stdout, /\x1b\[/);
  t.regex(human.stdout, /10\.244\.0\.12\s+assigned/);
  t.regex(human.stdout, new RegExp(`\\n\\s+1\\.20\\s+captured\\s+0\\.0\\.0\\.0_5701\\s+#0\\s+outbound\\|5701\\|\\|app-ext\\.app\\.svc\\.cluster\\.local\\s+0 UF,URX outbound`));
  t.regex(human.stdout, new RegExp(`\\n\\s+\\*\\s+${gone!.replace('.', '\\.')}\\s+passthrough\\s+virtualOutbound\\s+\\S+\\s+PassthroughCluster\\s+0 - PassthroughCluster`));
  t.regex(human.stdout, /\n\s+1\.21\s+\(not generated\)/);
  t.regex(human.stdout, /\* differs from 1\.20: /);

  // --changes: the version where the catch-all goes away, in operator words; a changed verdict is exit 1.
  const changes = await run([...base, '--dst', dst, '--changes', '--json']);
  t.is(changes.code, 1, 'a version changes the verdict');
  const c = (JSON.parse(changes.stdout) as JsonOut).changes!;
  t.like(c.find((x) => x.kind === 'catch-all'), { minor: gone, since: '1.20', subject: '5701', change: 'gone' });
  t.like(c.find((x) => x.kind === 'listener' && x.subject === '0.0.0.0_5701'), { minor: gone, change: 'gone' });
  t.like(c.find((x) => x.kind === 'verdict'), { minor: gone, subject: dst });
  const words = await run([...base, '--dst', dst, '--changes']);
  t.is(words.code, 1);
  t.regex(words.stdout, new RegExp(`${gone!.replace('.', '\\.')}: listener 0\\.0\\.0\\.0_5701 \\(from ExternalName app/app-ext\\) is gone: ExternalName is now an alias`));
  t.regex(words.stdout, new RegExp(`${gone!.replace('.', '\\.')}: port 5701 is no longer a catch-all`));
  t.regex(words.stdout, /1\.20 → 1\.24 \(1\.21, 1\.22, 1\.23 between them not generated\)/);
});

test('--changes without a changed verdict is exit 0; without --changes a changed verdict is still exit 0', async (t) => {
  const dir = tmp(t);
  const base = [...SEED_FILES, '--from', 'manager/manager', '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--mesh-config', bedMesh(dir)];
  const same = await run([...base, '--istio', MINORS.slice(1).join(','), '--dst', '10.244.0.12:5701', '--changes']);
  t.is(same.code, 0, same.stdout + same.stderr);
  const differ = await run([...base, '--istio', MINORS.join(','), '--dst', '10.244.0.12:5701']);
  t.is(differ.code, 0);
  t.regex(differ.stdout, /\*/);
});

test('a minor named on its own that cannot be generated is exit 2 with the reason; in a range it is a row', async (t) => {
  const unavailable = ORACLE_VERSIONS.find((v) => !v.module)!;
  const dir = tmp(t);
  const base = [...SEED_FILES, '--from', 'manager/manager', '--dst', '10.244.0.12:5701', '--mesh-config', bedMesh(dir)];
  const named = await run([...base, '--istio', `1.20,${unavailable.minor}`]);
  t.is(named.code, 2);
  t.regex(named.stderr, new RegExp(`Istio ${unavailable.minor.replace('.', '\\.')} cannot be generated here: the Go module proxy`));
  t.is(named.stdout, '');
});

test('--offline-only: a minor not built yet is a row in a range and exit 2 by name; nothing generated at all is exit 2 with how to get Go', async (t) => {
  const dir = tmp(t);
  const base = [...SEED_FILES, '--from', 'manager/manager', '--dst', '10.244.0.12:5701', '--mesh-config', bedMesh(dir), '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false'];
  const calls: GenerateRequest[] = [];
  const gen = goldenGenerator({ buildable: ['1.24'], calls });
  const ranged = await run([...base, '--istio', '1.20..1.24', '--offline-only', '--json'], gen);
  t.is(ranged.code, 0, ranged.stderr);
  t.like((JSON.parse(ranged.stdout) as JsonOut).versions.find((v) => v.minor === '1.24'), { status: 'not-built' });
  t.deepEqual(calls.map((c) => c.minor), ['1.20'], 'nothing built');
  const named = await run([...base, '--istio', '1.24', '--offline-only'], gen);
  t.is(named.code, 2);
  t.regex(named.stderr, /not built yet and --offline-only/);
  const noGo = goldenGenerator({ unavailable: Object.fromEntries(ORACLE_VERSIONS.map((v) => [v.minor, 'its oracle is not built yet and `go` is not on PATH'])) });
  const none = await run([...base, '--istio', '1.20..1.30'], noGo);
  t.is(none.code, 2);
  t.regex(none.stderr, /none of the selected Istio versions can be generated here/);
  t.regex(none.stderr, /Install Go/);
});

test('progress goes to stderr while a version builds; stdout keeps the answer (also --json)', async (t) => {
  const dir = tmp(t);
  const r = await run([...SEED_FILES, '--from', 'manager/manager', '--dst', '10.244.0.12:5701', '--mesh-config', bedMesh(dir), '--istio', '1.20', '--json'], goldenGenerator({ buildable: ['1.20'] }));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^predict: 1\.20: not built yet: a one-time go build\npredict: 1\.20: generating from the committed goldens\n$/);
  t.notThrows(() => JSON.parse(r.stdout));
});

test('colour only highlights: with FORCE_COLOR the differing rows still carry the * mark', async (t) => {
  const dir = tmp(t);
  const r = await run([...SEED_FILES, '--from', 'manager/manager', '--dst', '10.244.0.12:5701', '--mesh-config', bedMesh(dir), '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--istio', MINORS.join(',')], goldenGenerator(), { FORCE_COLOR: '1' });
  t.is(r.code, 0);
  t.regex(r.stdout, /\x1b\[/);
  t.regex(r.stdout, /\*\s+1\.24\s+passthrough/);
});

test('--dst-from-logs: every distinct outbound destination of the workload in its sidecar log, HTTP ones with their Host', async (t) => {
  const dir = tmp(t);
  const log = path.join(dir, 'manager.log');
  const line = (flags: string, cluster: string, local: string, method = '- - -', authority = '-') =>
    `[2026-11-20T10:00:00.000Z] "${method}" 0 ${flags} - - "-" 0 0 1000 - "-" "-" "-" "${authority}" "-" ${cluster} - ${local} 10.244.0.11:39000 - -`;
  writeFileSync(log, [
    line('UF,URX', 'outbound|5701||app-ext.app.svc.cluster.local', '10.244.0.12:5701'),
    line('UF,URX', 'outbound|5701||app-ext.app.svc.cluster.local', '10.244.0.12:5701'),
    line('-', 'PassthroughCluster', '10.244.0.21:8080', 'GET / HTTP/1.1', '10.244.0.21:8080'),
    line('-', 'inbound|5701||', '10.244.0.11:5701'),
    'not a log line',
    '',
  ].join('\n'));
  const r = await run([...SEED_FILES, '--from', 'manager/manager', '--dst-from-logs', log, '--mesh-config', bedMesh(dir), '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--istio', '1.20', '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as JsonOut;
  t.deepEqual(out.destinations.map((d) => [d.dst, d.host]), [['10.244.0.12:5701', undefined], ['10.244.0.21:8080', '10.244.0.21:8080']]);
  t.is(out.destinations[0].rows[0].verdict, 'captured');
  const empty = path.join(dir, 'empty.log');
  writeFileSync(empty, `${line('-', 'inbound|5701||', '10.244.0.11:5701')}\n`);
  const none = await run([...SEED_FILES, '--from', 'manager/manager', '--dst-from-logs', empty, '--istio', '1.20']);
  t.is(none.code, 2);
  t.regex(none.stderr, /no outbound entry of manager/);
});

test('usage errors are exit 2 without a stack, before any generation', async (t) => {
  const calls: GenerateRequest[] = [];
  const gen = goldenGenerator({ calls });
  for (const [args, message] of [
    [['--istio', '1.20', '--from', 'manager/manager', '--dst', '1.2.3.4:5'], /-f FILE\|DIR is required/],
    [[...SEED_FILES, '--from', 'manager/manager', '--dst', '1.2.3.4:5'], /--istio is required/],
    [[...SEED_FILES, '--istio', '1.20', '--dst', '1.2.3.4:5'], /--from NAMESPACE\/WORKLOAD is required/],
    [[...SEED_FILES, '--istio', '1.20', '--from', 'manager/manager'], /give --dst, --dst-from-logs or --changes/],
    [[...SEED_FILES, '--istio', '9.9', '--from', 'manager/manager', '--dst', '1.2.3.4:5'], /not an Istio minor the oracle knows/],
    [[...SEED_FILES, '--istio', '1.20', '--from', 'manager', '--dst', '1.2.3.4:5'], /not NAMESPACE\/WORKLOAD/],
    [[...SEED_FILES, '--istio', '1.20', '--from', 'manager/manager', '--dst', 'nowhere.example:5'], /does not resolve/],
    [[...SEED_FILES, '--istio', '1.20', '--from', 'manager/manager', '--dst', '1.2.3.4:5', '--bogus'], /Unknown option '--bogus'/],
  ] as Array<[string[], RegExp]>) {
    const r = await run(args, gen);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message);
    t.notRegex(r.stderr, /\n\s+at /);
  }
  t.is(calls.length, 0);
  const help = await run(['--help'], gen);
  t.is(help.code, 0);
  t.regex(help.stdout, /Usage: podpath predict -f FILE\|DIR/);
});

// The real generation step (Go build of istiod per minor, harness/oracle/generator.ts): it must
// reproduce the committed golden from predict's input. Runs when Go is on PATH and the minor is
// built (or PODPATH_ORACLE_BUILD=1 allows a build, minutes the first time); otherwise a visible skip.
const REAL_MINOR = '1.20';
const goPresent = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
// ava wants every test declared synchronously: ask the generator in a child process, synchronously.
const probe = goPresent
  ? spawnSync(process.execPath, ['--input-type=module', '-e', `const { createOracleGenerator } = await import(${JSON.stringify(new URL('../oracle/generator.ts', import.meta.url).href)}); process.stdout.write(JSON.stringify(await createOracleGenerator({}).availability(${JSON.stringify(REAL_MINOR)})));`], { encoding: 'utf8' })
  : null;
const realState = probe?.status === 0 ? (JSON.parse(probe.stdout) as OracleAvailability) : null;
const realRuns = realState !== null && (realState.state === 'ready' || (realState.state === 'buildable' && process.env.PODPATH_ORACLE_BUILD === '1'));
const why = !goPresent ? 'go is not on PATH' : realState === null ? `asking the generator failed: ${probe?.stderr.split('\n')[0] ?? ''}` : realState.state === 'unavailable' ? realState.reason : 'not built yet; set PODPATH_ORACLE_BUILD=1 to build it (minutes)';
(realRuns ? test : test.skip)(`real oracle: predict through istiod ${REAL_MINOR} reproduces the committed golden${realRuns ? '' : ` (skipped: ${why})`}`, async (t) => {
  t.timeout(60 * 60 * 1000);
  const dir = tmp(t);
  const { createOracleGenerator } = await import('../oracle/generator.ts');
  const real = createOracleGenerator({});
  const outputs: unknown[] = [];
  const recording: DumpGenerator = { availability: (m) => real.availability(m), generate: async (request) => {
    const out = await real.generate(request);
    outputs.push(out);
    return out;
  } };
  const r = await run([...SEED_FILES, '--from', 'manager/manager', '--dst', '10.244.0.12:5701', '--mesh-config', bedMesh(dir), '--pilot-env', 'ENABLE_EXTERNAL_NAME_ALIAS=false', '--istio', REAL_MINOR, '--json'], recording);
  t.is(r.code, 0, r.stderr);
  const golden = readGolden(REAL_MINOR, STATE, 'manager')!;
  // istiod, given predict's input, builds exactly the committed golden: same input hash, same listeners, clusters, routes, endpoints.
  const out = outputs[0] as { record: { inputsHash: string }; dumps: Record<string, { configs: unknown[] }> };
  t.is(out.record.inputsHash, golden.podpath_oracle.inputsHash);
  t.deepEqual(out.dumps['manager-0.manager'].configs, golden.configs);
  const row = (JSON.parse(r.stdout) as JsonOut).destinations[0].rows[0];
  const expected = explain(loadConfigDump(golden), { dst: '10.244.0.12:5701' });
  t.like(row, { verdict: expected.verdict, listener: expected.listener, cluster: expected.cluster?.name ?? null });
});
