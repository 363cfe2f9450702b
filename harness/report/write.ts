/**
 * Writes results/<run-id>/ all at once: everything goes into a hidden temp sibling first and
 * is renamed into place at the end, so a reader (CI upload, `podpath report`, a concurrent
 * run) sees either a complete run directory or none, and an existing one is never touched.
 */
import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { EnvironmentError, UsageError } from '../errors/index.ts';
import { REPORT_SCHEMA_VERSION, type RunReport } from './schema.ts';
import { renderJunit } from './junit.ts';
import { renderSummaryMarkdown } from './markdown.ts';
import { renderHtmlReport } from './html.ts';
import { redact, redactValue, type RedactionCounts } from './redact.ts';

/** The run directory already exists: podpath never overwrites a finished run. */
export class RunResultsExistError extends EnvironmentError {}

export interface WriteOptions {
  /** Where GITHUB_STEP_SUMMARY is read from; pass the CLI's io.env (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Test seam: runs after every file is in the temp dir, before the rename. */
  beforeCommit?: (tempDir: string) => Promise<void>;
}

export const RESULT_FILES = ['report.json', 'junit.xml', 'summary.md', 'report.html', 'bundle.tar.gz'] as const;

/** Evidence keys are paths relative to the run dir; anything not already under evidence/ goes there. */
export function evidencePath(key: string): string {
  const normalized = path.posix.normalize(key.replaceAll('\\', '/'));
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../') || normalized === '.' || normalized === '') {
    throw new UsageError(`evidence path '${key}' must be a relative path inside the run directory`);
  }
  const full = normalized.startsWith('evidence/') ? normalized : `evidence/${normalized}`;
  if ((RESULT_FILES as readonly string[]).includes(full)) throw new UsageError(`evidence path '${key}' collides with ${full}`);
  return full;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function existsError(runDir: string): RunResultsExistError {
  return new RunResultsExistError(`results directory ${runDir} already exists; podpath never overwrites a run`, {
    hint: 'Use a new run id (podpath run makes one per run) or another --results directory.',
  });
}

/**
 * Writes report.json, junit.xml, summary.md, report.html, evidence/* and bundle.tar.gz under runDir, with
 * secrets redacted in every file (the directory is uploaded as a CI artifact as-is), then
 * appends summary.md to $GITHUB_STEP_SUMMARY when that is set.
 */
export async function writeRunResults(runDir: string, report: RunReport, evidence: Map<string, string>, options: WriteOptions = {}): Promise<RedactionCounts> {
  if (report.schemaVersion !== REPORT_SCHEMA_VERSION) throw new UsageError(`writeRunResults: report schema version ${String(report.schemaVersion)} is not ${REPORT_SCHEMA_VERSION}`);
  const finalDir = path.resolve(runDir);
  const parent = path.dirname(finalDir);
  const name = path.basename(finalDir);
  if (await exists(finalDir)) throw existsError(finalDir);
  // Validate every evidence path before touching the disk.
  const files = [...evidence].map(([key, content]) => [evidencePath(key), content] as const);

  await mkdir(parent, { recursive: true });
  const temp = path.join(parent, `.tmp-${name}-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  try {
    // Counted so the user learns what was taken out before attaching the bundle anywhere.
    const counts: RedactionCounts = new Map();
    const safe = redactValue(report, counts);
    await writeFile(path.join(temp, 'report.json'), JSON.stringify(safe, null, 2) + '\n');
    await writeFile(path.join(temp, 'junit.xml'), renderJunit(safe));
    const summary = renderSummaryMarkdown(safe);
    await writeFile(path.join(temp, 'summary.md'), summary);
    await writeFile(path.join(temp, 'report.html'), renderHtmlReport(safe));
    for (const [relative, content] of files) {
      const target = path.join(temp, ...relative.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, redact(content, counts));
    }
    const entries = ['report.json', 'junit.xml', 'summary.md', 'report.html', ...(files.length ? ['evidence'] : [])];
    // Entries are prefixed with the run id so the bundle unpacks into its own folder; portable drops uid/user names.
    await createTar({ gzip: true, file: path.join(temp, 'bundle.tar.gz'), cwd: temp, prefix: name, portable: true }, entries);
    if (options.beforeCommit) await options.beforeCommit(temp);
    if (await exists(finalDir)) throw existsError(finalDir);
    await rename(temp, finalDir).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw existsError(finalDir);
      throw error;
    });
    const stepSummary = (options.env ?? process.env).GITHUB_STEP_SUMMARY;
    if (stepSummary) {
      await appendFile(stepSummary, summary + '\n').catch((error: unknown) => {
        throw new EnvironmentError(`results written to ${finalDir}, but appending summary.md to GITHUB_STEP_SUMMARY (${stepSummary}) failed`, { cause: error });
      });
    }
    return counts;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
