/**
 * The nightly flow: every supported Istio version, one runSuite (and so one cluster and one
 * results dir) per version, then one combined summary. Exit 1 if any version failed.
 */
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from '../../harness/cli/output.ts';
import { write } from '../../harness/cli/output.ts';
import { countStatuses, diffReports, formatTotals, readReport, renderDiff, renderHtmlMatrix, type ReportDiff, type RunReport } from '../../harness/report/index.ts';
import { isPodpathError } from '../../harness/errors/index.ts';
import { flowStamp, splitList, usage } from './args.ts';
import { ranOrThrow, type ResolveIstio, type RunSuite } from './deps.ts';

export const NIGHTLY_HELP = `Usage: npx zx scripts/nightly.ts [options]

Runs the scenario suite once per supported Istio version (one kind cluster each, sequentially),
writes each run to RESULTS/nightly-STAMP/istio-VERSION/<run-id>/ and a combined summary to
RESULTS/nightly-STAMP/summary.md (also appended to $GITHUB_STEP_SUMMARY when set).

Options:
  --istio V[,V...]     versions to run (default: every minor podpath supports, latest patch)
  --scenario REGEX     run only matching scenarios (repeatable; !REGEX excludes)
  --results DIR        results root (default: results)
  --baseline DIR       an earlier nightly-STAMP dir: diff each version against it, regressions fail
  --repeat N           run everything N times and mark disagreements flaky (default 1)
  --log-encoding E     text or json sidecar access logs (default text)
  --dry-run            print the plan of every run, touch nothing
  -h, --help           show this help

Exit codes: 0 every version passed, 1 a scenario failed, a version could not run, or a
regression against --baseline, 2 usage error.
`;

export interface NightlyOptions {
  istio: string[];
  scenarios: string[];
  resultsRoot: string;
  baseline: string | null;
  repeat: number;
  logEncoding: 'text' | 'json';
  dryRun: boolean;
  help: boolean;
}

export function parseNightlyArgs(args: string[], supported: () => string[]): NightlyOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        istio: { type: 'string', multiple: true },
        scenario: { type: 'string', multiple: true },
        results: { type: 'string' },
        baseline: { type: 'string' },
        repeat: { type: 'string' },
        'log-encoding': { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw usage('nightly', error instanceof Error ? error.message.split('. ')[0] : String(error));
  }
  const v = parsed.values;
  const repeat = v.repeat === undefined ? 1 : Number(v.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw usage('nightly', `--repeat needs a whole number >= 1, not '${v.repeat}'`);
  const logEncoding = v['log-encoding'] ?? 'text';
  if (logEncoding !== 'text' && logEncoding !== 'json') throw usage('nightly', `--log-encoding is text or json, not '${logEncoding}'`);
  const istio = splitList(v.istio);
  return {
    istio: v.help ? istio : istio.length ? istio : supported(),
    scenarios: v.scenario ?? [],
    resultsRoot: v.results ?? 'results',
    baseline: v.baseline ?? null,
    repeat,
    logEncoding,
    dryRun: v['dry-run'] ?? false,
    help: v.help ?? false,
  };
}

export interface VersionResult {
  spec: string;
  version: string;
  resultsDir: string;
  report: RunReport | null;
  runDir: string | null;
  error: string | null;
  diff: ReportDiff | null;
}

export function versionFailed(result: VersionResult): boolean {
  if (result.error || !result.report) return true;
  if (result.report.run.interrupted) return true;
  if ((result.diff?.counts.regression ?? 0) > 0) return true;
  return countStatuses(result.report.targets.flatMap((t) => t.scenarios)).failed > 0;
}

/** The one-page overview across versions; each version's own summary.md has the details. */
export function renderCombinedSummary(stamp: string, results: VersionResult[], root: string): string {
  const failed = results.filter(versionFailed);
  const lines = [
    `# podpath nightly ${stamp}`,
    '',
    failed.length ? `❌ **${failed.length} of ${results.length} Istio versions failed**` : `✅ **all ${results.length} Istio versions passed**`,
    '',
    '| Istio | result | passed | failed | skipped | flaky | observed | regressions | run |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const c = r.report ? countStatuses(r.report.targets.flatMap((t) => t.scenarios)) : null;
    const result = r.error ? `💥 ${r.error.replace(/\|/g, '\\|').replace(/\n/g, ' ')}` : versionFailed(r) ? '❌ failed' : '✅ passed';
    const run = r.runDir ? `\`${path.relative(root, r.runDir)}\`` : '-';
    const regressions = r.diff ? String(r.diff.counts.regression) : '-';
    lines.push(c ? `| ${r.version} | ${result} | ${c.passed} | ${c.failed} | ${c.skipped} | ${c.flaky} | ${c.observed} | ${regressions} | ${run} |` : `| ${r.version} | ${result} | - | - | - | - | - | - | - |`);
  }
  const diffs = results.filter((r) => r.diff && r.diff.entries.length > 0);
  if (diffs.length) {
    lines.push('', '## Changes against the baseline', '');
    for (const r of diffs) lines.push(`### Istio ${r.version}`, '', '```text', renderDiff(r.diff!).trimEnd(), '```', '');
  }
  return lines.join('\n').trimEnd() + '\n';
}

async function baselineFor(baseline: string, version: string, io: Io): Promise<RunReport | null> {
  const dir = path.resolve(io.cwd, baseline, `istio-${version}`);
  const runs = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
  const latest = runs.at(-1);
  if (!latest) return null;
  return (await readReport(path.join(dir, latest), io.cwd)).report;
}

export interface NightlyDeps {
  runSuite: RunSuite;
  resolveIstio: ResolveIstio;
  now: () => Date;
}

export async function runNightly(options: NightlyOptions, deps: NightlyDeps, io: Io): Promise<number> {
  const stamp = flowStamp(deps.now());
  const root = path.resolve(io.cwd, options.resultsRoot, `nightly-${stamp}`);
  // Resolve every version first: a typo fails in a second, not after an hour of clusters.
  const versions = options.istio.map((spec) => ({ spec, version: deps.resolveIstio(spec).version }));
  await write(io.stdout, `nightly ${stamp}: Istio ${versions.map((v) => v.version).join(', ')}${options.dryRun ? ' (dry run)' : ''}\n`);

  const results: VersionResult[] = [];
  let interrupted = false;
  for (const { spec, version } of versions) {
    const resultsDir = path.join(root, `istio-${version}`);
    await write(io.stdout, `\n== Istio ${version} → ${path.relative(io.cwd, resultsDir)}\n`);
    const result: VersionResult = { spec, version, resultsDir, report: null, runDir: null, error: null, diff: null };
    try {
      const { report, runDir } = ranOrThrow(await deps.runSuite(
        { scenarios: options.scenarios, istio: [version], reuse: false, keep: false, pauseOnFailure: false, repeat: options.repeat, concurrency: 1, resultsDir, dryRun: options.dryRun, logEncoding: options.logEncoding, argv: ['nightly-flow', '--istio', version] },
        io,
      ));
      result.report = report;
      result.runDir = runDir;
      if (options.baseline) {
        const before = await baselineFor(options.baseline, version, io);
        if (before) result.diff = diffReports(before, report);
        else await write(io.stdout, `no baseline run for Istio ${version} under ${options.baseline}: not diffed\n`);
      }
      await write(io.stdout, `Istio ${version}: ${formatTotals(countStatuses(report.targets.flatMap((t) => t.scenarios)))}\n`);
    } catch (error) {
      // One broken version (e.g. its cluster did not come up) must not hide the others' results.
      result.error = error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
      await write(io.stderr, `Istio ${version}: could not run: ${result.error}\n`);
      if (isPodpathError(error) && error.exitCode === 130) interrupted = true;
    }
    results.push(result);
    if (result.report?.run.interrupted) interrupted = true;
    // Ctrl-C stops the matrix; what finished so far is still summarised below.
    if (interrupted) break;
  }

  const summary = renderCombinedSummary(stamp, results, root);
  if (options.dryRun) {
    await write(io.stdout, `\n(dry run: would write ${path.join(root, 'summary.md')})\n`);
  } else {
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'summary.md'), summary);
    // Scenarios x versions, each cell linking into that version's report.html (relative, so the uploaded folder works).
    const ran = results.flatMap((r) => (r.report && r.runDir ? [{ report: r.report, href: `${path.relative(root, r.runDir).split(path.sep).join('/')}/report.html` }] : []));
    await writeFile(path.join(root, 'matrix.html'), renderHtmlMatrix(ran));
    await writeFile(path.join(root, 'nightly.json'), JSON.stringify({ stamp, results: results.map(({ report, ...r }) => ({ ...r, totals: report ? countStatuses(report.targets.flatMap((t) => t.scenarios)) : null })) }, null, 2) + '\n');
    if (io.env.GITHUB_STEP_SUMMARY) await appendFile(io.env.GITHUB_STEP_SUMMARY, summary + '\n');
  }
  await write(io.stdout, '\n' + summary);
  if (interrupted) return 130;
  return results.some(versionFailed) || results.length < versions.length ? 1 : 0;
}
