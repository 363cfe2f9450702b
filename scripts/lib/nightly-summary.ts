/**
 * Merges the results of a nightly that ran as a CI matrix (one job per Istio version, each
 * uploading its own results/nightly-STAMP/) into one combined summary, the same table a single
 * `scripts/nightly.ts` run writes. A version that uploaded nothing is listed as failed.
 */
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from '../../harness/cli/output.ts';
import { write } from '../../harness/cli/output.ts';
import { readReport, type ReportDiff } from '../../harness/report/index.ts';
import { isPodpathError } from '../../harness/errors/index.ts';
import { splitList, usage } from './args.ts';
import { renderCombinedSummary, versionFailed, type VersionResult } from './nightly.ts';

export const NIGHTLY_SUMMARY_HELP = `Usage: npx node scripts/nightly-summary.ts DIR... [options]

Finds every nightly.json that scripts/nightly.ts wrote under DIR (e.g. the downloaded artifacts
of a CI matrix, one job per Istio version), reads each version's report.json, and writes one
combined summary (Markdown). Also appended to $GITHUB_STEP_SUMMARY when set.

Options:
  --istio V[,V...]   the versions the matrix ran (as given to --istio); one missing from DIR is
                     listed as failed ("no results"), so a crashed job cannot pass unseen
  --out FILE         where to write the summary (default: DIR/summary.md for the first DIR)
  -h, --help         show this help

Exit codes: 0 every version passed, 1 a version failed or has no results, 2 usage error.
`;

export interface SummaryOptions {
  dirs: string[];
  istio: string[];
  out: string | null;
  help: boolean;
}

export function parseSummaryArgs(args: string[]): SummaryOptions {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { istio: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw usage('nightly-summary', error instanceof Error ? error.message.split('. ')[0] : String(error));
  }
  const help = parsed.values.help ?? false;
  if (!help && parsed.positionals.length === 0) throw usage('nightly-summary', 'name at least one directory to read');
  // The matrix list arrives as JSON from the workflow (["1.29","1.30"]) or as a plain list.
  const istio = (parsed.values.istio ?? []).flatMap((value) => {
    if (!value.trim().startsWith('[')) return splitList(value);
    let list: unknown;
    try {
      list = JSON.parse(value);
    } catch {
      throw usage('nightly-summary', `--istio: '${value}' is neither a list like 1.29,1.30 nor a JSON array`);
    }
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw usage('nightly-summary', `--istio: '${value}' is not a JSON array of strings`);
    return list.map((v: string) => v.trim()).filter(Boolean);
  });
  return { dirs: parsed.positionals, istio, out: parsed.values.out ?? null, help };
}

interface NightlyFile {
  stamp: string;
  results: { spec: string; version: string; error: string | null; diff: ReportDiff | null }[];
}

async function findNightlyFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    throw usage('nightly-summary', `cannot read ${dir} (${error instanceof Error ? error.message : String(error)})`);
  });
  return entries.filter((e) => e.isFile() && e.name === 'nightly.json').map((e) => path.join(e.parentPath, e.name)).sort();
}

/** The newest finished run under a version's results dir (run ids sort by time). */
async function latestRun(dir: string): Promise<string | null> {
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const name of names.reverse()) {
    if (await readFile(path.join(dir, name, 'report.json')).then(() => true, () => false)) return path.join(dir, name);
  }
  return null;
}

export async function collectResults(files: string[]): Promise<{ stamps: string[]; results: VersionResult[] }> {
  const stamps: string[] = [];
  const results: VersionResult[] = [];
  for (const file of files) {
    const nightly = JSON.parse(await readFile(file, 'utf8')) as NightlyFile;
    stamps.push(nightly.stamp);
    for (const entry of nightly.results) {
      const resultsDir = path.join(path.dirname(file), `istio-${entry.version}`);
      const result: VersionResult = { spec: entry.spec, version: entry.version, resultsDir, report: null, runDir: null, error: entry.error, diff: entry.diff ?? null };
      if (!result.error) {
        const runDir = await latestRun(resultsDir);
        if (!runDir) result.error = `no report.json under ${path.basename(path.dirname(file))}/istio-${entry.version}`;
        else {
          try {
            result.report = (await readReport(runDir)).report;
            result.runDir = runDir;
          } catch (error) {
            result.error = isPodpathError(error) ? error.shortMessage : String(error);
          }
        }
      }
      results.push(result);
    }
  }
  return { stamps, results };
}

function byVersionDesc(a: VersionResult, b: VersionResult): number {
  const pa = a.version.split('.').map(Number);
  const pb = b.version.split('.').map(Number);
  return pb[0] - pa[0] || pb[1] - pa[1] || (pb[2] ?? 0) - (pa[2] ?? 0);
}

export async function runNightlySummary(options: SummaryOptions, io: Io): Promise<number> {
  const dirs = options.dirs.map((d) => path.resolve(io.cwd, d));
  const files = (await Promise.all(dirs.map(findNightlyFiles))).flat();
  const { stamps, results } = await collectResults(files);
  const ordered = [...results].sort(byVersionDesc);
  for (const spec of options.istio) {
    if (!results.some((r) => r.spec === spec || r.version === spec)) {
      ordered.push({ spec, version: spec, resultsDir: '', report: null, runDir: null, error: 'no results uploaded: the job failed before writing them, or was cancelled', diff: null });
    }
  }
  if (ordered.length === 0) {
    await write(io.stderr, `nightly-summary: no nightly.json under ${options.dirs.join(', ')}\n`);
    return 1;
  }
  const stamp = stamps.sort()[0] ?? 'unknown';
  const summary = renderCombinedSummary(stamps.length > 1 ? `${stamp} (${stamps.length} jobs)` : stamp, ordered, dirs[0]);
  const out = path.resolve(io.cwd, options.out ?? path.join(dirs[0], 'summary.md'));
  await writeFile(out, summary);
  if (io.env.GITHUB_STEP_SUMMARY) await appendFile(io.env.GITHUB_STEP_SUMMARY, `${summary}\n`);
  await write(io.stdout, summary);
  return ordered.some(versionFailed) ? 1 : 0;
}
