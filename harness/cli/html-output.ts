/**
 * Where `--format html` goes: stdout, or the file --out names. Links from the page to a run's
 * report.html are relative to where the page ends up, so a matrix written beside results/
 * keeps working when the folder is uploaded or opened from file://.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors/index.ts';
import { write, type Io } from './output.ts';

/** The directory the page will live in: --out's directory, else the cwd (stdout is usually redirected there). */
export function pageDir(io: Io, out: string | undefined): string {
  return out ? path.dirname(path.resolve(io.cwd, out)) : io.cwd;
}

/** A URL path from the page to the run folder ("." when the page is inside it). */
export function runDirHref(io: Io, out: string | undefined, runDir: string): string {
  return path.relative(pageDir(io, out), runDir).split(path.sep).join('/') || '.';
}

/** A URL path from the page to runDir/report.html, with forward slashes on every platform. */
export function runReportHref(io: Io, out: string | undefined, runDir: string): string {
  const relative = path.relative(pageDir(io, out), path.join(runDir, 'report.html'));
  return relative.split(path.sep).join('/');
}

export async function emitHtml(io: Io, out: string | undefined, html: string): Promise<void> {
  if (!out) return write(io.stdout, html);
  const file = path.resolve(io.cwd, out);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, html);
  } catch (error) {
    throw new EnvironmentError(`could not write ${out}: ${error instanceof Error ? error.message : String(error)}`, { hint: 'Pick a writable path for --out.', cause: error });
  }
  await write(io.stderr, `wrote ${out}\n`);
}
