#!/usr/bin/env node
/**
 * npm run oracle -- [--istio 1.24,1.27] [--check] [--json]
 *
 * Builds the istiod oracle (oracle/versions/<minor>, real istio.io/istio code) for each minor and
 * regenerates the golden dumps under oracle/goldens/<minor>/<state>/<client>.json.gz for every
 * bed state the seed suite uses. --check regenerates in memory and fails (exit 1) on any
 * difference, including goldens that should not exist; the Go version in the record is not
 * compared (another toolchain builds the same istiod code).
 * Exit codes: 0 ok, 1 goldens differ, 2 usage or environment error (no `go`, unknown minor).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createOracleGenerator, runOracle, type OracleGenerator } from '../harness/oracle/index.ts';
import { findExecutable } from '../harness/oracle/build.ts';
import { InterruptedError } from '../harness/errors/index.ts';
import { bedStates, clientPod, bedModel, clientWorkloads, oracleInput, type BedState } from './inputs.ts';
import { decodeGolden, encodeGolden, goldenPath, GOLDENS_DIR, listGoldens, ORACLE_DIR, type GoldenDump } from './goldens.ts';
import { buildableMinors, oracleIstioVersion, oracleVersion, ORACLE_VERSIONS, type OracleVersion } from './versions.ts';

const HELP = `Usage: npm run oracle -- [--istio MINORS] [--check] [--json]

Builds the istiod oracle per Istio minor (Go, istio.io/istio at that release's commit) and
regenerates oracle/goldens/<minor>/<state>/<client>.json.gz.

  --istio MINORS  comma-separated minors (default: every buildable one: ${buildableMinors().join(', ')})
  --check         regenerate in memory; exit 1 if any golden differs or is missing/extra
  --json          print the per-version timings and results as JSON
  --help          this text

Needs \`go\` on PATH and the Go module proxy (or a warm module cache). Binaries go to the podpath
cache ($XDG_CACHE_HOME/podpath/oracle/<minor>/<module>/oracle), where podpath predict finds them.
Exit codes: 0 ok, 1 goldens differ, 2 usage or environment error (including a minor named with
--istio that cannot be built here: see oracle/versions.ts).`;

interface VersionResult {
  minor: string;
  status: 'ok' | 'differs' | 'skipped' | 'failed';
  reason?: string;
  buildSeconds?: number;
  generateSeconds?: number;
  binaryBytes?: number;
  goldens?: number;
  differences?: string[];
}

function fail(message: string, code = 2): never {
  process.stderr.write(`oracle: ${message}\n`);
  process.exit(code);
}

function parse(): { minors: string[]; check: boolean; json: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ options: { istio: { type: 'string' }, check: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true }));
  } catch (error) {
    fail(`${(error as Error).message}\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const minors = values.istio ? values.istio.split(',').map((s) => s.trim()).filter(Boolean) : buildableMinors();
  for (const m of minors) {
    if (m === 'NEWEST') continue;
    const v = oracleVersion(m);
    if (!v) fail(`unknown Istio minor '${m}'; supported: ${ORACLE_VERSIONS.map((x) => x.minor).join(', ')}`);
    // Asked for by name and impossible here: say so and check nothing, rather than pass having checked nothing.
    if (!v.module) fail(`cannot build Istio ${m} here, so its goldens cannot be checked: ${v.unavailable}; buildable: ${buildableMinors().join(', ')}`);
  }
  const newest = buildableMinors().at(-1)!;
  return { minors: [...new Set(minors.map((m) => (m === 'NEWEST' ? newest : m)))], check: values.check === true, json: values.json === true };
}

async function goAvailable(): Promise<boolean> {
  return (await findExecutable('go', process.env)) !== null;
}

// go build runs in its own process group (so it can be stopped whole): Ctrl-C reaches it through this signal.
const interrupt = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new Error(sig));
  });
}

async function goldensFor(binary: string, v: OracleVersion, state: BedState): Promise<Map<string, GoldenDump>> {
  const clients = clientWorkloads();
  const input = await oracleInput(state, oracleIstioVersion(v), clients);
  const output = await runOracle(binary, v.minor, JSON.stringify(input), { ...state.pilotEnv }, process.env, interrupt.signal);
  const pods = (await bedModel(state.extras)).pods;
  const out = new Map<string, GoldenDump>();
  for (const w of clients) {
    const pod = clientPod(pods, w);
    const dump = output.dumps[`${pod.name}.${pod.namespace}`];
    if (!dump) throw new Error(`oracle printed no dump for ${pod.name}.${pod.namespace}`);
    out.set(goldenPath(v.minor, state.id, w), {
      podpath_oracle: { ...output.record, minor: v.minor, release: v.release, state: state.id, pilotEnv: { ...state.pilotEnv }, client: `${pod.name}.${pod.namespace}` },
      configs: dump.configs,
    });
  }
  return out;
}

function comparable(g: GoldenDump): string {
  return JSON.stringify({ ...g, podpath_oracle: { ...g.podpath_oracle, goVersion: '' } });
}

async function oneVersion(generator: OracleGenerator, v: OracleVersion, check: boolean): Promise<VersionResult> {
  if (!v.module) return { minor: v.minor, status: 'skipped', reason: v.unavailable };
  // force: go build runs every time (seconds with warm Go caches), so the goldens come from the committed go.mod/go.sum, not an older binary.
  const built = await generator.build(v.minor, { force: true, signal: interrupt.signal, onProgress: (line) => process.stderr.write(`oracle: ${line}\n`) });
  const started = performance.now();
  const wanted = new Map<string, GoldenDump>();
  for (const state of bedStates()) for (const [file, g] of await goldensFor(built.binary, v, state)) wanted.set(file, g);
  const generateSeconds = (performance.now() - started) / 1000;
  const existing = new Set(listGoldens().filter((g) => g.minor === v.minor).map((g) => goldenPath(g.minor, g.state, g.client)));
  const differences: string[] = [];
  for (const [file, g] of wanted) {
    const rel = path.relative(ORACLE_DIR, file);
    if (!existsSync(file)) differences.push(`${rel}: missing`);
    else if (comparable(decodeGolden(readFileSync(file))) !== comparable(g)) differences.push(`${rel}: differs`);
    if (!check) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, encodeGolden(g));
    }
  }
  for (const file of existing) {
    if (wanted.has(file)) continue;
    differences.push(`${path.relative(ORACLE_DIR, file)}: no longer a bed state`);
    if (!check) rmSync(file);
  }
  return {
    minor: v.minor,
    status: check && differences.length ? 'differs' : 'ok',
    buildSeconds: Math.round(built.seconds * 10) / 10,
    generateSeconds: Math.round(generateSeconds * 10) / 10,
    binaryBytes: built.bytes,
    goldens: wanted.size,
    differences,
  };
}

async function main(): Promise<void> {
  const { minors, check, json } = parse();
  if (!(await goAvailable())) fail('`go` is not on PATH: the oracle builds istiod code with Go (see oracle/README.md)');
  const generator = createOracleGenerator();
  const results: VersionResult[] = [];
  for (const minor of minors) {
    const v = oracleVersion(minor)!;
    try {
      const r = await oneVersion(generator, v, check);
      results.push(r);
      if (!json) {
        if (r.status === 'skipped') process.stdout.write(`skip ${minor}: ${r.reason}\n`);
        else {
          process.stdout.write(`${minor}: ${r.goldens} goldens, build ${r.buildSeconds}s, generate ${r.generateSeconds}s, binary ${((r.binaryBytes ?? 0) / 1e6).toFixed(0)} MB${check ? (r.differences?.length ? `, ${r.differences.length} differ` : ', all match') : ', written'}\n`);
          for (const d of check ? r.differences ?? [] : []) process.stdout.write(`  ${d}\n`);
        }
      }
    } catch (error) {
      if (error instanceof InterruptedError) fail(error.shortMessage, 130);
      results.push({ minor, status: 'failed', reason: (error as Error).message });
      if (!json) process.stderr.write(`oracle ${minor}: ${(error as Error).message}\n`);
    }
  }
  if (json) process.stdout.write(`${JSON.stringify({ goldens: path.relative(process.cwd(), GOLDENS_DIR), check, results }, null, 2)}\n`);
  if (results.some((r) => r.status === 'failed')) process.exitCode = 2;
  else if (results.some((r) => r.status === 'differs')) process.exitCode = 1;
}

await main();
